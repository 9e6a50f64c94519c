"""What goes into a records-transfer package: the uncopied private business items in range and scope,
grouped into the files a records system takes.

| unit       | holds                                                                        | file                               |
| ---------- | ---------------------------------------------------------------------------- | ---------------------------------- |
| email      | an uncopied email, or the email an uncopied attachment came in, with every attachment of that email | the message as an `.eml`          |
| transcript | the uncopied chat messages or SMS of one conversation on one day (UTC)       | a plain-text transcript            |
| file       | an uncopied loose document, or an attachment that did not come by email      | the file itself, or its text       |

Selection reads metadata only (never the text), one page at a time from a point in time; the units
and their rows (one per item, a few hundred bytes each) are what is held in memory. Every query
ANDs the caller's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch

from search_api import paging, transfers
from search_api.record_gaps import copied_only_out_of_scope, copied_query, uncopied_query

FIELDS = ["id", "kind", "channel", "custodian", "account", "record", "collection", "date", "subject", "file_name",
          "conversation_id", "conversation_name", "family_id", "parent_id", "depth", "source_path", "locator",
          "source_sha256", "content_sha256", "from", "to", "cc", "bcc", "participants", "business_score",
          "business_signals", "official_copy", "attachment_names", "message_id", "seq"]
CHAT_KINDS = ("message", "sms")
UNCOPIED = "uncopied business"


@dataclass
class Unit:
    """One file of the package: what kind, a stable key, the top item (the email, or the first message)
    and every item the file holds with why it is there ("uncopied business" or "attachment of the email")."""

    kind: str  # email | transcript | file
    key: tuple[str, ...]
    top: dict[str, Any]
    items: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def holds(self, source: dict[str, Any], why: str) -> None:
        """Add `source`, once; being uncopied business outranks any other reason it is here."""
        for n, (held, _) in enumerate(self.items):
            if held["id"] == source["id"]:
                if why == UNCOPIED:
                    self.items[n] = (held, why)
                return
        self.items.append((source, why))


def _scan(client: OpenSearch, index: str, query: dict[str, Any], fields: list[str] = FIELDS):
    return paging.scan(client, index, query, [{"date": {"order": "asc", "missing": "_last"}}, {"id": "asc"}], fields)


def _by_ids(client: OpenSearch, index: str, ids: set[str], restrict: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    query = {"bool": {"filter": [*restrict, transfers.ids_clause(ids)]}}
    return {hit["_id"]: {**hit["_source"], "id": hit["_id"]} for hit in _scan(client, index, query)}


def select_units(client: OpenSearch, index: str, where: list[dict[str, Any]], restrict: list[dict[str, Any]],
                 threshold: float, skip: frozenset[str] = frozenset()) -> list[Unit]:
    """The package's units, oldest first: every uncopied business item in `where` whose id is not in `skip`
    (already transferred), with the emails their attachments came in and those emails' other attachments.
    `restrict` (the caller's scope) confines the lookups of parents and attachments."""
    query = uncopied_query(where, threshold)
    if skip:
        query["bool"]["must_not"] = [transfers.ids_clause(skip)]
    selected = [{**hit["_source"], "id": hit["_id"]} for hit in _scan(client, index, query)]
    if restrict:  # as in the gap report, a copy outside the caller's scope is no copy to them
        copied = copied_query(where, threshold)
        if skip:
            copied["bool"]["must_not"] = [transfers.ids_clause(skip)]
        hits = _scan(client, index, copied, [*FIELDS, "official_copy_links"])
        selected += [{**hit["_source"], "id": hit["_id"]} for hit in copied_only_out_of_scope(client, index, hits, restrict)]
        selected.sort(key=lambda source: (source.get("date") is None, source.get("date") or "", source["id"]))
    tops = _by_ids(client, index, {s["family_id"] for s in selected if s.get("kind") == "attachment" and s.get("family_id")}, restrict)
    units: dict[tuple[str, ...], Unit] = {}
    for source in selected:
        top = tops.get(source.get("family_id") or "")
        if source.get("kind") == "email" or (source.get("kind") == "attachment" and top and top.get("kind") == "email"):
            email = source if source.get("kind") == "email" else top
            unit = units.setdefault(("email", email["id"]), Unit("email", ("email", email["id"]), email))
        elif source.get("kind") in CHAT_KINDS:
            key = ("transcript", source.get("channel") or "", source.get("conversation_id") or source["id"], (source.get("date") or "undated")[:10])
            unit = units.setdefault(key, Unit("transcript", key, source))
        else:
            unit = units.setdefault(("file", source["id"]), Unit("file", ("file", source["id"]), source))
        unit.holds(source, UNCOPIED)
    _add_attachments(client, index, [u for u in units.values() if u.kind == "email"], restrict)
    return sorted(units.values(), key=lambda u: ((u.top.get("date") or "9999"), u.key))


def _add_attachments(client: OpenSearch, index: str, emails: list[Unit], restrict: list[dict[str, Any]]) -> None:
    """Every attachment of each email unit goes into the manifest: the .eml carries them all."""
    if not emails:
        return
    by_family = {unit.top["id"]: unit for unit in emails}
    query = {"bool": {"filter": [*restrict, {"term": {"kind": "attachment"}}, transfers.terms_clause("family_id", by_family)]}}
    for hit in _scan(client, index, query):
        source = {**hit["_source"], "id": hit["_id"]}
        by_family[source["family_id"]].holds(source, "attachment of the email")
    for unit in emails:
        unit.holds(unit.top, "the email this attachment came in")
        unit.items.sort(key=lambda pair: (pair[0]["id"] != unit.top["id"], pair[0].get("locator") or ""))
