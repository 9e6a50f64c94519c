"""TNEF (`winmail.dat`, application/ms-tnef): the files and body Outlook wraps for other mail
clients, decoded with tnefparse (and compressed-rtf for the RTF body).

Not a source of its own: `mime.message_items` calls `decode_tnef` on such attachments and
indexes what is inside as the email's attachments (and its body, when the email has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tnefparse.tnef import TNEF

from indexer import errors
from indexer.sources.mime_parts import decode_bytes


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
