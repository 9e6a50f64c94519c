"""Exact-duplicate groups: every item gets a `dup_group`, the key its copies share.

The keys themselves (and why they are built as they are) live in `indexer.digests`, because the
email readers set an email's key before yielding it; this step fills in the key of every other item.
"""

from __future__ import annotations

from indexer.digests import message_dup_key
from indexer.model import Item


def assign_dup_group(item: Item) -> None:
    """Set `item.dup_group` when the source has not. Emails get theirs from their reader, which knows
    their attachments; an email that comes without one is grouped with nothing, so it is never hidden
    behind a copy whose attachments may differ."""
    if item.dup_group:
        return
    if item.kind in ("attachment", "document") and item.content_sha256:
        item.dup_group = "file:" + item.content_sha256
    elif item.kind in ("message", "sms"):
        item.dup_group = message_dup_key(item)
    else:
        item.dup_group = "item:" + item.id
