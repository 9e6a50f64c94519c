"""Gaps in time, for the record-keeping gap report: message volume per custodian, channel and record;
silences inside conversations that were otherwise active; deleted messages and disappearing-message
settings (possible loss).

Everything is read with aggregations, so the cost does not grow with the number of messages read
one by one: volume is a composite aggregation over (custodian, channel, record, period); silences
come from a composite aggregation over (conversation, day), which yields one bucket per day on
which a conversation was active, never the messages themselves.

A silence: in a conversation active on at least `silence_min_active_days` days, a gap between two
consecutive active days of at least `silence_min_days` days that is also at least `silence_factor`
times the conversation's median gap (so a chat that speaks weekly is not "silent" for a week).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from opensearchpy import OpenSearch

LOSS_EVENTS = ("deleted", "disappearing_on", "disappearing_off")
COMPOSITE_PAGE = 2000


@dataclass(frozen=True)
class SilenceRules:
    """When a pause in a conversation is a silence worth reporting (see the module docstring)."""

    min_days: int = 7
    factor: float = 5.0
    min_active_days: int = 5

    @classmethod
    def from_settings(cls, settings) -> "SilenceRules":
        return cls(settings.silence_min_days, settings.silence_factor, settings.silence_min_active_days)


def composite(client: OpenSearch, index: str, query: dict[str, Any], sources: list[dict[str, Any]],
              aggs: dict[str, Any] | None = None, page: int = COMPOSITE_PAGE) -> Iterator[dict[str, Any]]:
    """Every bucket of a composite aggregation over `sources`, page by page."""
    after: dict[str, Any] | None = None
    while True:
        spec: dict[str, Any] = {"size": page, "sources": sources}
        if after:
            spec["after"] = after
        body: dict[str, Any] = {"size": 0, "query": query, "aggs": {"pages": {"composite": spec}}}
        if aggs:
            body["aggs"]["pages"]["aggs"] = aggs
        result = client.search(index=index, body=body)["aggregations"]["pages"]
        yield from result["buckets"]
        after = result.get("after_key")
        if len(result["buckets"]) < page or not after:
            return


def choose_interval(first: str | None, last: str | None) -> str:
    """day for spans up to 120 days, week up to two years, else month."""
    if not first or not last:
        return "day"
    span = (date.fromisoformat(last[:10]) - date.fromisoformat(first[:10])).days
    return "day" if span <= 120 else "week" if span <= 730 else "month"


def volume(client: OpenSearch, index: str, where: list[dict[str, Any]], interval: str) -> list[dict[str, Any]]:
    """Items per custodian, channel, record and period (day, week or month): [{custodian, channel, record, period, count}]."""
    sources = [{"custodian": {"terms": {"field": "custodian"}}}, {"channel": {"terms": {"field": "channel"}}},
               {"record": {"terms": {"field": "record"}}},
               {"period": {"date_histogram": {"field": "date", "calendar_interval": interval, "format": "yyyy-MM-dd"}}}]
    query = {"bool": {"filter": where + [{"exists": {"field": "date"}}]}}
    return [{**bucket["key"], "count": bucket["doc_count"]} for bucket in composite(client, index, query, sources)]


def find_silences(days: list[date], rules: SilenceRules) -> list[tuple[date, date, int, float]]:
    """(last active day before, first active day after, gap in days, median gap) for each silence in sorted `days`."""
    if len(days) < rules.min_active_days:
        return []
    gaps = [(b - a).days for a, b in zip(days, days[1:])]
    median = statistics.median(gaps)
    return [(a, b, gap, median) for (a, b), gap in zip(zip(days, days[1:]), gaps)
            if gap >= rules.min_days and gap >= rules.factor * median]


def silences(client: OpenSearch, index: str, where: list[dict[str, Any]], rules: SilenceRules) -> list[dict[str, Any]]:
    """The silences of every conversation matching `where`, oldest first."""
    sources = [{"conversation": {"terms": {"field": "conversation_id"}}}, {"custodian": {"terms": {"field": "custodian"}}},
               {"channel": {"terms": {"field": "channel"}}}, {"record": {"terms": {"field": "record"}}},
               {"day": {"date_histogram": {"field": "date", "calendar_interval": "day", "format": "yyyy-MM-dd"}}}]
    query = {"bool": {"filter": where + [{"exists": {"field": "conversation_id"}}, {"exists": {"field": "date"}}]}}
    active: dict[tuple[str, str, str, str], list[date]] = {}
    for bucket in composite(client, index, query, sources):
        key = bucket["key"]
        active.setdefault((key["conversation"], key["custodian"], key["channel"], key["record"]), []).append(date.fromisoformat(key["day"]))
    found = []
    for (conversation, custodian, channel, record), days in active.items():
        for before, after, gap, median in find_silences(sorted(days), rules):
            found.append({"conversation_id": conversation, "custodian": custodian, "channel": channel, "record": record,
                          "last_before": before.isoformat(), "first_after": after.isoformat(), "days": gap,
                          "median_gap_days": median, "active_days": len(days), "month": before.isoformat()[:7]})
    names = conversation_names(client, index, sorted({s["conversation_id"] for s in found}))
    for silence in found:
        silence["conversation_name"] = names.get(silence["conversation_id"])
    return sorted(found, key=lambda s: (s["last_before"], s["custodian"], s["conversation_id"]))


def conversation_names(client: OpenSearch, index: str, conversation_ids: list[str]) -> dict[str, str | None]:
    """conversation_id → its name, for a handful of conversations."""
    if not conversation_ids:
        return {}
    body = {"size": 0, "query": {"terms": {"conversation_id": conversation_ids}},
            "aggs": {"by": {"terms": {"field": "conversation_id", "size": len(conversation_ids)},
                            "aggs": {"one": {"top_hits": {"size": 1, "_source": ["conversation_name"]}}}}}}
    buckets = client.search(index=index, body=body)["aggregations"]["by"]["buckets"]
    return {b["key"]: b["one"]["hits"]["hits"][0]["_source"].get("conversation_name") for b in buckets}


def loss_events(client: OpenSearch, index: str, where: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int]:
    """(deleted-message and disappearing-message events, oldest first, at most `limit`; how many there are in all)."""
    body = {"size": limit, "track_total_hits": True, "sort": [{"date": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
            "query": {"bool": {"filter": where + [{"terms": {"event": list(LOSS_EVENTS)}}]}},
            "_source": ["id", "date", "custodian", "channel", "record", "conversation_id", "conversation_name", "event", "from.raw"]}
    response = client.search(index=index, body=body)
    events = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        events.append({"id": hit["_id"], "date": source.get("date"), "month": (source.get("date") or "")[:7] or None,
                       "custodian": source.get("custodian"), "channel": source.get("channel"), "record": source.get("record"),
                       "event": source.get("event"), "conversation_id": source.get("conversation_id"),
                       "conversation_name": source.get("conversation_name"), "actor": (source.get("from") or {}).get("raw")})
    return events, response["hits"]["total"]["value"]


def disappearing_periods(events: list[dict[str, Any]], until: str | None) -> list[dict[str, Any]]:
    """Periods with disappearing messages on, per conversation: from each `disappearing_on` to the next
    `disappearing_off` (or `until`, the end of the report's range, when never turned off)."""
    periods: list[dict[str, Any]] = []
    open_since: dict[str, dict[str, Any]] = {}
    for event in events:
        conversation = event.get("conversation_id") or ""
        if event["event"] == "disappearing_on" and conversation not in open_since:
            open_since[conversation] = event
        elif event["event"] == "disappearing_off" and conversation in open_since:
            periods.append(_period(open_since.pop(conversation), event.get("date"), turned_off=True))
    periods += [_period(started, until, turned_off=False) for started in open_since.values()]
    return sorted(periods, key=lambda p: (p["start"] or "", p["conversation_id"] or ""))


def _period(started: dict[str, Any], end: str | None, turned_off: bool) -> dict[str, Any]:
    start = started.get("date")
    days = None
    if start and end:
        days = (date.fromisoformat(end[:10]) - date.fromisoformat(start[:10])).days
    return {"conversation_id": started.get("conversation_id"), "conversation_name": started.get("conversation_name"),
            "custodian": started.get("custodian"), "channel": started.get("channel"), "start": start, "end": end,
            "days": days, "turned_off": turned_off}
