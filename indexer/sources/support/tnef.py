"""TNEF (`winmail.dat`, application/ms-tnef): the message, files and body Outlook wraps for other
mail clients, decoded with tnefparse (and compressed-rtf for the RTF body).

The decoder only: `mime.message_items` calls `decode_tnef` on such attachments and indexes what is
inside as the email's attachments (and its body, when the email has none); the `winmail` source
reads a TNEF file on its own (or found in a container) as an email, with the message's own fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tnefparse.tnef import TNEF

from indexer import errors
from indexer.sources.support.mime_parts import decode_bytes


@dataclass(slots=True)
class TnefFile:
    """One file inside the TNEF stream."""

    name: str
    data: bytes


@dataclass(slots=True)
class TnefContent:
    """What a TNEF stream holds; `damage` names what was wrong with it but could be read past."""

    files: list[TnefFile] = field(default_factory=list)
    body: str | None = None
    html: str | None = None
    rtf: bytes | None = None
    damage: str | None = None
    subject: str | None = None
    sent: datetime | None = None  # UTC
    message_id: str | None = None
    sender: tuple[str | None, str | None, str | None] | None = None  # (name, SMTP address, other address)
    recipients: list[tuple[int, str | None, str | None, str | None]] = field(default_factory=list)  # (type, name, SMTP, other)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return decode_bytes(value.rstrip(b"\x00"), "cp1252")[0]
    return str(value).rstrip("\x00")


def decode_tnef(data: bytes) -> TnefContent:
    """The files and bodies in a TNEF stream; raises errors.Corrupt when it cannot be decoded."""
    try:
        parsed = TNEF(data, do_checksum=True)
        content = TnefContent(body=_text(parsed.body), html=_text(parsed.htmlbody))
        for number, attachment in enumerate(parsed.attachments, start=1):
            name = _text(attachment.long_filename()) or _text(attachment.name) or f"tnef-attachment-{number}"
            content.files.append(TnefFile(name=name, data=bytes(attachment.data or b"")))
    except Exception as exc:  # noqa: BLE001 - tnefparse raises ValueError, struct.error, IndexError, ... on bad input
        raise errors.Corrupt(f"not a readable TNEF stream ({exc.__class__.__name__}: {exc})") from exc
    damage = []
    try:
        _read_fields(parsed, content)
    except Exception as exc:  # noqa: BLE001 - tnefparse decodes property values lazily, raising several types
        damage.append(f"the message's own fields (subject, sender, date) could not be read ({exc.__class__.__name__})")
    try:
        content.rtf = parsed.rtfbody
    except Exception as exc:  # noqa: BLE001 - compressed-rtf raises several types on damaged RTF
        damage.append(f"the RTF body could not be decompressed ({exc.__class__.__name__})")
    truncated = _truncation(data)
    if truncated:
        damage.append(truncated)
    bad = sum(1 for obj in parsed.objects if not obj.good_checksum)
    if bad:
        damage.append(f"{bad} TNEF attribute(s) failed their checksum")
    content.damage = "; ".join(damage) or None
    return content


# MAPI property ids (MS-OXPROPS) of the message's own fields.
_PR_SUBJECT, _PR_SUBMIT_TIME, _PR_MESSAGE_ID = 0x0037, 0x0039, 0x1035
_PR_SENDER = (0x0C1A, 0x5D01, 0x0C1F)  # name, SMTP address, address (X500 for Exchange users)
_PR_RECIPIENT = (0x3001, 0x39FE, 0x3003)  # display name, SMTP address, address
_PR_RECIPIENT_TYPE = 0x0C15
_ATT_FROM, _ATT_SUBJECT, _ATT_DATE_SENT, _ATT_RECIPIENTS = TNEF.ATTFROM, TNEF.ATTSUBJECT, TNEF.ATTDATESENT, TNEF.ATTRECIPTABLE


def _read_fields(parsed: TNEF, content: TnefContent) -> None:
    """Subject, sender, recipients, sent time and Message-ID: from the MAPI properties where Outlook
    stored them, else from the TNEF attributes that carry them."""
    props = {prop.name: prop.data for prop in parsed.mapiprops}
    attributes = {obj.name: obj.data for obj in parsed.msgprops}
    content.subject = _text(props.get(_PR_SUBJECT)) or _text(attributes.get(_ATT_SUBJECT))
    content.message_id = _text(props.get(_PR_MESSAGE_ID))
    sent = props.get(_PR_SUBMIT_TIME) or attributes.get(_ATT_DATE_SENT)
    content.sent = sent if isinstance(sent, datetime) else None
    sender = tuple(_text(props.get(tag)) for tag in _PR_SENDER)
    if not any(sender) and isinstance(attributes.get(_ATT_FROM), tuple):
        name, _, address = attributes[_ATT_FROM]
        sender = (_text(name), None, _text(address))
    content.sender = sender if any(sender) else None  # type: ignore[assignment]
    for row in attributes.get(_ATT_RECIPIENTS) or []:
        values = {prop.name: prop.data for prop in row}
        kind = values.get(_PR_RECIPIENT_TYPE)
        content.recipients.append((kind if isinstance(kind, int) else 1, *(_text(values.get(tag)) for tag in _PR_RECIPIENT)))


def _truncation(data: bytes) -> str | None:
    """Why the stream ends before its last attribute does (tnefparse reads such streams silently), or None."""
    offset = 6  # signature and key
    while offset < len(data):
        if offset + 9 > len(data):
            return f"{len(data) - offset} trailing byte(s) after the last attribute"
        size = int.from_bytes(data[offset + 5:offset + 9], "little") + 11  # level, id, length, data, checksum
        if offset + size > len(data):
            return f"the stream is truncated: an attribute needs {size} bytes, {len(data) - offset} remain"
        offset += size
    return None
