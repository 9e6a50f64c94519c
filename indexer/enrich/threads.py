"""Email threads: every email gets a `thread_id` shared with the rest of its conversation.

JWZ-style (https://www.jwz.org/doc/threading.html) in its essentials: Message-ID, In-Reply-To
and References link messages, and every message linked directly or through others is in one
thread (a union-find over message ids, so a reply whose parent was never collected still
joins its siblings through the ids they share). Emails with no usable links fall back to the
normalised subject ("Re: Budget" joins the thread whose subject is "Budget"), as JWZ does for
root sets. It runs over the whole index after each ingest, because a thread's messages may
arrive in different runs, from different custodians.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from opensearchpy import OpenSearch, helpers

from indexer.digests import normalise_subject


@dataclass(slots=True)
class EmailLinks:
    """What threading needs to know about one email."""

    item_id: str
    message_id: str | None
    in_reply_to: str | None
    references: list[str] = field(default_factory=list)
    subject: str | None = None
    date: str | None = None
    thread_id: str | None = None  # as stored now


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def _clean_id(value: str | None) -> str | None:
    value = (value or "").strip()
    return value.lower() if value else None


def compute_threads(emails: Iterable[EmailLinks]) -> dict[str, str]:
    """item_id → thread_id for every email given."""
    links = _UnionFind()
    keys: dict[str, str] = {}
    unlinked: list[EmailLinks] = []
    by_item: dict[str, EmailLinks] = {}
    for email in emails:
        by_item[email.item_id] = email
        own = _clean_id(email.message_id)
        key = f"mid:{own}" if own else f"item:{email.item_id}"
        keys[email.item_id] = key
        links.find(key)
        related = [_clean_id(r) for r in [*email.references, email.in_reply_to]]
        related = [r for r in related if r and r != own]
        for other in related:
            links.union(key, f"mid:{other}")
        if not related:
            unlinked.append(email)
    _join_by_subject(links, keys, by_item, unlinked)
    earliest: dict[str, tuple[str, str]] = {}  # component root → (date, key of its earliest email)
    for item_id, key in keys.items():
        root = links.find(key)
        candidate = (by_item[item_id].date or "9999", key)
        if root not in earliest or candidate < earliest[root]:
            earliest[root] = candidate
    return {
        item_id: "thread:" + hashlib.sha256(earliest[links.find(key)][1].encode()).hexdigest()[:24]
        for item_id, key in keys.items()
    }


def _join_by_subject(links: _UnionFind, keys: dict[str, str], by_item: dict[str, EmailLinks], unlinked: list[EmailLinks]) -> None:
    """Attach replies/forwards that carry no ids to the earliest thread with the same normalised subject."""
    first_by_subject: dict[str, tuple[str, str]] = {}
    for item_id, email in by_item.items():
        subject = normalise_subject(email.subject)
        if not subject:
            continue
        candidate = (email.date or "9999", keys[item_id])
        if subject not in first_by_subject or candidate < first_by_subject[subject]:
            first_by_subject[subject] = candidate
    for email in unlinked:
        subject = normalise_subject(email.subject)
        is_reply = subject != (email.subject or "").strip().lower()
        if subject and is_reply and subject in first_by_subject:
            links.union(keys[email.item_id], first_by_subject[subject][1])


def _scan_emails(client: OpenSearch, index: str) -> Iterator[EmailLinks]:
    fields = ["message_id", "in_reply_to", "references", "subject", "date", "thread_id"]
    for hit in helpers.scan(client, index=index, query={"query": {"term": {"kind": "email"}}, "_source": fields}, size=2000):
        source = hit["_source"]
        yield EmailLinks(hit["_id"], source.get("message_id"), source.get("in_reply_to"), source.get("references") or [],
                         source.get("subject"), source.get("date"), source.get("thread_id"))


def thread_index(client: OpenSearch, index: str) -> int:
    """Recompute every email's thread_id in `index`; write only the ones that changed. Returns that count."""
    emails = list(_scan_emails(client, index))
    threads = compute_threads(emails)
    changes = (
        {"_op_type": "update", "_index": index, "_id": email.item_id, "doc": {"thread_id": threads[email.item_id]}}
        for email in emails if email.thread_id != threads[email.item_id]
    )
    written, _ = helpers.bulk(client, changes, chunk_size=1000, raise_on_error=True)
    if written:
        client.indices.refresh(index=index)
    return written
