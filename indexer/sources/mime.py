"""One RFC 5322 / MIME message to items: the email itself and every attachment inside it.

Shared by the EML and MBOX readers (and later Maildir). Headers and bodies come from the
standard library's `email` package (policy.default); attachments go to Tika, whose
recursive output becomes one item per embedded file. A part that cannot be decoded still
yields its item, marked `extraction=partial|failed`, plus a Problem for the report.
"""

from __future__ import annotations

import email
import email.utils
from collections.abc import Iterator
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage, Message

from charset_normalizer import from_bytes
from selectolax.lexbor import LexborHTMLParser

from indexer import errors
from indexer.enrich.duplicates import email_dup_key
from indexer.enrich.hashing import text_sha256
from indexer.model import Address, Item, Problem, stable_id
from indexer.sources.attachments import attachment_items
from indexer.sources.base import SourceContext

_IDENTIFYING_HEADERS = ("from", "to", "date", "subject", "message-id", "received", "mime-version", "sender")


def parse_message(data: bytes) -> EmailMessage:
    """Parse raw message bytes with the modern email policy."""
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def html_to_text(html: str) -> str:
    """Visible text of an HTML body (scripts and styles dropped); never executes anything."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, head"):
        node.decompose()
    root = tree.body or tree.root
    return root.text(separator="\n", strip=True) if root else ""


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception as exc:  # noqa: BLE001 - the email package raises many types on malformed headers
        raise errors.Corrupt(f"malformed {name} header: {exc}") from exc
    return str(value).strip() if value is not None else None


def _addresses(msg: Message, name: str) -> list[Address]:
    raws = msg.get_all(name) or []
    found = []
    for display, address in email.utils.getaddresses([str(raw) for raw in raws]):
        if not display and not address:
            continue
        raw = email.utils.formataddr((display, address)) if display else address
        found.append(Address(raw=raw, name=display or None, address=address.lower() or None))
    return found


def _date(raw: str | None) -> tuple[str | None, str | None]:
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


def _decode_text(part: Message) -> tuple[str, str | None]:
    """(text, problem) for a text/* part; undecodable charsets fall back to detection."""
    if part.get_content_maintype() == "message":  # delivery-status, rfc822-headers: header blocks as text
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else [payload]
        return "\n".join(b.as_string() if isinstance(b, Message) else str(b) for b in blocks), None
    if part.get_content_maintype() == "multipart":  # its boundary was never found: keep the raw text
        return str(part.get_payload()), "multipart boundary not found; the raw body text was indexed"
    try:
        return part.get_content(), None  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AssertionError, KeyError) as exc:
        payload = part.get_payload(decode=True) or b""
        best = from_bytes(payload).best()
        text = str(best) if best is not None else payload.decode("utf-8", errors="replace")
        return text, f"body charset {part.get_content_charset()!r} not decodable ({exc.__class__.__name__}); detected instead"


def _is_attachment(part: Message) -> bool:
    if part.get_content_type() == "message/rfc822":
        return True
    if part.get_content_maintype() in ("multipart", "message"):
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment" or _filename(part):
        return True
    return part.get_content_maintype() != "text"


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except Exception:  # noqa: BLE001 - a malformed Content-Disposition; the caller names the part by number
        return None


def _walk(part: Message) -> Iterator[Message]:
    """Leaf parts of a message, not descending into attached messages (those are attachments)."""
    payload = part.get_payload()
    if part.get_content_maintype() == "multipart" and isinstance(payload, list):
        for sub in payload:
            yield from _walk(sub)
    else:
        yield part


def _attachment_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            return inner[0].as_bytes(policy=policy.default.clone(linesep="\r\n"))
    return part.get_payload(decode=True) or b""


def message_items(msg: EmailMessage, ctx: SourceContext, locator: str) -> Iterator[Item | Problem]:
    """Yield the email item for `msg` (at `locator` in its source) and its attachment items."""
    if not any(msg.get(name) is not None for name in _IDENTIFYING_HEADERS):
        yield Problem(ctx.source_path, locator, errors.Corrupt.code, "no email headers found: not an email message")
        return
    item_id = stable_id(ctx.source_sha256, locator)
    item = Item(
        id=item_id, kind="email", channel="email", source_path=ctx.source_path, locator=locator,
        source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=item_id,
    )
    problems: list[Problem] = []

    def note(code: str, reason: str, at: str = locator, target: Item = item) -> None:
        target.problems.append(reason)
        problems.append(Problem(ctx.source_path, at, code, reason, target.id))

    try:
        item.subject = _header(msg, "subject")
        senders = _addresses(msg, "from")
        item.sender = senders[0] if senders else None
        item.to, item.cc, item.bcc = _addresses(msg, "to"), _addresses(msg, "cc"), _addresses(msg, "bcc")
        item.date_original = _header(msg, "date")
        item.message_id = _header(msg, "message-id")
        item.in_reply_to = _header(msg, "in-reply-to")
        item.references = (_header(msg, "references") or "").split()
    except errors.IngestError as exc:
        note(exc.code, str(exc))
        item.extraction = "partial"
    item.date, item.timezone = _date(item.date_original)
    if item.date_original and not item.date:
        note(errors.Corrupt.code, f"unparsable Date header {item.date_original!r}")

    plain, html, attachments = [], [], []
    for part in _walk(msg):
        if _is_attachment(part):
            attachments.append(part)
        elif part.get_content_type() == "text/html":
            html.append(part)
        else:
            plain.append(part)
    bodies = []
    for part in plain or html:
        text, trouble = _decode_text(part)
        if trouble:
            note(errors.Corrupt.code, trouble)
            item.extraction = "partial"
        bodies.append(text if part in plain else html_to_text(text))
    item.body = "\n\n".join(b.strip() for b in bodies if b.strip())
    item.content_sha256 = text_sha256(item.body)

    children: list[Item] = []
    for number, part in enumerate(attachments, start=1):
        name = _filename(part) or f"attachment-{number}"
        item.attachment_names.append(name)
        at = f"{locator}/attachment[{number}]"
        try:
            data = _attachment_bytes(part)
            damage = part.defects[0].__class__.__name__ if part.defects else None
            children.extend(attachment_items(data, name, part.get_content_type(), at, item, ctx, note, damage))
        except Exception as exc:  # noqa: BLE001 - a hostile part must not cost the email and its other parts
            note("reader_error", f"attachment {name!r} could not be read: {exc.__class__.__name__}: {exc}", at)
    direct = [c.content_sha256 or "" for c in children if c.parent_id == item.id]
    item.dup_group = email_dup_key(item, direct)
    yield item
    yield from children
    yield from problems
