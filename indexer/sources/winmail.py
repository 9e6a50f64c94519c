"""TNEF files on their own (`winmail.dat`, `.tnef`), and TNEF streams found in containers (a
winmail.dat in a zip, a message embedded in a TNEF stream): one email item each.

A loose TNEF file is an Outlook message without its carrying email, so it is read as an email with
what the stream holds (`tnef.decode_tnef`, the same decoding as for a winmail.dat attachment): the
subject, sender, recipients and sent time from its MAPI properties or TNEF attributes (an Exchange
sender's X500 address kept in `raw`, as for .msg files), the Message-ID, the body (plain text plus
the words only its HTML body holds, else the HTML's text, else the RTF body through Tika), and its
files as attachments through the registry. Tika is not used for the stream itself: it reads the
attachments and the RTF body, but drops the HTML body, which is often the only one. A loose file
that is not a readable TNEF stream is read by Tika as a document instead, and reported `corrupt`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from indexer import errors
from indexer.digests import email_dup_key, text_sha256
from indexer.model import Item, Problem
from indexer.sources import document
from indexer.sources.base import Member, SourceContext, foreign_format, reading_whole
from indexer.sources.support.html_body import sanitize_html
from indexer.sources.support.mime import tnef_children
from indexer.sources.msg import mapi_address
from indexer.sources.support.tnef import TnefContent, decode_tnef

NAME = "tnef"
CHANNEL = "email"
SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
NAMES = ("winmail.dat", "win.dat")
EXTENSIONS = (".tnef",)
_RECIPIENT_FIELDS = {1: "to", 2: "cc", 3: "bcc"}  # PR_RECIPIENT_TYPE


def _score(name: str, head: bytes) -> int:
    if head.startswith(SIGNATURE):
        return 100
    if foreign_format(head):
        return 0
    lowered = name.lower()
    return 50 if lowered in NAMES or lowered.endswith(EXTENSIONS) else 0  # read() reports what is not TNEF


def accepts(path: Path, head: bytes) -> int:
    """100 for a file starting with the TNEF signature; 50 for the name alone (winmail.dat, .tnef)."""
    return 0 if path.is_dir() or not head else _score(path.name, head)


def accepts_member(member: Member) -> int:
    """As `accepts`, for a file found in a container."""
    return _score(member.name, member.head) if member.head else 0


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The message in the TNEF file, its attachments, and a Problem for anything not fully read. A file
    that is not a readable TNEF stream (damaged, or only named `.tnef`) is read as a document (Tika) so
    its text is still indexed, and reported `corrupt`."""
    with reading_whole(path.stat().st_size):
        try:
            produced = list(_items(path.read_bytes(), ctx, "", None))
        except errors.Corrupt as exc:
            produced = list(document.read(path, ctx))
            top = next((p for p in produced if isinstance(p, Item) and p.locator == ""), None)
            reason = f"{exc}; the file was read as a document instead"
            if top is not None:
                top.problems.append(reason)
            produced.append(Problem(ctx.source_path, "", errors.Corrupt.code, reason, top.id if top else None))
    yield from produced


def read_member(member: Member, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The TNEF stream in `member` as an email item (a child of `member.parent`) and its attachments."""
    yield from _items(member.data, ctx, member.locator, member)


def _items(data: bytes, ctx: SourceContext, locator: str, member: Member | None) -> Iterator[Item | Problem]:
    content = decode_tnef(data)
    item_id = ctx.item_id(locator)
    item = Item(id=item_id, kind="email", channel=CHANNEL, source_path=ctx.source_path, locator=locator,
                source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=item_id,
                content_type="application/ms-tnef")
    if member is not None:
        item.family_id, item.parent_id, item.depth = member.parent.family_id, member.parent.id, member.parent.depth + 1
        item.file_name, item.size = member.name, len(data)
    problems: list[Problem] = []

    note = partial(ctx.note, problems)

    _read_fields(content, item)
    children, body = tnef_children(content, locator, item, ctx, note, problems.append)
    item.body = body.strip()
    if content.html:
        item.body_html = sanitize_html(content.html) or None
    if content.damage:
        item.extraction = "partial"
    item.content_sha256 = text_sha256(item.body)
    item.dup_group = email_dup_key(item, children)  # needs the attachments' keys: before the email is yielded
    yield item
    yield from children
    yield from problems


def _read_fields(content: TnefContent, item: Item) -> None:
    item.subject = content.subject
    item.message_id = content.message_id
    if content.sender:
        item.sender = mapi_address(*content.sender)
    for kind, name, smtp, other in content.recipients:
        address = mapi_address(name, smtp, other)
        if address is not None:
            getattr(item, _RECIPIENT_FIELDS.get(kind, "to")).append(address)
    if content.sent is not None:
        sent = content.sent if content.sent.tzinfo else content.sent.replace(tzinfo=timezone.utc)
        item.date = item.date_original = _utc(sent)


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")

