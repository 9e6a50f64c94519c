"""Content digests and the exact-duplicate keys built from them.

Readers hash what they read (a file's bytes, an item's text) and the email readers set an email's
duplicate key before yielding it, because only they know its attachments; enrichment
(`indexer.enrich.duplicates`) gives every other item its key. Both use this module, so neither
imports the other.

Duplicate keys (an item's `dup_group`): items that are the same evidence share one. Duplicates stay
separate items, because who held a copy (custodian, official or private record) is itself evidence;
the group lets search collapse them and an item say "also held by".

- email: a hash over the headers that identify the message (sender, recipients, normalised
  subject, date), the body text and every attachment's name and content hash, so the same message
  exported from two mailboxes (or as EML and from an MBOX) matches, whatever the transport
  headers say, while the same text sent with another attachment does not: collapsing
  duplicates must never hide an attachment nobody has seen. An attached email counts by its own
  key, so its sender and its attachments count too. The email readers (`mime`, `msg`, `winmail`)
  set it (`email_dup_key`) once they have read the attachments, before yielding the email;
- attachment or document: the hash of the file's bytes;
- chat message or SMS: channel, sender, time and text (`message_dup_key`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from indexer.model import Item

_SPACE = re.compile(r"\s+")
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|tr|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def text_sha256(text: str) -> str:
    """SHA-256 of text with whitespace runs collapsed, so re-wrapped copies hash the same."""
    return hashlib.sha256(_SPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()


def bytes_sha256(data: bytes) -> str:
    """SHA-256 of raw bytes (files and attachments)."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(folder) -> str:
    """SHA-256 over a folder's regular files (relative path and content digest, in sorted order)."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(f"{path.relative_to(root).as_posix()}\x00{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def normalise_subject(subject: str | None) -> str:
    """Subject without reply/forward prefixes, case and spacing: the thread-subject key."""
    return _SPACE.sub(" ", _SUBJECT_PREFIX.sub("", subject or "")).strip().lower()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


def email_dup_key(item: Item, attachments: Iterable[Item]) -> str:
    """The duplicate key of the email `item` (see module docstring), given the items its reader made of
    its attachments: every child of `item` among them counts by its content hash (an attached email by
    its own duplicate key, which its reader set first: its body alone would match another sender's or
    another attachment's copy), and every name in
    `item.attachment_names` (so an attachment that could not be read, and gave no item, still counts)."""
    sender = (item.sender.address or item.sender.raw).lower() if item.sender else ""
    recipients = sorted((a.address or a.raw).lower() for a in item.to + item.cc + item.bcc)
    hashes = sorted(_child_key(child) for child in attachments if child.parent_id == item.id)
    return "email:" + _digest(
        sender, ",".join(recipients), normalise_subject(item.subject), item.date or "",
        text_sha256(item.body), ",".join(hashes), "\x1e".join(sorted(item.attachment_names)),
    )


def _child_key(child: Item) -> str:
    if child.kind == "email":
        return child.dup_group or "item:" + child.id  # no key: matches nothing, so it hides nothing
    return child.content_sha256 or ""


def message_dup_key(item: Item) -> str:
    """The duplicate key of a chat message or SMS: its channel, sender, time, text and event."""
    sender = (item.sender.address or item.sender.raw).lower() if item.sender else ""
    return f"{item.channel}:" + _digest(sender, item.date or "", text_sha256(item.body), item.event or "")
