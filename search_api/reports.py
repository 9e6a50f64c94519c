"""The search-term report: for a list of queries, what each one finds — the figures behind a
section 12 cost estimate and behind "we searched everywhere".

Per query: `hits`; `unique_hits`, the items no other query in the list finds; `hits_with_families`,
the hits plus every other member of their families (the parent email and all attachments, which
a reviewer must read with them); and hits per custodian and per record. A last row, `total`,
covers items found by any query. Every figure is an OpenSearch count, never set arithmetic over
ids in Python, so the report costs the same for ten hits or ten million:

- unique hits of query i = count(q_i AND NOT (q_1 OR … OR q_n without q_i))
- hits with families = Σ over pages of the hits' distinct family_ids (a composite aggregation)
  of count(family_id IN page). Families are disjoint, so the sum is exact.

The search filters (custodian, record, dates, …) narrow the hits; family members are counted
whatever the filters say, because a produced attachment travels with its email. The caller's
scope (search_api.scope) is different: it confines every count, family members included.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from pydantic import Field, ValidationError

from search_api.exports import spreadsheet_safe
from search_api.inputs import ApiModel
from search_api.query import QuerySyntaxError, parse
from search_api.query_fields import to_dsl, too_big_for_opensearch
from search_api.query_tree import Node
from search_api.scope import EVERYTHING, Scope, scoped
from search_api.search import SearchRequest, filter_clauses

MAX_QUERIES = 100
FAMILY_PAGE = 5000  # family ids per composite-aggregation page (well under index.max_terms_count)
MSEARCH_BATCH = 20
NOT_FILTERS = {"q", "size", "offset", "sort", "cursor", "expand", "collapse_duplicates"}
BREAKDOWNS = ("custodian", "record")
BREAKDOWN_SIZE = 1000


class ReportQueryError(QuerySyntaxError):
    """A malformed query in the list: the 400 says which one (`query`, 0-based) and where."""

    def __init__(self, index: int, error: QuerySyntaxError):
        super().__init__(f"query {index + 1}: {error.detail}", error.position, error.hint)
        self.query_index = index

    def to_body(self) -> dict[str, Any]:
        return {**super().to_body(), "query": self.query_index}


class _CountFailed(RuntimeError):
    def __init__(self, number: int, reason: str):
        super().__init__(f"report count {number} failed: {reason}")
        self.number, self.reason = number, reason


class TermsReportRequest(ApiModel):
    """POST /api/v1/reports/terms: the queries (one per search term) and the search filters."""

    queries: list[str] = Field(min_length=1, max_length=MAX_QUERIES)
    filters: dict[str, Any] = Field(default_factory=dict, description="custodian, record, date_from, ... as in GET /search")


def filters_request(filters: dict[str, Any]) -> SearchRequest:
    """A SearchRequest carrying only `filters`; ValueError names an unknown or invalid filter."""
    allowed = set(SearchRequest.model_fields) - NOT_FILTERS
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise ValueError(f"unknown filter(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
    try:
        return SearchRequest(**filters)
    except ValidationError as exc:
        raise ValueError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from exc


def terms_report(client: OpenSearch, index: str, queries: list[str], filters: SearchRequest,
                 scope: Scope = EVERYTHING) -> dict[str, Any]:
    """The report as a JSON-able dict: {generated_at, filters, queries: [row...], total: row}; every figure within `scope`."""
    trees, dsls = [], []
    for number, text in enumerate(queries):
        try:
            trees.append(parse(text))
        except QuerySyntaxError as exc:
            raise ReportQueryError(number, exc) from None
        dsls.append(to_dsl(trees[-1]))
    narrowing = filter_clauses(filters) + list(scope)

    def where(must: list[dict[str, Any]], must_not: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"bool": {"must": must, "must_not": must_not or [], "filter": narrowing}}

    any_query = {"bool": {"should": dsls, "minimum_should_match": 1}}
    searches = [where([dsl]) for dsl in dsls] + [where([any_query])]
    try:
        counted = _counts(client, index, searches, breakdowns=True)
    except _CountFailed as failure:
        raise _answer(failure, trees[failure.number] if failure.number < len(trees) else None) from None
    try:
        uniques = _counts(client, index, [where([dsl], [{"bool": {"should": others, "minimum_should_match": 1}}]) if others else where([dsl])
                                          for dsl, others in ((dsl, dsls[:i] + dsls[i + 1:]) for i, dsl in enumerate(dsls))])
    except _CountFailed as failure:  # a unique count ORs every other query: no one query is to blame
        raise _answer(failure, None) from None
    rows = []
    for number, text in enumerate(queries):
        hits, by_custodian, by_record = counted[number]
        rows.append({"query": text, "hits": hits, "unique_hits": uniques[number][0],
                     "hits_with_families": family_count(client, index, searches[number], scope) if hits else 0,
                     "by_custodian": by_custodian, "by_record": by_record})
    hits, by_custodian, by_record = counted[-1]
    total = {"query": "(any of the above)", "hits": hits, "unique_hits": None,
             "hits_with_families": family_count(client, index, searches[-1], scope) if hits else 0,
             "by_custodian": by_custodian, "by_record": by_record}
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "filters": filters.model_dump(mode="json", exclude=NOT_FILTERS, exclude_defaults=True),
        "queries": rows,
        "total": total,
    }


def _answer(failure: _CountFailed, tree: Node | None) -> Exception:
    """What to raise for a failed count: a 400 when the query (`tree`, or the queries combined when None)
    was too large for OpenSearch, else the failure itself."""
    error = too_big_for_opensearch(failure.reason, tree)
    if error is None:
        return failure
    if tree is not None:
        return ReportQueryError(failure.number, error)
    return QuerySyntaxError("the queries together are too large to count as one search (the total and unique-hit "
                            "figures combine them)", 0, "use fewer or shorter queries, or split the list into several reports")


def _counts(client: OpenSearch, index: str, queries: list[dict[str, Any]], breakdowns: bool = False) -> list[tuple[int, dict, dict]]:
    """(total, per custodian, per record) for each query, through _msearch in batches."""
    results: list[tuple[int, dict, dict]] = []
    for start in range(0, len(queries), MSEARCH_BATCH):
        lines: list[dict[str, Any]] = []
        for query in queries[start:start + MSEARCH_BATCH]:
            body: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": query}
            if breakdowns:
                body["aggs"] = {name: {"terms": {"field": name, "size": BREAKDOWN_SIZE}} for name in BREAKDOWNS}
            lines += [{"index": index}, body]
        for response in client.msearch(body=lines)["responses"]:
            if "error" in response:
                raise _CountFailed(len(results), json.dumps(response["error"]))
            aggs = response.get("aggregations", {})
            split = [{b["key"]: b["doc_count"] for b in aggs.get(name, {}).get("buckets", [])} for name in BREAKDOWNS]
            results.append((response["hits"]["total"]["value"], *split))
    return results


def family_count(client: OpenSearch, index: str, query: dict[str, Any], scope: Scope = EVERYTHING) -> int:
    """How many items in `scope` are in the families of the items matching `query` (hits included)."""
    total = 0
    for family_ids in _family_pages(client, index, query):
        response = client.count(index=index, body={"query": scoped({"terms": {"family_id": family_ids}}, scope)})
        total += response["count"]
    return total


def _family_pages(client: OpenSearch, index: str, query: dict[str, Any]) -> Iterator[list[str]]:
    after: dict[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {"size": FAMILY_PAGE, "sources": [{"family": {"terms": {"field": "family_id"}}}]}
        if after:
            composite["after"] = after
        response = client.search(index=index, body={"size": 0, "query": query, "aggs": {"families": {"composite": composite}}})
        aggregation = response["aggregations"]["families"]
        family_ids = [bucket["key"]["family"] for bucket in aggregation["buckets"]]
        if family_ids:
            yield family_ids
        after = aggregation.get("after_key")
        if len(family_ids) < FAMILY_PAGE or not after:
            return


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: one row per query and a last `total` row; one column per custodian and record."""
    rows = [*report["queries"], report["total"]]
    custodians = sorted({name for row in rows for name in row["by_custodian"]})
    records = sorted({name for row in rows for name in row["by_record"]})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["query", "hits", "unique_hits", "hits_with_families",
                     *(spreadsheet_safe(f"custodian:{c}") for c in custodians), *(f"record:{r}" for r in records)])
    for row in rows:
        writer.writerow([spreadsheet_safe(row["query"]), row["hits"], "" if row["unique_hits"] is None else row["unique_hits"], row["hits_with_families"],
                         *(row["by_custodian"].get(c, 0) for c in custodians), *(row["by_record"].get(r, 0) for r in records)])
    return out.getvalue()
