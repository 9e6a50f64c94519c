"""Tamper evidence for the audit trail: the entries form one hash chain.

Every entry carries `seq` (1, 2, 3, … across every writer: the API's queue, other API processes,
the CLI), `prev_hash` (the `hash` of entry seq-1; sixty-four zeros for the first) and `hash`, the
SHA-256 of the entry's canonical JSON without `hash`. It is stored under the id `seq`, created
only. Writers agree on one sequence through a head document (`<prefix>audit-head`: the last
claimed seq and hash) updated with optimistic concurrency: a writer reads the head, chains its
batch after it, and moves the head with `if_seq_no`; if another writer moved it first, it reads it
again and re-chains. Only then does it write the entries, so two writers never chain after the
same entry, and a batch retried after an outage keeps the numbers it claimed (also when the head write
timed out but landed: the retry finds its own chain at the head).

`verify` walks the chain and names each entry deleted (a gap in seq), altered (its hash no
longer matches), moved (stored under another seq's id), inserted (not in the chain, a seq
twice, or beyond the head) or not following its predecessor (a replaced or reordered entry whose
hash was recomputed). What it cannot see: someone who rewrites an entry *and every entry after it
and the head* produces a consistent chain; comparing the head `verify` prints with one recorded
elsewhere earlier detects that (README, Security).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError

from services.settings import Settings

GENESIS = "0" * 64
HEAD_ID = "head"
MAX_CLAIM_ATTEMPTS = 100
CHAIN_MAPPING = {"seq": {"type": "long"}, "prev_hash": {"type": "keyword"}, "hash": {"type": "keyword"}}
HEAD_MAPPING = {"dynamic": "strict", "properties": {"seq": {"type": "long"}, "hash": {"type": "keyword"}}}


class ChainBusy(RuntimeError):
    """Other writers kept moving the head: no sequence numbers could be claimed."""


@dataclass(frozen=True)
class Head:
    """The last entry claimed: its seq and hash (0 and GENESIS before the first)."""

    seq: int = 0
    hash: str = GENESIS


def head_index(settings: Settings) -> str:
    return f"{settings.audit_index}-head"


def canonical(entry: dict[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over: its JSON without `hash`, keys sorted, ASCII only."""
    return json.dumps({k: v for k, v in entry.items() if k != "hash"}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def chain(entries: list[dict[str, Any]], head: Head) -> list[dict[str, Any]]:
    """`entries` numbered and hashed after `head`. Values are normalised to what JSON gives back, so
    the hash of an entry read from OpenSearch is the hash of the entry written."""
    chained, previous = [], head
    for entry in entries:
        plain = json.loads(json.dumps(entry, default=str))
        plain.update(seq=previous.seq + 1, prev_hash=previous.hash)
        plain["hash"] = entry_hash(plain)
        chained.append(plain)
        previous = Head(plain["seq"], plain["hash"])
    return chained


def ensure_head_index(client: OpenSearch, settings: Settings) -> None:
    if client.indices.exists(index=head_index(settings)):
        return
    try:
        client.indices.create(index=head_index(settings), body={
            "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}}, "mappings": HEAD_MAPPING})
    except RequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise


def _last_entry(client: OpenSearch, settings: Settings) -> Head:
    """The head as the entries show it (when the head document is missing)."""
    if not client.indices.exists(index=settings.audit_index):
        return Head()
    client.indices.refresh(index=settings.audit_index)
    hits = client.search(index=settings.audit_index, body={
        "size": 1, "query": {"exists": {"field": "seq"}}, "sort": [{"seq": "desc"}]})["hits"]["hits"]
    return Head(hits[0]["_source"]["seq"], hits[0]["_source"]["hash"]) if hits else Head()


def read_head(client: OpenSearch, settings: Settings) -> tuple[Head, dict[str, Any]]:
    """The current head and the concurrency condition for moving it."""
    try:
        document = client.get(index=head_index(settings), id=HEAD_ID)
    except NotFoundError:
        return _last_entry(client, settings), {"op_type": "create"}
    source = document["_source"]
    return Head(source["seq"], source["hash"]), {"if_seq_no": document["_seq_no"], "if_primary_term": document["_primary_term"]}


def claim(client: OpenSearch, settings: Settings, entries: list[dict[str, Any]],
          tried: list[list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Chain `entries` after the head and move the head past them (one sequence for every writer).

    `tried`, kept by a caller that retries the claim after an error, collects every chain put to the head:
    when the head turns out to be one of them (a head write that timed out but landed), that chain is the
    claim, so a retry never skips sequence numbers."""
    tried = [] if tried is None else tried
    ensure_head_index(client, settings)
    for _ in range(MAX_CLAIM_ATTEMPTS):
        head, condition = read_head(client, settings)
        landed = next((c for c in tried if (c[-1]["seq"], c[-1]["hash"]) == (head.seq, head.hash)), None)
        if landed is not None:
            return landed
        chained = chain(entries, head)
        tried.append(chained)
        try:
            client.index(index=head_index(settings), id=HEAD_ID, body={"seq": chained[-1]["seq"], "hash": chained[-1]["hash"]},
                         **condition)
        except ConflictError:
            continue  # another writer claimed first: chain after theirs
        return chained
    raise ChainBusy(f"the audit head moved {MAX_CLAIM_ATTEMPTS} times while claiming; entries not written")


@dataclass
class Verification:
    """What `verify` found: entries checked, the head, and one sentence per problem (empty: intact)."""

    entries: int = 0
    last: Head = field(default_factory=Head)
    head: Head | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _describe(source: dict[str, Any]) -> str:
    return f"{source.get('time', '?')} {source.get('user', '?')} {source.get('action', '?')}"


def _entries(first: int, last: int, what: str) -> str:
    return f"entry {first} is {what}" if first == last else f"entries {first} to {last} are {what}"


def _missing(first: int, last: int, how: str) -> str:
    return _entries(first, last, f"missing: {how}")


def _chained_entries(client: OpenSearch, settings: Settings) -> Iterator[dict[str, Any]]:
    return helpers.scan(client, index=settings.audit_index, preserve_order=True, size=1000,
                        query={"query": {"exists": {"field": "seq"}}, "sort": [{"seq": "asc"}, {"time": "asc"}]})


def verify(client: OpenSearch, settings: Settings) -> Verification:
    """Walk the whole chain and report every entry deleted, altered, moved, inserted or out of order."""
    result = Verification()
    if not client.indices.exists(index=settings.audit_index):
        return result
    client.indices.refresh(index=settings.audit_index)
    previous, seen = Head(), set()
    for hit in _chained_entries(client, settings):
        source, problems = hit["_source"], result.problems
        seq, what = source["seq"], _describe(source)
        result.entries += 1
        if seq in seen:
            problems.append(f"entry {seq} appears twice (id {hit['_id']}: {what}): inserted")
            continue
        seen.add(seq)
        if seq > previous.seq + 1:
            problems.append(_missing(previous.seq + 1, seq - 1, "deleted"))
        if entry_hash(source) != source.get("hash"):
            problems.append(f"entry {seq} ({what}) was altered: its content does not match its hash")
        elif seq == previous.seq + 1 and source.get("prev_hash") != previous.hash:
            problems.append(f"entry {seq} ({what}) does not follow entry {previous.seq}: an entry was replaced, inserted or reordered")
        if hit["_id"] != str(seq):
            problems.append(f"entry {seq} ({what}) is stored as entry {hit['_id']}: moved or reordered")
        previous = Head(seq, source.get("hash", ""))
    result.last = previous
    unchained = client.count(index=settings.audit_index, body={"query": {"bool": {"must_not": {"exists": {"field": "seq"}}}}})["count"]
    if unchained:
        result.problems.append(f"{unchained} {'entry is' if unchained == 1 else 'entries are'} not in the chain: "
                               "inserted directly (or written before Lantern chained its trail)")
    _check_head(client, settings, result)
    return result


def _check_head(client: OpenSearch, settings: Settings, result: Verification) -> None:
    try:
        source = client.get(index=head_index(settings), id=HEAD_ID)["_source"]
    except NotFoundError:
        if result.entries:
            result.problems.append("the head record is missing: entries deleted from the end cannot be ruled out")
        return
    result.head = Head(source["seq"], source["hash"])
    if result.head.seq > result.last.seq:
        result.problems.append(_missing(result.last.seq + 1, result.head.seq, "deleted from the end (or still being written)"))
    elif result.head.seq < result.last.seq:
        result.problems.append(_entries(result.head.seq + 1, result.last.seq, "beyond the head: inserted"))
    elif result.head.hash != result.last.hash:
        result.problems.append(f"entry {result.last.seq} does not match the head record: the last entry was replaced")
