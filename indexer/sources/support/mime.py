"""One RFC 5322 / MIME message to items: the email itself and every attachment inside it.

Shared by the EML, MBOX and Maildir readers. Headers and bodies come from the standard
library's `email` package (policy.default); what each part is (body, attachment, TNEF,
signature, encrypted) is decided in `mime_parts`; attachments go to Tika, whose recursive
output becomes one item per embedded file. An attached message (message/rfc822, an attached
.msg or .eml) goes back to the registry (`nested.member_items`) and becomes an email item of its
own, with its own attachments. TNEF `winmail.dat` parts are opened with tnefparse (`tnef`) and
their files indexed as the email's attachments. Detached signatures
are not indexed (they are not content); encrypted bodies cannot be read and are reported.
An HTML body also gives `body_html`, a sanitised copy for display; where a plain body exists too,
the HTML lines holding words it lacks are added to `body`. Headers readpst made up are read
for what they stand for (`readpst_output`). A part that cannot be
decoded still yields its item, marked `extraction=partial|failed`, plus a Problem.
"""

from __future__ import annotations

import email
import email.errors
import email.parser
import email.utils
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timezone
from email import policy
from email.message import EmailMessage, Message
from functools import partial
from typing import Any

from indexer import errors
from indexer.digests import email_dup_key, text_sha256
from indexer.model import Address, Item, Problem
from indexer.sources.support import mime_parts, readpst_output
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import Member, Note, SourceContext
from indexer.sources.support.html_body import html_to_text, sanitize_html, with_other_renderings
from indexer.sources.support.nested import member_items
from indexer.sources.support.tnef import TnefContent, decode_tnef

__all__ = ["email_item", "html_to_text", "looks_like_message", "message_items", "parse_message", "parse_date", "without_envelope"]

# MIME multiparts nested deeper than this are not read: no mail client writes them, and the standard
# library parses nesting recursively (a few hundred levels exhaust Python's stack: a MIME bomb).
MAX_MIME_DEPTH = 100


class NestedTooDeep(email.errors.MessageDefect):
    """The message's parts are nested too deeply to parse; only its headers were parsed."""


UTF8_BOM = b"\xef\xbb\xbf"


def parse_message(data: bytes) -> EmailMessage:
    """Parse raw message bytes with the modern email policy. A structure nested too deeply for the
    parser gives the headers only (the body as raw text), with a `NestedTooDeep` defect. A UTF-8
    byte-order mark some editors write at the start is not part of the first header's name."""
    data = data.removeprefix(UTF8_BOM)
    try:
        return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]
    except RecursionError:
        msg = email.parser.BytesParser(policy=policy.default).parsebytes(data, headersonly=True)
        msg.defects.append(NestedTooDeep())
        return msg  # type: ignore[return-value]


# The start of a file `looks_like_message` parses: far more than any header block needs.
_SNIFF_BYTES = 64 * 1024
_NOT_A_HEADER_BLOCK = (email.errors.MissingHeaderBodySeparatorDefect, email.errors.FirstHeaderLineIsContinuationDefect)


def looks_like_message(data: bytes) -> bool:
    """True when `data` starts with an RFC 5322 header block: at least one header, then a blank line
    or the end. Any headers count (a digest part may have only Content-Type); a text whose first
    line merely has a colon ("Note: call back") is not a message, because its next line is no header."""
    head = data[:_SNIFF_BYTES].removeprefix(UTF8_BOM)
    if b"\x00" in head:
        return False
    if len(data) > _SNIFF_BYTES and b"\n" in head:
        head = head[:head.rfind(b"\n") + 1]  # whole lines only
    parsed = email.parser.BytesParser(policy=policy.compat32).parsebytes(head, headersonly=True)
    return bool(parsed.keys()) and not any(isinstance(defect, _NOT_A_HEADER_BLOCK) for defect in parsed.defects)


_ENVELOPE = re.compile(rb"\A[\r\n]*>?From [^\r\n]*\r?\n(?=[\w-]+:)")


def without_envelope(data: bytes) -> bytes:
    """`data` without leading blank lines and an mbox envelope line (`From sender date`, or `>From ...`,
    which readpst writes at the top of an embedded message): the parser would take it for the body."""
    match = _ENVELOPE.match(data)
    return data[match.end():] if match else data.lstrip(b"\r\n")


# Longer lines are cut before parsing (see `cut_long_lines`). Far above any real header or text line,
# but an HTML body may carry a multi-megabyte data: URI image on one line.
MAX_LINE_BYTES = 10 * 1024 * 1024


def cut_long_lines(data: bytes, limit: int = MAX_LINE_BYTES) -> tuple[bytes, int]:
    """(`data` with every line longer than `limit` bytes cut there, how many were cut). The email
    parser copies a line several times over, so a 100 MB header or one-line body would cost
    gigabytes; no mail client writes lines like that (RFC 5322 allows 998 characters)."""
    if len(data) <= limit:
        return data, 0
    lines = data.split(b"\n")
    if max(map(len, lines)) <= limit:
        return data, 0
    cut = sum(len(line) > limit for line in lines)
    return b"\n".join(line[:limit] for line in lines), cut


def parse_addresses(values: list[str]) -> list[Address]:
    """Addresses from decoded header values like 'Ann <ann@x.org>, bob@y.org'."""
    found = []
    for display, address in email.utils.getaddresses(values):
        # Outlook quotes names and bare addresses ('bob@x.org', "'Bob Smith'"); readpst passes them on.
        display, address = _unquoted(display), _unquoted(address)
        if not display and not address:
            continue
        raw = f"{_quoted(display)} <{address}>" if display else address
        found.append(Address(raw=raw, name=display or None, address=address.lower() or None))
    return found


def _unquoted(text: str) -> str:
    """`text` without one pair of quotes around all of it."""
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return text


def _quoted(display: str) -> str:
    """A display name as written in a header, quoted when it holds specials; never RFC 2047-encoded."""
    if not email.utils.specialsre.search(display):
        return display
    return '"' + email.utils.escapesre.sub(r"\\\g<0>", display) + '"'


def parse_date(raw: str | None) -> tuple[str | None, str | None]:
    """(UTC ISO 8601, original offset like '+01:00') from a Date header; (None, None) if unparsable."""
    if not raw:
        return None, None
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None, None
    if parsed.tzinfo is None:  # "-0000" or no zone: RFC 5322 says the zone is unknown; treat as UTC
        parsed = parsed.replace(tzinfo=timezone.utc)
        zone = None
    else:
        offset = parsed.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        zone = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return parsed.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"), zone


@dataclass
class _Parts:
    """The leaf parts of one message, by role (see `mime_parts.role`)."""

    plain: list[Message] = field(default_factory=list)
    html: list[Message] = field(default_factory=list)
    rtf: list[tuple[Message, bool]] = field(default_factory=list)  # (part, is one of a multipart/alternative)
    attachments: list[Message] = field(default_factory=list)
    encrypted: list[Message] = field(default_factory=list)
    signatures: int = 0
    too_deep: bool = False  # multiparts below MAX_MIME_DEPTH were not read


def _is_container(part: Message) -> bool:
    return (part.get_content_maintype() == "multipart" and part.get_content_type() != "multipart/encrypted"
            and isinstance(part.get_payload(), list))


def _walk(part: Message, alternative: bool = False, depth: int = 0) -> Iterator[tuple[Message, bool]]:
    """(leaf part, inside multipart/alternative), not descending into attached or encrypted messages,
    nor below MAX_MIME_DEPTH (the multipart found there is yielded as it is)."""
    if _is_container(part) and depth < MAX_MIME_DEPTH:
        for sub in part.get_payload():
            yield from _walk(sub, part.get_content_type() == "multipart/alternative", depth + 1)
    else:
        yield part, alternative


def _sort_parts(msg: Message) -> _Parts:
    parts = _Parts()
    for part, alternative in _walk(msg):
        if _is_container(part):
            parts.too_deep = True
            continue
        role = mime_parts.role(part)
        if role == "signature":
            parts.signatures += 1
        elif role == "encrypted":
            parts.encrypted.append(part)
        elif role in ("attachment", "tnef"):
            parts.attachments.append(part)
        elif role == "rtf":
            parts.rtf.append((part, alternative))
        else:
            getattr(parts, role).append(part)
    return parts


def _attachment_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            return inner[0].as_bytes(policy=policy.default.clone(linesep="\r\n"))
    return part.get_payload(decode=True) or b""


def _addresses(msg: Message, name: str) -> list[Address]:
    return parse_addresses(mime_parts.header_texts(msg, name))


def _first_address(msg: Message, name: str) -> Address | None:
    return next(iter(_addresses(msg, name)), None)


def _words(msg: Message, name: str) -> list[str]:
    return (mime_parts.header_text(msg, name) or "").split()


# (item attribute, header, how it is read)
_HEADER_FIELDS: tuple[tuple[str, str, Callable[[Message, str], Any]], ...] = (
    ("subject", "subject", mime_parts.header_text), ("sender", "from", _first_address),
    ("to", "to", _addresses), ("cc", "cc", _addresses), ("bcc", "bcc", _addresses),
    ("date_original", "date", mime_parts.original_header), ("message_id", "message-id", mime_parts.header_text),
    ("in_reply_to", "in-reply-to", mime_parts.header_text), ("references", "references", _words),
)


def _read_headers(msg: Message, item: Item, note: Note) -> None:
    """The item's header fields, each read on its own: a header that cannot be read loses only itself."""
    for attribute, name, read in _HEADER_FIELDS:
        try:
            setattr(item, attribute, read(msg, name))
        except Exception as exc:  # noqa: BLE001 - the email package raises many types on headers it cannot parse
            note(errors.Corrupt.code, f"unreadable {name} header: {exc.__class__.__name__}: {exc}", item.locator, item)
            item.extraction = "partial"
    item.date, item.timezone = parse_date(item.date_original)
    if item.date_original and not item.date:
        note(errors.Corrupt.code, f"unparsable Date header {item.date_original!r}", item.locator, item)


def _read_body(parts: _Parts, item: Item, ctx: SourceContext, note: Note) -> None:
    """Body text from the plain parts, else the HTML parts, else the RTF parts (through Tika)."""
    texts = {}
    limit = ctx.limits.max_text_chars
    for part in parts.plain + parts.html:
        texts[id(part)], trouble, cut = mime_parts.part_text(part, limit)
        if trouble:
            note(errors.Corrupt.code, trouble, item.locator, item)
            item.extraction = "partial"
        if cut:
            note(errors.TooLarge.code, f"a body part is longer than {limit} bytes; only the first {limit} were read", item.locator, item)
            item.extraction = "partial"
    html_texts = [html_to_text(texts[id(p)]) for p in parts.html]
    bodies = [texts[id(p)] for p in parts.plain] or list(html_texts)
    if parts.html:
        item.body_html = sanitize_html("\n".join(texts[id(p)] for p in parts.html)) or None
    for part, alternative in parts.rtf:
        if bodies and alternative:
            continue  # another rendering of the body already read
        if bodies:
            parts.attachments.append(part)
            continue
        try:
            bodies.append(mime_parts.rtf_to_text(part.get_payload(decode=True) or b"", ctx))
        except errors.IngestError as exc:
            note(exc.code, f"RTF body could not be read: {exc}", item.locator, item)
            item.extraction = "partial"
    item.body = "\n\n".join(b.strip() for b in bodies if b.strip())
    if parts.plain and html_texts:  # alternatives that differ: the HTML's own words are searchable too
        item.body = with_other_renderings(item.body, html_texts)


def _unclosed(msg: Message) -> bool:
    """True when a multipart of `msg` (down to MAX_MIME_DEPTH) ends without its closing boundary."""
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if any(isinstance(defect, email.errors.CloseBoundaryNotFoundDefect) for defect in part.defects):
            return True
        if depth < MAX_MIME_DEPTH and _is_container(part):
            stack.extend((sub, depth + 1) for sub in part.get_payload())
    return False


def _note_structure(msg: Message, parts: _Parts, item: Item, note: Note) -> None:
    """Report a structure too deep to read whole (a MIME bomb, or a damaged message) or cut short."""
    if _unclosed(msg):
        note(errors.Corrupt.code, "the message ends before its closing MIME boundary: it is probably truncated; "
             "the parts before the cut were indexed", item.locator, item)
        item.extraction = "partial"
    if any(isinstance(defect, NestedTooDeep) for defect in msg.defects):
        note(errors.Corrupt.code, "the MIME structure is nested too deeply to parse (a MIME bomb?); only the "
             "headers and the raw body text were indexed", item.locator, item)
        item.extraction = "partial"
    elif parts.too_deep:
        note(errors.Corrupt.code, f"MIME parts nested more than {MAX_MIME_DEPTH} levels deep were not read "
             "(a MIME bomb?)", item.locator, item)
        item.extraction = "partial"


def _note_protection(parts: _Parts, item: Item, note: Note) -> None:
    """Encrypted content is reported; a signature is mentioned on the item, not reported (nothing is lost)."""
    if parts.encrypted or item.body.lstrip().startswith(mime_parts.PGP_ARMOUR):
        kinds = sorted({p.get_content_type() for p in parts.encrypted} or {"inline PGP"})
        note(errors.Encrypted.code, f"the message content is encrypted ({', '.join(kinds)}); only its headers were indexed", item.locator, item)
        item.extraction = "failed"
    if parts.signatures:
        item.problems.append("signed message: the signature was not verified and is not indexed")


def tnef_children(content: TnefContent, at: str, item: Item, ctx: SourceContext, note: Note,
                  keep: Callable[[Problem], None]) -> tuple[list[Item], str]:
    """Items for the files inside a decoded TNEF stream (children of `item`, at `at`/tnef[N]) and its
    body text; its damage is noted. Problems of nested readers go to `keep`."""
    if content.damage:
        note(errors.Corrupt.code, f"winmail.dat is damaged: {content.damage}", at, item)
    children: list[Item] = []
    for number, inner in enumerate(content.files, start=1):
        item.attachment_names.append(inner.name)
        member = Member(inner.data, inner.name, None, f"{at}/tnef[{number}]", item)
        _split(member_items(member, ctx, note), children, keep)
    body = tnef_body(content)
    if not body.strip() and content.rtf:
        try:
            body = mime_parts.rtf_to_text(content.rtf, ctx)
        except errors.IngestError as exc:
            note(exc.code, f"winmail.dat RTF body could not be read: {exc}", at, item)
    return children, body


def tnef_body(content: TnefContent) -> str:
    """The text of a TNEF stream's plain body, with the words only its HTML body holds (or the HTML's text
    alone); RTF is the caller's fallback, since it needs Tika."""
    html = html_to_text(content.html) if content.html else ""
    return with_other_renderings(content.body, [html]) if content.body and content.body.strip() else html


def _split(produced: Iterator[Item | Problem], items: list[Item], keep: Callable[[Problem], None]) -> None:
    for thing in produced:
        if isinstance(thing, Item):
            items.append(thing)
        else:
            keep(thing)


def _attachment_children(parts: _Parts, item: Item, locator: str, ctx: SourceContext, note: Note,
                         keep: Callable[[Problem], None]) -> list[Item]:
    """Items for every attachment part (attached messages read as emails, other files through Tika);
    TNEF bodies fill an empty email body. Problems of nested messages go to `keep`."""
    children: list[Item] = []
    for number, part in enumerate(parts.attachments, start=1):
        name = mime_parts.filename(part) or mime_parts.default_name(part, number)
        at = f"{locator}/attachment[{number}]"
        try:
            data = _attachment_bytes(part)
            damage = part.defects[0].__class__.__name__ if part.defects else None
            if mime_parts.role(part) == "tnef":
                try:
                    inner, body = tnef_children(decode_tnef(data), at, item, ctx, note, keep)
                    children.extend(inner)
                    if body.strip() and not item.body:
                        item.body = body.strip()
                    continue
                except errors.Corrupt as exc:  # index the container as it is (to Tika), reported as damaged
                    item.attachment_names.append(name)
                    children.extend(attachment_items(data, name, part.get_content_type(), at, item, ctx, note, str(exc)))
                    continue
            item.attachment_names.append(name)
            _split(member_items(Member(data, name, part.get_content_type(), at, item), ctx, note, damage), children, keep)
        except RecursionError:
            note(errors.Corrupt.code, f"attachment {name!r} is nested too deeply to read (a MIME bomb?)", at, item)
        except Exception as exc:  # noqa: BLE001 - a hostile part must not cost the email and its other parts
            note("reader_error", f"attachment {name!r} could not be read: {exc.__class__.__name__}: {exc}", at, item)
    return children


def message_items(msg: EmailMessage, ctx: SourceContext, locator: str, member: Member | None = None) -> Iterator[Item | Problem]:
    """Yield the email item for `msg` (at `locator` in its source) and its attachment items. A `member`
    (an attached message) makes the email a child of the member's parent, in the parent's family."""
    if not msg.keys():  # any RFC 5322 header block makes a message, however few or unusual its headers
        yield Problem(ctx.source_path, locator, errors.Corrupt.code, "no email headers found: not an email message")
        return
    item = email_item(ctx, locator, member)
    problems: list[Problem] = []

    note = partial(ctx.note, problems)

    _read_headers(msg, item, note)
    readpst_output.read_made_up_headers(msg, item, parse_addresses)
    parts = _sort_parts(msg)
    _read_body(parts, item, ctx, note)
    _note_structure(msg, parts, item, note)
    _note_protection(parts, item, note)
    children = _attachment_children(parts, item, locator, ctx, note, problems.append)
    item.content_sha256 = text_sha256(item.body)
    item.dup_group = email_dup_key(item, children)  # needs the attachments' hashes: before the email is yielded
    yield item
    yield from children
    yield from problems


def email_item(ctx: SourceContext, locator: str, member: Member | None, content_type: str = "message/rfc822") -> Item:
    """The empty email item at `locator`; a `member` (an attached message, of `content_type`) makes it a
    child of the member's parent, in the parent's family."""
    item_id = ctx.item_id(locator)
    item = Item(id=item_id, kind="email", channel="email", source_path=ctx.source_path, locator=locator,
                source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=item_id)
    if member is not None:
        item.family_id, item.parent_id, item.depth = member.parent.family_id, member.parent.id, member.parent.depth + 1
        item.file_name, item.content_type, item.size = member.name, content_type, len(member.data)
    return item
