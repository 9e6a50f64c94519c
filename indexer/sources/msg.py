"""Outlook `.msg` files (an OLE compound file holding one MAPI message), read with extract-msg.

Accepted: OLE files named `.msg`, and OLE files under another name whose directory holds a
MAPI message class (a `.msg` saved as `.eml`). Mapped fields: subject; sender and
recipients from the MAPI properties, preferring the SMTP address (an Exchange X500 address
is kept in `raw` when no SMTP address is stored); the date from the submit time, else the
delivery time, else the transport headers' Date, else the creation time (noted on the
item), with the original offset from the Date header when there is one; Message-ID,
In-Reply-To and References from the transport headers or their MAPI properties. The body
is the plain body (with the lines of the HTML body that hold words it lacks); else the HTML
body as text (extract-msg de-encapsulates HTML wrapped in RTF), kept sanitised in `body_html`
too; else the RTF body through Tika. A non-Unicode message's 8-bit strings are decoded in the
code page `mapi_codepage` chooses from the message's signals (a detected one is reported).

Attachments go back to the registry (`nested.member_items`): files to Tika, and an attached
Outlook message (msg-in-msg), exported to bytes by extract-msg, to this reader's `read_member`,
so it becomes an email item of its own (sender, recipients, date, subject, its own attachments),
a child of the message it is attached to. S/MIME: a clear-signed message is read from its signed
content (the signature is not indexed); an encrypted one (IPM.Note.SMIME) keeps its headers
and is reported `encrypted`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import extract_msg
from extract_msg.enums import AttachmentType, ErrorBehavior, RecipientType

from indexer import errors
from indexer.digests import email_dup_key, text_sha256
from indexer.model import Address, Item, Problem
from indexer.sources.support import mapi_codepage, mime_parts
from indexer.sources.base import Member, Note, SourceContext
from indexer.sources.support.html_body import html_to_text, sanitize_html, with_other_renderings
from indexer.sources.support.mime import email_item, parse_addresses, parse_date, parse_message
from indexer.sources.support.nested import member_items

NAME = "msg"
CHANNEL = "email"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TOLERANT = ErrorBehavior.ATTACH_SUPPRESS_ALL | ErrorBehavior.RTFDE | ErrorBehavior.STANDARDS_VIOLATION


def accepts(path: Path, head: bytes) -> int:
    """100 for OLE files named .msg; 95 for other OLE files that hold a MAPI message; else 0."""
    if path.is_dir() or not head.startswith(OLE_SIGNATURE):
        return 0
    if path.suffix.lower() == ".msg":
        return 100
    return 95 if _holds_message(path) else 0


def accepts_member(member: Member) -> int:
    """100 for an OLE member named .msg or declared an Outlook message; 95 for another OLE member that
    holds a MAPI message; else 0."""
    if not member.head.startswith(OLE_SIGNATURE):
        return 0
    if member.name.lower().endswith(".msg") or member.content_type == "application/vnd.ms-outlook":
        return 100
    return 95 if _holds_message(member.data) else 0


def _holds_message(source: Path | bytes) -> bool:
    """True when extract-msg finds a message class in this OLE file (Word and Excel files have none)."""
    try:
        with extract_msg.MSGFile(str(source) if isinstance(source, Path) else source, delayAttachments=True) as probe:
            return bool(probe.classType)
    except Exception:  # noqa: BLE001 - accepts() must answer, not raise: an unreadable file is not ours to claim
        return False


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The message in `path` and its attachments; an unreadable file raises errors.Corrupt."""
    message, codepage = _open(str(path))
    try:
        yield from _message_items(message, codepage, ctx, "", None)
    finally:
        message.close()


def read_member(member: Member, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The Outlook message in `member` as an email item (a child of `member.parent`) and its attachments."""
    message, codepage = _open(member.data)
    try:
        yield from _message_items(message, codepage, ctx, member.locator, member)
    finally:
        message.close()


def _open(source: str | bytes) -> tuple:
    """(the message in a file (path) or in bytes, the code page chosen for its 8-bit strings or None);
    raises errors.Corrupt when extract-msg cannot open it."""
    message = _open_with(source)
    try:
        codepage = mapi_codepage.choose(message, mapi_codepage.string8_streams(message))
    except Exception as exc:  # noqa: BLE001 - olefile raises many types on a damaged directory or stream
        message.close()
        raise errors.Corrupt(f"not a readable Outlook message ({exc.__class__.__name__}: {exc})") from exc
    if codepage is None or mapi_codepage.codec_name(message.stringEncoding) == codepage.codec:
        return message, codepage
    message.close()  # extract-msg decodes strings as it reads them: open again, telling it the code page
    return _open_with(source, overrideEncoding=codepage.codec), codepage


def _open_with(source: str | bytes, **options):
    try:
        return extract_msg.openMsg(source, strict=False, delayAttachments=True, errorBehavior=_TOLERANT, **options)
    except Exception as exc:  # noqa: BLE001 - extract-msg and olefile raise many types on damaged files
        raise errors.Corrupt(f"not a readable Outlook message ({exc.__class__.__name__}: {exc})") from exc


def _message_items(message, codepage: mapi_codepage.Choice | None, ctx: SourceContext, locator: str,
                   member: Member | None) -> Iterator[Item | Problem]:
    item = email_item(ctx, locator, member, "application/vnd.ms-outlook")
    problems: list[Problem] = []

    note = partial(ctx.note, problems)

    if codepage is not None and codepage.guessed:
        note(errors.Corrupt.code, "the message declares no code page for its text (no PR_MESSAGE_CODEPAGE, internet "
             f"code page, HTML charset or locale that fits); it was decoded as {codepage.codec}, detected from the "
             "text itself, so some words may be wrong", item.locator, item)
        item.extraction = "partial"

    class_type = (message.classType or "").lower()
    headers = _transport_headers(message, item, note)
    _read_fields(message, headers, item)
    children: list[Item] = []
    if class_type == "ipm.note.smime":
        note(errors.Encrypted.code, "the message is S/MIME encrypted (IPM.Note.SMIME); only its headers were indexed", item.locator, item)
        item.extraction = "failed"
    else:
        _read_body(message, codepage, item, ctx, note)
        children = _attachment_children(message, item, ctx, note, problems.append)
        if class_type.endswith("smime.multipartsigned"):
            item.problems.append("signed message: the signature was not verified and is not indexed")
    item.content_sha256 = text_sha256(item.body)
    item.dup_group = email_dup_key(item, children)  # needs the attachments' hashes: before the email is yielded
    yield item
    yield from children
    yield from problems


def _stream(message, name: str) -> str | None:
    """A string property stream such as '__substg1.0_0037' (subject), or None."""
    value = message.getStringStream(name)
    return value.strip("\x00").strip() or None if isinstance(value, str) else None


def _transport_headers(message, item: Item, note: Note):
    """The internet headers stored with a received message (PR_TRANSPORT_MESSAGE_HEADERS), parsed; or None."""
    text = _stream(message, "__substg1.0_007D")
    if not text:
        return None
    if text.startswith("Microsoft Mail Internet Headers Version 2.0"):
        text = text[len("Microsoft Mail Internet Headers Version 2.0"):].lstrip()
    try:
        return parse_message(text.encode("utf-8", "surrogateescape") + b"\r\n\r\n")
    except Exception as exc:  # noqa: BLE001 - the email parser raises several types on hostile input
        note(errors.Corrupt.code, f"transport headers could not be parsed: {exc.__class__.__name__}", item.locator, item)
        return None


def _header(headers, name: str) -> str | None:
    if headers is None:
        return None
    try:
        return mime_parts.header_text(headers, name) or None
    except errors.IngestError:
        return None  # the MAPI properties carry the same field; the header is only a fallback


def _read_fields(message, headers, item: Item) -> None:
    item.subject = _stream(message, "__substg1.0_0037") or _header(headers, "subject")
    item.sender = _sender(message, headers)
    _read_recipients(message, headers, item)
    _read_date(message, headers, item)
    item.message_id = _header(headers, "message-id") or _stream(message, "__substg1.0_1035")
    item.in_reply_to = _header(headers, "in-reply-to") or _stream(message, "__substg1.0_1042")
    item.references = (_header(headers, "references") or _stream(message, "__substg1.0_1039") or "").split()


def mapi_address(name: str | None, smtp: str | None, other: str | None) -> Address | None:
    """An Address from MAPI name / SMTP / native address; X500 and other non-SMTP addresses stay only in `raw`."""
    if other and not smtp and "@" in other and not other.startswith("/"):
        smtp = other
    shown = smtp or other
    if not name and not shown:
        return None
    raw = f"{name} <{shown}>" if name and shown and name != shown else (name or shown or "")
    return Address(raw=raw, name=name if name != shown else None, address=smtp.lower() if smtp else None)


def _sender(message, headers) -> Address | None:
    """The From header when the message has internet headers, else the sender's MAPI properties."""
    if headers is not None:
        try:
            found = parse_addresses(mime_parts.header_texts(headers, "from"))
        except errors.IngestError:
            found = []
        if found:
            return found[0]
    for name, smtp, other in (("0C1A", "5D01", "0C1F"), ("0042", "5D02", "0065")):
        sender = mapi_address(*(_stream(message, f"__substg1.0_{tag}") for tag in (name, smtp, other)))
        if sender:
            return sender
    return None


def _read_recipients(message, headers, item: Item) -> None:
    by_type = {RecipientType.TO: item.to, RecipientType.CC: item.cc, RecipientType.BCC: item.bcc}
    for recipient in getattr(message, "recipients", None) or []:
        address = mapi_address(recipient.name, recipient.smtpAddress, recipient.getStringStream("__substg1.0_3003"))
        if address and recipient.type in by_type:
            by_type[recipient.type].append(address)
    if not (item.to or item.cc or item.bcc) and headers is not None:
        for name, target in (("to", item.to), ("cc", item.cc)):
            target.extend(parse_addresses(mime_parts.header_texts(headers, name)))


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _read_date(message, headers, item: Item) -> None:
    """Submit time, else delivery time, else the Date header, else the creation time (noted)."""
    header_date = _header(headers, "date")
    parsed, zone = parse_date(header_date)
    for tag in ("00390040", "0E060040"):  # PR_CLIENT_SUBMIT_TIME, PR_MESSAGE_DELIVERY_TIME
        value = message.getPropertyVal(tag)
        if isinstance(value, datetime) and value.year > 1601:
            item.date, item.date_original, item.timezone = _utc(value), header_date or _utc(value), zone
            return
    if parsed:
        item.date, item.date_original, item.timezone = parsed, header_date, zone
        return
    created = message.getPropertyVal("30070040")  # PR_CREATION_TIME
    if isinstance(created, datetime) and created.year > 1601:
        item.date = item.date_original = _utc(created)
        item.problems.append("the message has no sent or received time; its date is the time the .msg was created")


def _html(message, codepage: mapi_codepage.Choice | None) -> str | None:
    """The HTML body, stored or de-encapsulated from RTF; never one extract-msg made up from the plain body.
    Its bytes are read in the internet code page, else the charset it declares, else the strings' code page."""
    data = message.getStream("__substg1.0_10130102")
    if data is None:
        deencapsulated = getattr(message, "deencapsulatedRtf", None)
        if deencapsulated is None or deencapsulated.content_type != "html":
            return None
        data = message.htmlBody
    if isinstance(data, str):
        return data
    if not data:
        return None
    charset = (mapi_codepage.codec_for(message.getPropertyVal("3FDE0003")) or mapi_codepage.html_charset(data)
               or (codepage.codec if codepage else "utf-8"))
    return mime_parts.decode_bytes(data, charset)[0]


def _read_body(message, codepage: mapi_codepage.Choice | None, item: Item, ctx: SourceContext, note) -> None:
    """Plain body, else HTML as text, else RTF through Tika; any HTML is also kept sanitised."""
    try:
        plain = getattr(message, "body", None) or ""
        html = _html(message, codepage)
    except Exception as exc:  # noqa: BLE001 - RTF de-encapsulation raises many types on damaged RTF
        note(errors.Corrupt.code, f"the message body could not be decoded ({exc.__class__.__name__}: {exc})", item.locator, item)
        item.extraction = "partial"
        plain, html = "", None
    if html:
        item.body_html = sanitize_html(html) or None
    html_text = html_to_text(html) if html else ""
    text = with_other_renderings(plain.strip(), [html_text]) if plain.strip() else html_text
    rtf = getattr(message, "rtfBody", None)
    if not text and rtf:
        try:
            text = mime_parts.rtf_to_text(rtf, ctx)
        except errors.IngestError as exc:
            note(exc.code, f"the RTF body could not be read: {exc}", item.locator, item)
            item.extraction = "partial"
    item.body = text.replace("\r\n", "\n").strip()


def _attachment_name(attachment, number: int) -> str:
    for name in ("longFilename", "name", "shortFilename", "displayName"):
        value = getattr(attachment, name, None)
        if isinstance(value, str) and value.strip("\x00").strip():
            return value.strip("\x00").strip()
    return f"attachment-{number}"


def _attachment_children(message, item: Item, ctx: SourceContext, note, keep) -> list[Item]:
    """Items for every attachment, through the registry: an embedded message is exported to .msg bytes
    and read as an email; problems of nested readers go to `keep`."""
    try:
        attachments = list(getattr(message, "attachments", None) or [])
    except Exception as exc:  # noqa: BLE001 - extract-msg raises many types on damaged attachment tables
        note(errors.Corrupt.code, f"the attachments could not be read ({exc.__class__.__name__}: {exc})", item.locator, item)
        item.extraction = "partial"
        return []
    # The detached signature of a signed message is not content (see `mime_parts.role`).
    attachments = [a for a in attachments if getattr(a, "mimetype", None) not in mime_parts.SIGNATURE_TYPES]
    children: list[Item] = []
    for number, attachment in enumerate(attachments, start=1):
        name, at = _attachment_name(attachment, number), f"{item.locator}/attachment[{number}]"
        content_type = getattr(attachment, "mimetype", None)
        item.attachment_names.append(name)
        try:
            kind = attachment.type
            if kind in (AttachmentType.MSG, AttachmentType.SIGNED_EMBEDDED):
                data = attachment.data.exportBytes(allowBadEmbed=True)
                name, content_type = (name if name.lower().endswith(".msg") else f"{name}.msg"), "application/vnd.ms-outlook"
            elif kind in (AttachmentType.DATA, AttachmentType.SIGNED):
                data = attachment.data if isinstance(attachment.data, bytes) else b""
            elif kind == AttachmentType.WEB:
                note(errors.Unsupported.code, f"attachment {name!r} is a link to a web resource; it was not fetched", at, item)
                continue
            else:
                note(errors.Corrupt.code, f"attachment {name!r} could not be read by extract-msg ({kind.name.lower()})", at, item)
                continue
            for got in member_items(Member(data, name, content_type, at, item), ctx, note):
                (children.append if isinstance(got, Item) else keep)(got)
        except Exception as exc:  # noqa: BLE001 - a hostile attachment must not cost the message and the others
            note("reader_error", f"attachment {name!r} could not be read: {exc.__class__.__name__}: {exc}", at, item)
    return children
