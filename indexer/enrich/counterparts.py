"""Official counterparts of private items: is each piece of private-channel business also in the
official record, and how do we know?

A post-ingest pass over the whole index (like threads and near-duplicates: a counterpart may
arrive in a later run, from another custodian). For every `record: private` item it looks for
`record: official` items that hold the same content, strongest first:

| official_copy | meaning                                                                             |
| ------------- | ----------------------------------------------------------------------------------- |
| exact         | an official item with the same `dup_group` (same message) or the same file hash      |
| forwarded     | a private file (attachment, document) whose bytes are attached to an official email  |
| near          | an official item in the same `near_dup_group` (MinHash LSH, estimated similarity)    |
| quoted        | the item's first words (8 to 40) appear word for word inside an official item        |
| note          | an official email within ± N days naming every other participant, sharing K words    |
| none          | nothing found                                                                        |

The pass stores `official_copy` and `official_copy_links` ([{id, how, score, why}], strongest
first, at most five) and, from indexer.enrich.business, `business_score` and
`business_signals`. Chat system events (deleted, joined, disappearing_on, ...) carry no content
and get no `official_copy`. Matching is by OpenSearch queries, never over all pairs: per batch of
200 private items, one aggregation search for hashes and near-duplicate groups, then one
`match_phrase` and at most one note query per item through `_msearch`, only for business items
(the report is about business) that no hash or near-duplicate already matched: an item below
the business threshold is matched by hash and near-duplicate group only. Only items whose
fields changed are written.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from opensearchpy import OpenSearch, helpers

from indexer.enrich import counterpart_queries as q
from indexer.enrich.business import BusinessRules, BusinessScorer
from indexer.enrich.counterpart_queries import MatchOptions
from indexer.enrich.near_dups import decode, similarity
from services.index import ensure_items_index
from services.runtime import Runtime
from services.settings import Settings

HOW_ORDER = ("exact", "forwarded", "near", "quoted", "note")
CONTENT_EVENTS = frozenset({"edited"})  # events that still carry a message's text
WRITTEN_FIELDS = ("official_copy", "official_copy_links", "business_score", "business_signals")
SOURCE_FIELDS = ["id", "kind", "channel", "custodian", "account", "subject", "body", "file_name", "date", "event",
                 "dup_group", "content_sha256", "near_dup_group", "minhash", "people", "entity_orgs",
                 "from", "to", "cc", "bcc", "participants", *WRITTEN_FIELDS]


@dataclass
class CounterpartStats:
    """What one pass did: private items read, items written, seconds, and items per official_copy value."""

    items: int = 0
    written: int = 0
    seconds: float = 0.0
    by_copy: Counter = field(default_factory=Counter)

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def _describe(hit: dict[str, Any]) -> str:
    source = hit["_source"]
    day = (source.get("date") or "undated")[:10]
    if source.get("kind") == "attachment":
        return f"an official {source.get('channel', '')} item as {source.get('file_name') or 'an attachment'!r} ({day}, {source.get('custodian', '?')})"
    title = source.get("subject") or source.get("file_name") or source.get("kind", "item")
    return f"official {source.get('kind', 'item')} {title!r} ({day}, {source.get('custodian', '?')})"


def _link(hit: dict[str, Any], how: str, score: float, why: str) -> dict[str, Any]:
    return {"id": hit["_id"], "how": how, "score": round(score, 3), "why": why}


def _hash_links(source: dict[str, Any], dup: dict, files: dict, near: dict) -> list[dict[str, Any]]:
    """Links from the batch's hash and near-duplicate buckets."""
    links = []
    is_file = source.get("kind") in q.FILE_KINDS
    sha = source.get("content_sha256")
    for hit in (files.get(sha, []) if is_file and sha else dup.get(source.get("dup_group"), [])):
        if is_file and hit["_source"].get("kind") == "attachment":
            links.append(_link(hit, "forwarded", 1.0, f"the same file (sha256 {sha[:12]}…) is attached to {_describe(hit)}"))
        else:
            links.append(_link(hit, "exact", 1.0, f"the same {'file' if is_file else 'message'} is held as {_describe(hit)}"))
    mine = source.get("minhash")
    for hit in near.get(source.get("near_dup_group"), []) if source.get("near_dup_group") else []:
        theirs = hit["_source"].get("minhash")
        score = similarity(decode(mine), decode(theirs)) if mine and theirs else 0.0
        links.append(_link(hit, "near", score, f"near-duplicate of {_describe(hit)}: about {score:.0%} of 5-word runs in common"))
    return links


class CounterpartMatcher:
    """Finds the official counterparts of batches of private items (see the module docstring)."""

    def __init__(self, client: OpenSearch, index: str, options: MatchOptions = MatchOptions()):
        self.client, self.index, self.options = client, index, options

    def match(self, sources: list[dict[str, Any]], text: list[bool] | None = None) -> list[list[dict[str, Any]]]:
        """Per source (an item `_source`), its links strongest first; an empty list means none found.
        `text[n]` False: hashes and near-duplicate groups only for that source, no per-item text queries."""
        response = self._hash_response(sources)
        dup, files, near = (q.bucket_hits(response, name) for name in ("dup", "file", "near"))
        found = [_hash_links(source, dup, files, near) for source in sources]
        pending = [n for n, links in enumerate(found)
                   if not links and sources[n].get("kind") in q.TEXT_KINDS and (text is None or text[n])]
        for n, links in zip(pending, self._text_links([sources[n] for n in pending])):
            found[n] = links
        return [self._best(links) for links in found]

    def _hash_response(self, sources: list[dict[str, Any]]) -> dict[str, Any]:
        files = sorted({s["content_sha256"] for s in sources if s.get("kind") in q.FILE_KINDS and s.get("content_sha256")})
        dups = sorted({s["dup_group"] for s in sources if s.get("kind") not in q.FILE_KINDS and s.get("dup_group")})
        nears = sorted({s["near_dup_group"] for s in sources if s.get("near_dup_group")})
        if not (files or dups or nears):
            return {}
        return self.client.search(index=self.index, body=q.hash_search(dups, files, nears, self.options.max_links))

    def _text_links(self, sources: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Quoted, else note-for-the-record links, through _msearch: one or two queries per item."""
        plans = [self._plan(source) for source in sources]
        searches = [search for plan in plans for _, search, _ in plan]
        responses = self._msearch(searches)
        at = 0
        for plan in plans:
            links: list[dict[str, Any]] = []
            for _how, _search, explain in plan:
                response = responses[at]
                at += 1
                if not links:  # a quote found makes the note query's answer moot
                    links = [explain(hit) for hit in response.get("hits", {}).get("hits", [])]
            yield links

    def _plan(self, source: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
        """The (how, search, hit → link) list for one item: its quote query and its note query, when it has them."""
        plan: list[tuple[str, dict[str, Any], Any]] = []
        body = source.get("body") or ""
        quoted = q.quote_phrase(body, self.options.quote_min_words, self.options.quote_max_words)
        if quoted:
            phrase, taken, total = quoted
            share = taken / total

            def explain_quote(hit, taken=taken, total=total, share=share):
                words = f"all {total} words" if taken == total else f"its first {taken} of {total} words"
                return _link(hit, "quoted", share, f"{words} appear word for word in {_describe(hit)}")

            plan.append(("quoted", q.quote_search(phrase, self.options.max_links), explain_quote))
        note = self._note_plan(source, body)
        if note:
            plan.append(note)
        return plan

    def _note_plan(self, source: dict[str, Any], body: str):
        participants = q.other_participants(source)
        words = q.content_words(f"{source.get('subject') or ''} {body}")
        if not source.get("date") or not participants or len(participants) > q.MAX_PARTICIPANTS \
                or len(words) < self.options.note_min_shared_words:
            return None
        names = ", ".join(p.label for p in participants)
        days = self.options.note_days

        def explain_note(hit, when=source["date"]):
            apart = _days_apart(when, hit["_source"].get("date"))
            shared = q.shared_words(words, hit["_source"].get("body") or "")
            return _link(hit, "note", 1.0 - apart / (days + 1),
                         f"{_describe(hit)}, {apart} day(s) apart, names {names} and shares the words {', '.join(shared) or '(stems)'}")

        return "note", q.note_search(source["date"], participants, words, self.options, self.options.max_links), explain_note

    def _msearch(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        responses: list[dict[str, Any]] = []
        step = self.options.msearch_chunk
        for start in range(0, len(searches), step):
            lines: list[dict[str, Any]] = []
            for search in searches[start:start + step]:
                lines += [{"index": self.index}, search]
            for response in self.client.msearch(body=lines)["responses"]:
                if "error" in response:
                    raise CounterpartSearchFailed(str(response["error"])[:500])
                responses.append(response)
        return responses

    def _best(self, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One link per official item (its strongest), strongest first, at most max_links."""
        best: dict[str, dict[str, Any]] = {}
        for link in sorted(links, key=lambda l: (HOW_ORDER.index(l["how"]), -l["score"])):
            best.setdefault(link["id"], link)
        return list(best.values())[: self.options.max_links]


class CounterpartSearchFailed(RuntimeError):
    """OpenSearch refused a counterpart query; the message holds its reason."""


def _day(value: str) -> date:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date()


def _days_apart(a: str, b: str | None) -> int:
    """Whole calendar days (UTC) between two ISO dates; 0 when `b` is missing."""
    return abs((_day(a) - _day(b)).days) if b else 0


def classify(links: list[dict[str, Any]]) -> str:
    """The item's official_copy: the `how` of its strongest link, or none."""
    return links[0]["how"] if links else "none"


def _private_items(client: OpenSearch, index: str, batch: int) -> Iterator[list[dict[str, Any]]]:
    hits = helpers.scan(client, index=index, query={"query": {"term": {"record": "private"}}, "_source": SOURCE_FIELDS},
                        size=batch)
    chunk: list[dict[str, Any]] = []
    for hit in hits:
        chunk.append(hit)
        if len(chunk) >= batch:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _changed(source: dict[str, Any], update: dict[str, Any]) -> bool:
    return any(source.get(name) != update.get(name) for name in WRITTEN_FIELDS if name in update or name in source)


def counterpart_updates(client: OpenSearch, index: str, matcher: CounterpartMatcher, scorer: BusinessScorer,
                        stats: CounterpartStats) -> Iterator[dict[str, Any]]:
    """Bulk update actions for the private items whose counterparts or business score changed."""
    for batch in _private_items(client, index, matcher.options.batch_size):
        stats.items += len(batch)
        content = [hit for hit in batch if not hit["_source"].get("event") or hit["_source"]["event"] in CONTENT_EVENTS]
        assessed = [scorer.assess(hit["_source"]) for hit in content]
        business = [a["business_score"] >= scorer.rules.threshold for a in assessed]
        links = dict(zip((hit["_id"] for hit in content), matcher.match([hit["_source"] for hit in content], text=business)))
        assessments = dict(zip((hit["_id"] for hit in content), assessed))
        for hit in batch:
            if hit["_id"] in links:
                update: dict[str, Any] = assessments[hit["_id"]]
                update["official_copy"] = classify(links[hit["_id"]])
                update["official_copy_links"] = links[hit["_id"]]
                stats.by_copy[update["official_copy"]] += 1
            else:  # a system event: nothing to copy, nothing to score
                update = dict.fromkeys(WRITTEN_FIELDS)
            if _changed(hit["_source"], update):
                yield {"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": update}


def counterparts_index(client: OpenSearch, index: str, options: MatchOptions, rules: BusinessRules) -> CounterpartStats:
    """Match every private item of `index` to its official counterparts and score its business relevance."""
    started = time.perf_counter()
    stats = CounterpartStats()
    matcher, scorer = CounterpartMatcher(client, index, options), BusinessScorer(rules)
    written, _ = helpers.bulk(client, counterpart_updates(client, index, matcher, scorer, stats), chunk_size=500,
                              raise_on_error=True)
    if written:
        client.indices.refresh(index=index)
    stats.written, stats.seconds = written, time.perf_counter() - started
    return stats


def run_counterparts(settings: Settings | Runtime, client: OpenSearch | None = None) -> CounterpartStats:
    """The pass over the items index of `settings` or a runtime (`lantern enrich`, `lantern report gaps --refresh`);
    with settings, over `client` when one is given."""
    with Runtime.using(settings, client=client) as runtime:
        alias = ensure_items_index(runtime.client, runtime.settings)
        return counterparts_index(runtime.client, alias, MatchOptions.from_settings(runtime.settings),
                                  BusinessRules.from_settings(runtime.settings))
