"""The record-keeping gap report: per custodian and month, how much private-channel business is
also in the official record, which items are not, and where the record may have been lost.

Reads what the counterpart pass stored (indexer.enrich.counterparts: `official_copy`,
`business_score`) and the chat events; it never compares items itself. Per custodian and month:

- `private_items`: private items with content (chat system events excluded);
- `business_items`: those scoring at least `business_threshold` (indexer.enrich.business);
- `copied`: business items with an official counterpart, by how (exact, forwarded, near, quoted, note);
- `uncopied`: business items with none, listed in `uncopied` (id, date, channel, snippet, link, transfer);
- `awaiting_filing`: those of them put into a records-transfer package (search_api.transfers, the
  ledger) whose official copy has not been ingested and matched yet;
- `pending`: private items the counterpart pass has not seen yet (run `lantern report gaps --refresh`);
- `official_items`, `deleted_events`, `disappearing_events`, `silences` for context.

Then the silences, the loss events (deleted messages, disappearing-message settings) and the
periods with disappearing messages on (search_api.record_timeline), and the volume per custodian,
channel and record for the timeline chart. Every query ANDs `restrict` (the caller's scope).
Within a scope, a copy counts only if it is in the scope too (search_api.disclosure): the
business items whose only copies lie outside are moved to `uncopied` (`_confine_copies`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from opensearchpy import OpenSearch

from search_api import paging
from search_api import record_timeline as timeline
from search_api import transfers
from search_api.disclosure import confine_hits
from search_api.exports import spreadsheet_safe

HOWS = ("exact", "forwarded", "near", "quoted", "note")
SNIPPET_CHARS = 200
NOT_CONTENT_EVENT = {"bool": {"filter": [{"exists": {"field": "event"}}], "must_not": [{"term": {"event": "edited"}}]}}


@dataclass(frozen=True)
class GapReportOptions:
    """The thresholds the report applies (from settings) and how long its lists may be."""

    business_threshold: float = 2.0
    silence: timeline.SilenceRules = field(default_factory=timeline.SilenceRules)
    uncopied_limit: int = 1000
    events_limit: int = 1000

    @classmethod
    def from_settings(cls, settings, **limits: int) -> "GapReportOptions":
        return cls(settings.business_threshold, timeline.SilenceRules.from_settings(settings), **limits)


def where_clauses(custodians: list[str] | None, date_from: date | None, date_to: date | None,
                  restrict: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The filter clauses of the report's range, ANDed with `restrict`."""
    clauses = list(restrict or [])
    if custodians:
        clauses.append({"terms": {"custodian": list(custodians)}})
    if date_from or date_to:
        bounds: dict[str, str] = {}
        if date_from:
            bounds["gte"] = date_from.isoformat()
        if date_to:
            bounds["lte"] = f"{date_to.isoformat()}||/d"
        clauses.append({"range": {"date": bounds}})
    return clauses


def _business(threshold: float) -> list[dict[str, Any]]:
    return [{"term": {"record": "private"}}, {"exists": {"field": "official_copy"}}, {"range": {"business_score": {"gte": threshold}}}]


def _month_aggs(threshold: float, transferred: dict[str, Any]) -> dict[str, Any]:
    return {
        "awaiting": {"filter": {"bool": {"filter": _business(threshold) + [{"term": {"official_copy": "none"}}, transferred]}}},
        "private": {"filter": {"bool": {"filter": [{"term": {"record": "private"}}, {"exists": {"field": "official_copy"}}]}}},
        "business": {"filter": {"bool": {"filter": _business(threshold)}},
                     "aggs": {"how": {"terms": {"field": "official_copy", "size": 10}}}},
        "official": {"filter": {"term": {"record": "official"}}},
        "pending": {"filter": {"bool": {"filter": [{"term": {"record": "private"}}],
                                        "must_not": [{"exists": {"field": "official_copy"}}, NOT_CONTENT_EVENT]}}},
        "deleted": {"filter": {"term": {"event": "deleted"}}},
        "disappearing": {"filter": {"terms": {"event": ["disappearing_on", "disappearing_off"]}}},
    }


def month_rows(client: OpenSearch, index: str, where: list[dict[str, Any]], threshold: float,
               transferred: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """One row per custodian and month (`undated` for items without a date), in that order; `transferred`:
    the ids in the transfer ledger."""
    sources = [{"custodian": {"terms": {"field": "custodian"}}},
               {"month": {"date_histogram": {"field": "date", "calendar_interval": "month", "format": "yyyy-MM",
                                             "missing_bucket": True}}}]
    rows = []
    for bucket in timeline.composite(client, index, {"bool": {"filter": where}}, sources,
                                  _month_aggs(threshold, transfers.ids_clause(transferred))):
        hows = {b["key"]: b["doc_count"] for b in bucket["business"]["how"]["buckets"]}
        copied = {how: hows.get(how, 0) for how in HOWS}
        business = bucket["business"]["doc_count"]
        rows.append({
            "custodian": bucket["key"]["custodian"], "month": bucket["key"]["month"] or "undated",
            "private_items": bucket["private"]["doc_count"], "business_items": business,
            "copied_total": sum(copied.values()), "copied": copied, "uncopied": hows.get("none", 0),
            "awaiting_filing": bucket["awaiting"]["doc_count"],
            "copied_share": round(sum(copied.values()) / business, 3) if business else None,
            "pending": bucket["pending"]["doc_count"], "official_items": bucket["official"]["doc_count"],
            "deleted_events": bucket["deleted"]["doc_count"], "disappearing_events": bucket["disappearing"]["doc_count"],
            "silences": 0,
        })
    return sorted(rows, key=lambda r: (r["custodian"], r["month"]))


def _snippet(source: dict[str, Any]) -> str:
    parts = [source.get("subject") or source.get("file_name") or "", source.get("body") or ""]
    text = " — ".join(" ".join(p.split()) for p in parts if p and p.strip())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


UNCOPIED_ORDER = [{"date": {"order": "asc", "missing": "_last"}}, {"id": "asc"}]
UNCOPIED_SOURCE = ["id", "date", "custodian", "channel", "kind", "subject", "file_name", "body", "conversation_name",
                   "business_score", "business_signals", "from.raw"]


def uncopied_query(where: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """The private business items with no official counterpart, within `where`."""
    return {"bool": {"filter": where + _business(threshold) + [{"term": {"official_copy": "none"}}]}}


def copied_query(where: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """The private business items with an official counterpart, within `where`."""
    return {"bool": {"filter": where + _business(threshold) + [{"terms": {"official_copy": list(HOWS)}}]}}


def copied_only_out_of_scope(client: OpenSearch, index: str, hits: Iterator[dict[str, Any]],
                             scope: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Of copied business `hits` (with `official_copy_links`), those whose every copy lies outside `scope`:
    uncopied as that scope sees them (search_api.disclosure), so a scoped caller learns nothing of the copy."""
    for hit in confine_hits(client, index, hits, scope):
        if hit["_source"].get("official_copy") not in HOWS:
            yield hit


def uncopied_items(client: OpenSearch, index: str, where: list[dict[str, Any]], threshold: float, limit: int,
                   ledger: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The private business items with no official counterpart, oldest first, at most `limit`; each with its
    `transfer` ({state, package_id, at, by}) from `ledger` when it was put into a transfer package."""
    body = {"size": limit, "sort": UNCOPIED_ORDER, "_source": UNCOPIED_SOURCE, "query": uncopied_query(where, threshold)}
    return [_uncopied(hit, ledger) for hit in client.search(index=index, body=body)["hits"]["hits"]]


def _uncopied(hit: dict[str, Any], ledger: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    source = hit["_source"]
    return {"id": hit["_id"], "date": source.get("date"), "month": (source.get("date") or "")[:7] or "undated",
            "custodian": source.get("custodian"), "channel": source.get("channel"), "kind": source.get("kind"),
            "from": (source.get("from") or {}).get("raw"), "conversation_name": source.get("conversation_name"),
            "snippet": _snippet(source), "business_score": source.get("business_score"),
            "business_signals": source.get("business_signals") or [],
            "link": f"/#item={hit['_id']}", "api": f"/api/v1/items/{hit['_id']}",
            "transfer": _transfer_state((ledger or {}).get(hit["_id"]))}


def _confine_copies(client: OpenSearch, index: str, where: list[dict[str, Any]], threshold: float, scope: list[dict[str, Any]],
                    rows: list[dict[str, Any]], uncopied: list[dict[str, Any]], limit: int,
                    ledger: dict[str, dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Recount `rows` and `uncopied` as the scope sees them: a copy outside `scope` is no copy.

    Reads only the copied business items in the scope (streamed), never the whole index."""
    by_row = {(r["custodian"], r["month"]): r for r in rows}
    query = {"bool": {"filter": where + _business(threshold) + [{"terms": {"official_copy": list(HOWS)}}]}}
    hits = paging.scan(client, index, query, UNCOPIED_ORDER, [*UNCOPIED_SOURCE, "official_copy", "official_copy_links"])
    for hit in confine_hits(client, index, _with_how(hits), scope):
        seen_how, how = hit["how_stored"], hit["_source"]["official_copy"]
        if how == seen_how:
            continue
        row = by_row[(hit["_source"].get("custodian"), (hit["_source"].get("date") or "")[:7] or "undated")]
        row["copied"][seen_how] -= 1
        if how in HOWS:
            row["copied"][how] += 1
            continue
        row["uncopied"] += 1
        row["awaiting_filing"] += hit["_id"] in (ledger or {})  # else the row would disagree with the item's state
        row["copied_total"] -= 1
        row["copied_share"] = round(row["copied_total"] / row["business_items"], 3) if row["business_items"] else None
        uncopied.append(_uncopied(hit, ledger))
    uncopied.sort(key=lambda item: (item["date"] is None, item["date"] or "", item["id"]))
    return uncopied[:limit]


def _with_how(hits: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The hits, each remembering its stored `official_copy` before search_api.disclosure recomputes it."""
    for hit in hits:
        hit["how_stored"] = hit["_source"].get("official_copy")
        yield hit


def _transfer_state(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if not entry:
        return None
    return {"state": "transferred, awaiting filing", "package_id": entry["package_id"], "at": entry["at"], "by": entry["by"]}


def _date_span(client: OpenSearch, index: str, where: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    aggs = {"first": {"min": {"field": "date", "format": "yyyy-MM-dd"}}, "last": {"max": {"field": "date", "format": "yyyy-MM-dd"}}}
    found = client.search(index=index, body={"size": 0, "query": {"bool": {"filter": where}}, "aggs": aggs})["aggregations"]
    return found["first"].get("value_as_string"), found["last"].get("value_as_string")


def record_gaps_report(client: OpenSearch, index: str, options: GapReportOptions, custodians: list[str] | None = None,
                       date_from: date | None = None, date_to: date | None = None,
                       restrict: list[dict[str, Any]] | None = None, interval: str | None = None,
                       rules: dict[str, Any] | None = None, ledger_index: str | None = None) -> dict[str, Any]:
    """The report as a JSON-able dict (see the module docstring); `rules` describes the business rules in force;
    `ledger_index` is the transfer ledger (search_api.transfers), none when not given."""
    where = where_clauses(custodians, date_from, date_to, restrict)
    ledger = transfers.transfers_of(client, ledger_index, custodians) if ledger_index else {}
    rows = month_rows(client, index, where, options.business_threshold, frozenset(ledger))
    silences = timeline.silences(client, index, where, options.silence)
    events, events_total = timeline.loss_events(client, index, where, options.events_limit)
    by_row = {(r["custodian"], r["month"]): r for r in rows}
    for silence in silences:
        row = by_row.get((silence["custodian"], silence["month"]))
        if row:
            row["silences"] += 1
    first, last = _date_span(client, index, where)
    interval = interval or timeline.choose_interval(date_from.isoformat() if date_from else first,
                                                    date_to.isoformat() if date_to else last)
    uncopied = uncopied_items(client, index, where, options.business_threshold, options.uncopied_limit, ledger)
    if restrict:
        uncopied = _confine_copies(client, index, where, options.business_threshold, restrict, rows, uncopied,
                                   options.uncopied_limit, ledger)
    summary = {name: sum(r[name] for r in rows) for name in
               ("private_items", "business_items", "copied_total", "uncopied", "awaiting_filing", "pending", "official_items",
                "deleted_events", "disappearing_events", "silences")}
    summary["copied"] = {how: sum(r["copied"][how] for r in rows) for how in HOWS}
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "filters": {"custodian": list(custodians or []), "from": date_from.isoformat() if date_from else None,
                    "to": date_to.isoformat() if date_to else None},
        "rules": {"business_threshold": options.business_threshold, "silence": asdict(options.silence), **({"business": rules} if rules else {})},
        "summary": summary,
        "months": rows,
        "uncopied": uncopied,
        "uncopied_listed": len(uncopied),
        "silences": silences,
        "loss_events": events,
        "loss_events_total": events_total,
        "disappearing_periods": timeline.disappearing_periods(events, f"{date_to.isoformat()}T23:59:59Z" if date_to else last),
        "volume": {"interval": interval, "rows": timeline.volume(client, index, where, interval)},
    }


CSV_COLUMNS = ("section", "custodian", "month", "date", "id", "channel", "kind", "record", "private_items", "business_items",
               *(f"copied_{how}" for how in HOWS), "uncopied", "awaiting_filing", "pending", "official_items", "deleted_events",
               "disappearing_events", "silences", "days", "conversation", "event", "from", "business_score",
               "business_signals", "snippet", "link", "transfer_package", "transferred_at")


def _csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row in report["months"]:
        rows.append({**{k: v for k, v in row.items() if k != "copied"}, "section": "month",
                     **{f"copied_{how}": n for how, n in row["copied"].items()}})
    for item in report["uncopied"]:
        rows.append({"section": "uncopied", **item, "conversation": item.get("conversation_name"),
                     "business_signals": "; ".join(item["business_signals"]),
                     "transfer_package": (item["transfer"] or {}).get("package_id"), "transferred_at": (item["transfer"] or {}).get("at")})
    for silence in report["silences"]:
        rows.append({"section": "silence", "custodian": silence["custodian"], "month": silence["month"],
                     "date": f"{silence['last_before']}/{silence['first_after']}", "channel": silence["channel"],
                     "record": silence["record"], "days": silence["days"],
                     "conversation": silence.get("conversation_name") or silence["conversation_id"]})
    for event in report["loss_events"]:
        rows.append({"section": "loss_event", **event, "conversation": event.get("conversation_name") or event.get("conversation_id"),
                     "from": event.get("actor"), "link": f"/#item={event['id']}"})
    return rows


def report_csv(report: dict[str, Any]) -> str:
    """The report as one CSV table: a `section` column (month, uncopied, silence, loss_event) and the union of columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in _csv_rows(report):
        writer.writerow([spreadsheet_safe(row[name]) if isinstance(row.get(name), str) else ("" if row.get(name) is None else row[name])
                         for name in CSV_COLUMNS])
    return out.getvalue()
