"""The OpenSearch queries behind counterpart matching (indexer.enrich.counterparts), one per way a
private item can reach the official record. Every query is filtered to `record: official`, so a
private item never matches itself or another private copy.

- hashes: one search per batch of private items, a terms aggregation on `dup_group` (emails, chat
  messages) and one on `content_sha256` (files), each bucket with its top official hits;
- near-duplicates: likewise on `near_dup_group` (MinHash LSH groups, indexer.enrich.near_dups);
- quoted: per item, `match_phrase` of the text's first words on `body.exact` (analysed like the
  indexed text, so line breaks, "> " quote marks and case do not matter);
- note for the record: per item, an official email that calls itself a note of a conversation
  (LANTERN_NOTE_PHRASES, in its subject or body), dated within ± N days, that names every other
  participant (their person key, or their name in the subject, body or address fields) and shares
  at least K content words with the item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from indexer.enrich.people import ADDRESS_FIELDS

OFFICIAL = {"term": {"record": "official"}}
HIT_FIELDS = ["id", "kind", "subject", "file_name", "date", "custodian", "channel"]
FILE_KINDS = ("attachment", "document")
TEXT_KINDS = ("email", "message", "sms")
MAX_PARTICIPANTS = 5  # a note names the people of a conversation; a large group is never "named"
MAX_NOTE_WORDS = 30
_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"^[^\W\d_]{4,}$")
# Words too common to show that two texts are about the same thing (the index keeps stop words).
STOP_WORDS = frozenset("""
about above after again also been before being could does doing down from have having here into just
more most much only other over same should some such than that their them then there these they this
those through under until very were what when where which while will with would your yours ours please
thanks thank today tomorrow yesterday sent message call going want know think like good okay yeah
""".split())


@dataclass(frozen=True)
class MatchOptions:
    """How hard matching tries; built from settings by `from_settings`."""

    quote_min_words: int = 8
    quote_max_words: int = 40
    note_days: int = 1
    note_min_shared_words: int = 3
    note_phrases: tuple[str, ...] = ("note for the record", "file note", "readout", "for the record")
    batch_size: int = 200
    max_links: int = 5
    msearch_chunk: int = 100

    @classmethod
    def from_settings(cls, settings) -> "MatchOptions":
        return cls(quote_min_words=settings.quote_min_words, quote_max_words=settings.quote_max_words,
                   note_days=settings.note_days, note_min_shared_words=settings.note_min_shared_words,
                   note_phrases=tuple(settings.note_phrases))


def hash_search(dup_groups: list[str], file_hashes: list[str], near_groups: list[str], per_bucket: int) -> dict[str, Any]:
    """One search: official items sharing a dup_group, a file hash or a near_dup_group with the batch, bucketed by key."""
    should, aggs = [], {}
    for name, field, keys, extra in (("dup", "dup_group", dup_groups, []), ("file", "content_sha256", file_hashes, []),
                                     ("near", "near_dup_group", near_groups, ["minhash"])):
        if not keys:
            continue
        should.append({"terms": {field: keys}})
        aggs[name] = {"terms": {"field": field, "include": keys, "size": len(keys)},
                      "aggs": {"top": {"top_hits": {"size": per_bucket, "_source": HIT_FIELDS + extra,
                                                    "sort": [{"date": {"order": "asc", "missing": "_last"}}]}}}}
    return {"size": 0, "query": {"bool": {"filter": [OFFICIAL], "should": should, "minimum_should_match": 1}}, "aggs": aggs}


def bucket_hits(response: dict[str, Any], name: str) -> dict[str, list[dict[str, Any]]]:
    """key → official hits, from one aggregation of a `hash_search` response."""
    buckets = response.get("aggregations", {}).get(name, {}).get("buckets", [])
    return {b["key"]: b["top"]["hits"]["hits"] for b in buckets}


def quote_phrase(text: str, min_words: int, max_words: int) -> tuple[str, int, int] | None:
    """(the text up to its `max_words`-th word, words in it, words in all) or None when under `min_words` words.

    The raw text is kept (not re-joined words) so OpenSearch analyses it exactly as it analysed the bodies.
    """
    words = list(_WORD.finditer(text))
    if len(words) < min_words:
        return None
    taken = words[:max_words]
    return text[taken[0].start():taken[-1].end()], len(taken), len(words)


def quote_search(phrase: str, size: int) -> dict[str, Any]:
    return {"size": size, "_source": HIT_FIELDS, "query": {"bool": {"filter": [OFFICIAL, {"match_phrase": {"body.exact": phrase}}]}},
            "sort": [{"date": {"order": "asc", "missing": "_last"}}]}


@dataclass(frozen=True)
class Participant:
    """Someone on a private item other than its custodian, and how an official email could name them."""

    label: str
    name: str | None
    person: str | None

    def named_clause(self) -> dict[str, Any]:
        should: list[dict[str, Any]] = []
        if self.person:
            should.append({"term": {"people": self.person}})
        if self.name:
            should += [{"match_phrase": {field: self.name}} for field in
                       ("subject.exact", "body.exact", "from.name", "to.name", "cc.name")]
        return {"bool": {"should": should, "minimum_should_match": 1}}


def other_participants(source: dict[str, Any]) -> list[Participant]:
    """The people on the item (sender, recipients, chat participants) except the custodian, by name or account."""
    custodian = (source.get("custodian") or "").casefold()
    account = (source.get("account") or "").lower()
    found: dict[str, Participant] = {}
    for name in ADDRESS_FIELDS:
        value = source.get(name) or []
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, dict):
                continue
            display = entry.get("name") or (entry.get("raw") if not entry.get("address") else None)
            address = (entry.get("address") or "").lower()
            if (display or "").casefold() == custodian or (account and address == account):
                continue
            usable_name = display if display and len(_WORD.findall(display)) >= 1 and not display.startswith("+") else None
            key = entry.get("person") or address or (display or "").casefold()
            if key and (usable_name or entry.get("person")):
                found.setdefault(key, Participant(display or address, usable_name, entry.get("person")))
    return list(found.values())


def content_words(text: str, limit: int = MAX_NOTE_WORDS) -> list[str]:
    """Distinct words of four or more letters that are not stop words, in order of appearance."""
    words: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if _LETTERS.match(word) and word not in STOP_WORDS:
            words.setdefault(word, None)
            if len(words) >= limit:
                break
    return list(words)


def note_search(date: str, participants: list[Participant], words: list[str], options: MatchOptions, size: int) -> dict[str, Any]:
    """Official emails within ± note_days of `date` naming every participant and sharing enough words."""
    days = options.note_days
    clauses = [OFFICIAL, {"term": {"kind": "email"}},
               {"range": {"date": {"gte": f"{date}||-{days}d", "lte": f"{date}||+{days}d"}}},
               *(p.named_clause() for p in participants),
               {"match": {"body": {"query": " ".join(words), "minimum_should_match": options.note_min_shared_words}}},
               _says_it_is_a_note(options.note_phrases)]
    return {"size": size, "_source": HIT_FIELDS + ["body"], "query": {"bool": {"filter": clauses}},
            "sort": [{"date": {"order": "asc", "missing": "_last"}}]}


def _says_it_is_a_note(phrases: tuple[str, ...]) -> dict[str, Any]:
    """The email calls itself a record of a conversation ("Note for the record", "file note", ...):
    without this, any official email about the same topic on the same day would count as a note."""
    return {"bool": {"minimum_should_match": 1, "should": [
        {"match_phrase": {field: phrase}} for phrase in phrases for field in ("subject", "body")]}}


def shared_words(words: list[str], official_body: str, limit: int = 6) -> list[str]:
    """Which of `words` appear in `official_body` (surface forms; the query itself matched on stems)."""
    present = set(_WORD.findall(official_body.lower()))
    return [w for w in words if w in present][:limit]
