"""Search over the items index: request → OpenSearch DSL → the API's response body.

Used by the HTTP route and by `lantern search`, so both give the same answer. The query text
is Lantern's query language (`search_api.query` parses it into a tree, malformed text raises
QuerySyntaxError → 400; `search_api.query_fields` translates the tree); sort orders and cursor
paging live in `search_api.paging`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from opensearchpy import OpenSearch
from pydantic import BaseModel, Field, create_model, model_validator

from indexer.model import FIELDS, IndexedField
from search_api import paging
from search_api.disclosure import confine
from search_api.limits import Snapshots
from search_api.families import attach_families
from search_api.query import parse
from search_api.query_fields import highlight_dsl, to_dsl
from search_api.scope import EVERYTHING, Scope, scoped

FILTERS = tuple(f for f in FIELDS if f.spec.filter)
FACETS = tuple(f.name for f in FIELDS if f.spec.facet)
HIT_FIELDS = [f.name for f in FIELDS if f.spec.hit]
HIGHLIGHT_FIELDS = ("subject", "body", "file_name")
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
MAX_WINDOW = 10_000


class _SearchRules(BaseModel):
    """The checks a search must pass beyond each field's own (SearchRequest's fields are generated below)."""

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def _consistent(self) -> "_SearchRules":
        for field in FILTERS:
            allowed = field.spec.values
            for value in getattr(self, field.name) if allowed else ():
                if value not in allowed:
                    raise ValueError(f"{field.name} must be {' or '.join(map(repr, allowed))}, not {value!r}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        if self.offset + self.size > MAX_WINDOW:
            raise ValueError(f"from + size must be at most {MAX_WINDOW}; page further with cursor=start instead")
        if self.cursor and (self.offset or self.collapse_duplicates):
            raise ValueError("cursor paging cannot be combined with from or collapse_duplicates")
        return self


def _filter_field(field: IndexedField) -> tuple[Any, Any]:
    spec = field.spec
    if spec.filter == "flag":
        return bool | None, Field(None, description=spec.help)
    return list[str], Field(default_factory=list, description=spec.help)


SearchRequest = create_model(
    "SearchRequest",
    __base__=_SearchRules,
    __doc__="A search: text, filters and a page. Invalid values raise pydantic's ValidationError (→ 422). "
            "The filters are the item fields declared as filters (indexer.model.FIELDS).",
    q=(str, Field("", max_length=4000, description="query text; empty means everything, newest first")),
    **{field.name: _filter_field(field) for field in FILTERS},
    date_from=(date | None, Field(None, description="YYYY-MM-DD, inclusive")),
    date_to=(date | None, Field(None, description="YYYY-MM-DD, inclusive")),
    collapse_duplicates=(bool, Field(False, description="one hit per dup_group (exact duplicates across custodians)")),
    size=(int, Field(20, ge=0, le=100)),
    offset=(int, Field(0, ge=0, le=MAX_WINDOW, alias="from")),
    sort=(Literal["relevance", "date_desc", "date_asc"] | None, Field(None, description="default: relevance with q, else date_desc")),
    cursor=(str | None, Field(None, max_length=8192, description="'start' to page with a point in time, then each next_cursor")),
    expand=(Literal["families"] | None, Field(None, description="'families': each hit with its family (parent, attachments)")),
)


def described_fields() -> dict[str, list[dict[str, Any]]]:
    """The filters a search takes and the facets it returns, as a UI shows them (name, kind, values, label)."""
    return {
        "filters": [{"name": f.name, "filter": f.spec.filter, "values": list(f.spec.values), "help": f.spec.help} for f in FILTERS],
        "facets": [{"name": f.name, "label": f.spec.label or f.name} for f in FIELDS if f.spec.facet],
    }


def _filters(request: SearchRequest) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    for field in FILTERS:
        value = getattr(request, field.name)
        if field.spec.filter == "flag":
            if value is not None:
                filters.append({"term": {field.name: True}} if value else {"bool": {"must_not": [{"term": {field.name: True}}]}})
        elif value:
            filters.append({"terms": {field.name: value}})
    if request.date_from or request.date_to:
        bounds: dict[str, str] = {}
        if request.date_from:
            bounds["gte"] = request.date_from.isoformat()
        if request.date_to:
            bounds["lte"] = request.date_to.isoformat()
        filters.append({"range": {"date": bounds}})
    return filters


def filter_clauses(request: SearchRequest) -> list[dict[str, Any]]:
    """The filter clauses of `request` (everything but `q`), for reports and exports that reuse them."""
    return _filters(request)


def build_body(request: SearchRequest, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """The OpenSearch request body for `request`, confined to `scope` (hits, totals and facets alike).

    Within a scope every hit scores the same: relevance scores use term statistics of the whole
    index, so they would tell a scoped caller how many items outside the scope hold a word.
    Relevance order is then newest first (the sort's next keys)."""
    tree = parse(request.q)
    must = to_dsl(tree)
    if scope:
        must = {"constant_score": {"filter": must}}
    body: dict[str, Any] = {
        "query": {"bool": {"must": [must], "filter": _filters(request) + list(scope)}},
        "from": request.offset,
        "size": request.size,
        "track_total_hits": True,
        "_source": HIT_FIELDS,
        "aggs": {name: {"terms": {"field": name, "size": 50}} for name in FACETS},
    }
    body["aggs"]["month"] = {"date_histogram": {"field": "date", "calendar_interval": "month", "format": "yyyy-MM", "min_doc_count": 1}}
    if request.collapse_duplicates:
        body["collapse"] = {"field": "dup_group"}
        body["aggs"]["unique"] = {"cardinality": {"field": "dup_group", "precision_threshold": 40000}}
    highlight_query = highlight_dsl(tree)
    if highlight_query:
        body["highlight"] = {
            "encoder": "html",  # the source text is HTML-escaped; only our <mark> tags are markup
            "pre_tags": [MARK_OPEN], "post_tags": [MARK_CLOSE], "highlight_query": highlight_query,
            "fields": {f"{name}{suffix}": _highlight_options(name) for name in HIGHLIGHT_FIELDS for suffix in ("", ".exact")},
        }
    body["sort"] = paging.sort_clauses(request.sort, has_text=tree is not None)
    return body


def _highlight_options(name: str) -> dict[str, int]:
    """Body text gets fragments around the hits; short fields (subject, file name) are highlighted whole."""
    return {"number_of_fragments": 3, "fragment_size": 160} if name == "body" else {"number_of_fragments": 0}


def _highlights(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    """Merge `field` and `field.exact` fragments under the plain field name, without repeats."""
    merged: dict[str, list[str]] = {}
    for name, fragments in raw.items():
        bucket = merged.setdefault(name.removesuffix(".exact"), [])
        bucket.extend(f for f in fragments if f not in bucket)
    return merged


def format_response(response: dict[str, Any], scored: bool = True) -> dict[str, Any]:
    """The API's response body from an OpenSearch search response; `score` is null unless `scored`."""
    hits = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        highlights = _highlights(hit.get("highlight", {}))
        snippet_source = highlights.get("body") or highlights.get("subject") or highlights.get("file_name")
        hits.append({
            **{name: source.get(name) for name in HIT_FIELDS},
            "to": source.get("to", []),
            "score": hit.get("_score") if scored else None,
            "highlights": highlights,
            "snippet": " … ".join(snippet_source[:2]) if snippet_source else None,
        })
    facets = {
        name: [{"value": b["key"], "count": b["doc_count"]} for b in response["aggregations"][name]["buckets"]]
        for name in FACETS
    }
    facets["month"] = [{"value": b["key_as_string"], "count": b["doc_count"]} for b in response["aggregations"]["month"]["buckets"]]
    result = {"total": response["hits"]["total"]["value"], "took_ms": response.get("took"), "hits": hits, "facets": facets}
    if "unique" in response["aggregations"]:
        result["total_unique"] = response["aggregations"]["unique"]["value"]
    return result


def run_search(client: OpenSearch, index: str, request: SearchRequest, scope: Scope = EVERYTHING,
               snapshots: Snapshots | None = None, caller: str = "") -> dict[str, Any]:
    """Run `request` against `index` within `scope`; return the API's response body (with `next_cursor` when
    paging by cursor; with `snapshots`, the cursor's snapshot counts against `caller`'s bound)."""
    body = build_body(request, scope)
    if request.cursor:
        response, next_cursor = paging.search_page(client, index, body, request.cursor, search_fingerprint(request),
                                                   snapshots, caller)
    else:
        response, next_cursor = client.search(index=index, body=body), None
    confine(client, index, [hit["_source"] for hit in response["hits"]["hits"]], scope)
    result = format_response(response, scored=not scope)
    if request.cursor:
        result["next_cursor"] = next_cursor
    if request.expand == "families":
        attach_families(client, index, result["hits"], scope)
    return result


def search_fingerprint(request: SearchRequest) -> str:
    """What a cursor is bound to: the query, filters and sort (not the page)."""
    return paging.fingerprint(request.model_dump(exclude={"cursor", "size", "offset", "expand"}))


def get_item(client: OpenSearch, index: str, item_id: str, scope: Scope = EVERYTHING) -> dict[str, Any] | None:
    """An item with its parent, direct attachments and other copies, all within `scope`;
    None when the id is unknown or outside the scope (the two are indistinguishable)."""
    found = client.search(index=index, body={"query": scoped({"ids": {"values": [item_id]}}, scope), "size": 1,
                                             "_source": {"excludes": ["minhash"]}})["hits"]["hits"]
    if not found:
        return None
    item = confine(client, index, [found[0]["_source"]], scope)[0]
    item["parent"] = None
    if item.get("parent_id"):
        parents = client.search(index=index, body={
            "query": scoped({"ids": {"values": [item["parent_id"]]}}, scope), "size": 1,
            "_source": ["id", "kind", "subject", "file_name"],
        })["hits"]["hits"]
        item["parent"] = parents[0]["_source"] if parents else None
    children = client.search(index=index, body={
        "query": scoped({"term": {"parent_id": item_id}}, scope), "size": 500, "sort": [{"locator": "asc"}],
        "_source": ["id", "kind", "file_name", "content_type", "size", "extraction"],
    })["hits"]["hits"]
    item["attachments"] = [child["_source"] for child in children]
    item["also_held_by"] = _copies(client, index, item, scope)
    return item


def _copies(client: OpenSearch, index: str, item: dict[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """The other items in `scope` that are exact duplicates of `item`: who else holds a copy, in which record."""
    if not item.get("dup_group"):
        return []
    hits = client.search(index=index, body={
        "query": {"bool": {"filter": [{"term": {"dup_group": item["dup_group"]}}, *scope],
                           "must_not": [{"ids": {"values": [item["id"]]}}]}},
        "size": 100, "sort": [{"custodian": "asc"}, {"id": "asc"}],
        "_source": ["id", "custodian", "record", "account", "kind", "source_path", "locator"],
    })["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def get_thread(client: OpenSearch, index: str, thread_id: str, scope: Scope = EVERYTHING) -> dict[str, Any] | None:
    """The emails of a thread in `scope`, in date order (one per duplicate group), or None if there are none."""
    response = client.search(index=index, body={
        "query": {"bool": {"filter": [{"term": {"thread_id": thread_id}}, {"term": {"kind": "email"}}, *scope]}},
        "sort": [{"date": {"order": "asc", "missing": "_first"}}, {"id": "asc"}],
        "size": 500, "track_total_hits": True,
        "_source": ["id", "date", "from", "to", "subject", "custodian", "record", "attachment_names", "dup_group", "message_id"],
    })
    hits = response["hits"]["hits"]
    if not hits:
        return None
    confine(client, index, [hit["_source"] for hit in hits], scope)
    emails: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for hit in hits:
        source = hit["_source"]
        group = source.get("dup_group") or source["id"]
        if group in seen:  # the same message held by another custodian: list it, don't repeat it
            seen[group]["held_by"].append({"id": source["id"], "custodian": source["custodian"], "record": source["record"]})
            continue
        source["held_by"] = [{"id": source["id"], "custodian": source["custodian"], "record": source["record"]}]
        seen[group] = source
        emails.append(source)
    return {"thread_id": thread_id, "total": response["hits"]["total"]["value"], "messages": emails}
