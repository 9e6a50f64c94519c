"""Single RFC 5322 messages (`.eml`): one email item plus its attachments.

Also the reader of messages found inside containers (a message/rfc822 part, an `.eml` in a zip, a
PST's embedded item): `read_member` makes them email items, children of their container.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from indexer.model import Item, Problem
from indexer.sources.base import Member, SourceContext, foreign_format, reading_whole
from indexer import errors
from indexer.sources.support.mime import MAX_LINE_BYTES, UTF8_BOM, cut_long_lines, message_items, parse_message, without_envelope
from indexer.sources.support.readpst_output import rtf_body_as_body, written_by_readpst

NAME = "eml"
CHANNEL = "email"
EXTENSIONS = (".eml", ".mht", ".mhtml")
# A header line at the very start of the file: "Name: value" with a name an email would have.
_HEADER_START = re.compile(rb"^(?:[\w-]+:[^\n]*\n)+", re.IGNORECASE)
_KNOWN_HEADER = re.compile(rb"^(received|return-path|from|to|subject|date|message-id|mime-version|delivered-to|x-[\w-]+):", re.I | re.M)


def accepts(path: Path, head: bytes) -> int:
    """High for .eml files, lower for other files that start with email headers; 0 for binary content."""
    if path.is_dir():
        return 0
    head = head.removeprefix(UTF8_BOM)
    if b"\x00" in head[:1024]:
        return 0  # a mislabelled binary file (often an Outlook .msg saved as .eml)
    if path.suffix.lower() in EXTENSIONS:
        return 0 if foreign_format(head) else 100  # a PDF or ZIP named .eml is read as what it is
    if head.startswith(b"From "):
        return 0  # an mbox
    if _HEADER_START.match(head.replace(b"\r\n", b"\n")) and _KNOWN_HEADER.search(head[:1024]):
        return 50
    return 0


def accepts_member(member: Member) -> int:
    """100 for a member declared message/rfc822 or named .eml; 50 for one that starts with email headers."""
    head = without_envelope(member.head)
    if member.content_type == "message/rfc822":
        return 100  # what it holds is checked by `read_member`: a part that is not a message is reported
    if b"\x00" in head[:1024] or foreign_format(head) or _is_mailbox(member):
        return 0
    if member.name.lower().endswith(".eml"):
        return 100
    if _HEADER_START.match(head.replace(b"\r\n", b"\n")) and _KNOWN_HEADER.search(head[:1024]):
        return 50
    return 0


_NEXT_ENVELOPE = re.compile(rb"\n\r?\nFrom [^\r\n]*\r?\n[\w-]+:")


def _is_mailbox(member: Member) -> bool:
    """True for an mbox (a second message's envelope line further on): not one message, so not ours."""
    return member.name.lower().endswith((".mbox", ".mbx")) or (
        member.data.startswith(b"From ") and _NEXT_ENVELOPE.search(member.data) is not None)


def read_member(member: Member, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The message in `member` as an email item (a child of `member.parent`) and its attachments;
    raises errors.Corrupt when it has no email headers."""
    data, cut = cut_long_lines(without_envelope(member.data))
    msg = parse_message(data)
    if written_by_readpst(msg):  # elsewhere `rtf-body.rtf` is an attachment like any other
        msg = rtf_body_as_body(msg)
    produced = list(message_items(msg, ctx, member.locator, member))
    if not any(isinstance(thing, Item) for thing in produced):
        raise errors.Corrupt("no email headers found")
    yield from produced
    if cut:
        yield Problem(ctx.source_path, member.locator, errors.TooLarge.code,
                      f"{cut} line(s) of the message are longer than {MAX_LINE_BYTES} bytes; they were cut there before reading")


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The message in `path` and its attachments."""
    with reading_whole(path.stat().st_size):
        data, cut = cut_long_lines(path.read_bytes())
        produced = list(message_items(parse_message(data), ctx, locator=""))
        del data
    yield from produced
    if cut:
        yield Problem(ctx.source_path, "", errors.TooLarge.code,
                      f"{cut} line(s) of the message are longer than {MAX_LINE_BYTES} bytes; they were cut there before reading")
