"""Exact-duplicate keys: items that are the same evidence share a `dup_group`.

Duplicates stay separate items, because who held a copy (custodian, official or private
record) is itself evidence; the group lets search collapse them and an item say "also held by".

- email: a normalised message hash over sender, recipients, subject, date, body and the
  attachments' file hashes, so the same message exported from two mailboxes (or as EML and
  from an MBOX) matches, whatever the transport headers say;
- attachment or document: the hash of the file's bytes;
- chat message or SMS: channel, sender, time and text.
"""

from __future__ import annotations

import hashlib
import re

from indexer.enrich.hashing import text_sha256
from indexer.model import Item

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|tr|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise_subject(subject: str | None) -> str:
    """Subject without reply/forward prefixes, case and spacing: the thread-subject key."""
    return _SPACE.sub(" ", _SUBJECT_PREFIX.sub("", subject or "")).strip().lower()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


def email_dup_key(item: Item, attachment_hashes: list[str]) -> str:
    """The normalised message hash of an email (see module docstring)."""
    sender = (item.sender.address or item.sender.raw).lower() if item.sender else ""
    recipients = sorted((a.address or a.raw).lower() for a in item.to + item.cc + item.bcc)
    return "email:" + _digest(
        sender, ",".join(recipients), normalise_subject(item.subject), item.date or "",
        text_sha256(item.body), ",".join(sorted(attachment_hashes)),
    )


def assign_dup_group(item: Item) -> None:
    """Set `item.dup_group` when the source has not (emails get theirs from the MIME reader)."""
    if item.dup_group:
        return
    if item.kind in ("attachment", "document") and item.content_sha256:
        item.dup_group = "file:" + item.content_sha256
    elif item.kind in ("message", "sms"):
        sender = (item.sender.address or item.sender.raw).lower() if item.sender else ""
        item.dup_group = f"{item.channel}:" + _digest(sender, item.date or "", text_sha256(item.body), item.event or "")
    elif item.kind == "email":
        item.dup_group = email_dup_key(item, [])
    else:
        item.dup_group = "item:" + item.id
