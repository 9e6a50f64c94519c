"""What every chat and SMS reader shares: message items, conversation ids, senders, local times.

Chat exports are hand-parsed (no maintained library reads WhatsApp, Slack, Teams, Telegram,
Signal or SMS Backup & Restore exports into one model); this module keeps the readers small.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from indexer.digests import text_sha256
from indexer.identities import normalise_phone
from indexer.model import Address, Item, valid_text
from indexer.sources.base import SourceContext


def conversation_key(channel: str, ctx: SourceContext, name: str) -> str:
    """A stable conversation id: the channel plus a hash of the source file, the conversation's name in it and its custody."""
    digest = ctx.item_id(f"conversation:{name}")[:24]  # per custody, like item ids: one copy's messages per view
    return f"{channel}:{digest}"


def sender_address(raw: str, region: str = "GB", handle: str | None = None) -> Address:
    """An Address for a chat sender: a phone number becomes `address` (E.164), anything else `name`.

    `handle` is a platform id (Slack user id, Telegram id) kept as the address when no phone is known.
    """
    raw = valid_text(raw.strip())
    phone = normalise_phone(raw, region)
    if phone:
        return Address(raw=raw, address=phone)
    return Address(raw=raw, name=raw or None, address=handle)


def local_time(naive: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """(UTC ISO 8601, offset like '+01:00') for a wall-clock time read in `zone`; aware times keep their offset."""
    aware = naive if naive.tzinfo else naive.replace(tzinfo=zone)
    offset = aware.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    utc = aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return utc, f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def message_item(
    ctx: SourceContext, *, channel: str, locator: str, conversation_id: str, conversation_name: str | None,
    seq: int, sender: Address | None, when: datetime | None, date_original: str | None, body: str,
    kind: str = "message", event: str | None = None, participants: list[Address] | None = None,
) -> Item:
    """One chat message (or system event) as an item; `when` is read in the source's time zone if naive.
    Lone surrogates (JSON exports may escape them, "\\ud800") are written out, as no UTF-8 writer takes them."""
    body = valid_text(body)
    conversation_name = valid_text(conversation_name) if conversation_name else conversation_name
    item_id = ctx.item_id(locator)
    item = Item(
        id=item_id, kind=kind, channel=channel, source_path=ctx.source_path, locator=locator,  # type: ignore[arg-type]
        source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=item_id,
        sender=sender, body=body, date_original=date_original, conversation_id=conversation_id,
        conversation_name=conversation_name, seq=seq, event=event, participants=participants or [],
    )
    if when is not None:
        item.date, item.timezone = local_time(when, ctx.timezone)
    item.content_sha256 = text_sha256(body) if body else None
    return item
