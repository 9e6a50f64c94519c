"""Outlook .msg files written from scratch, the way Outlook lays them out ([MS-OXMSG]): an OLE
compound file with a `__properties_version1.0` stream of fixed-size MAPI properties,
`__substg1.0_TTTTPPPP` streams for strings and binaries, one storage per recipient and per
attachment, an embedded message as a storage inside its attachment, and the named-property map.

Written with extract-msg's own OLE writer, so the tests need no real sample to make a message;
`streams` and `ole_bytes` let a test change a message at the stream level (drop a body, add a
property) the way damaged or unusual files from real clients differ."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone

import olefile
from extract_msg.ole_writer import OleWriter

Streams = dict[tuple[str, ...], bytes]

PT_LONG, PT_SYSTIME, PT_UNICODE, PT_STRING8, PT_BINARY, PT_OBJECT = 0x0003, 0x0040, 0x001F, 0x001E, 0x0102, 0x000D
TO, CC, BCC = 1, 2, 3
# Property ids (high 16 bits of a tag).
SUBJECT, CLIENT_SUBMIT_TIME, TRANSPORT_HEADERS, MESSAGE_CLASS = 0x0037, 0x0039, 0x007D, 0x001A
SENT_REPRESENTING_NAME, SENDER_NAME, SENDER_ADDRTYPE, SENDER_EMAIL, SENDER_SMTP = 0x0042, 0x0C1A, 0x0C1E, 0x0C1F, 0x5D01
DISPLAY_TO, DISPLAY_CC, DELIVERY_TIME, CREATION_TIME = 0x0E04, 0x0E03, 0x0E06, 0x3007
BODY, RTF_COMPRESSED, HTML, MESSAGE_ID = 0x1000, 0x1009, 0x1013, 0x1035
MESSAGE_CODEPAGE, INTERNET_CPID, LOCALE_ID, STORE_SUPPORT_MASK = 0x3FFD, 0x3FDE, 0x3FF1, 0x340D
RECIPIENT_TYPE, DISPLAY_NAME, ADDRTYPE, EMAIL_ADDRESS, SMTP_ADDRESS = 0x0C15, 0x3001, 0x3002, 0x3003, 0x39FE
ATTACH_DATA, ATTACH_FILENAME, ATTACH_METHOD, ATTACH_LONG_FILENAME, ATTACH_MIME_TAG = 0x3701, 0x3704, 0x3705, 0x3707, 0x370E
ATTACH_NUM, RENDERING_POSITION = 0x0E21, 0x370B
ATTACH_BY_VALUE, ATTACH_EMBEDDED_MSG = 1, 5


@dataclass
class Attachment:
    """A file attached by value, or (with `message`) an attached Outlook message."""

    name: str
    data: bytes = b""
    mime_type: str = "application/octet-stream"
    message: "Message | None" = None


@dataclass
class Message:
    """What a .msg holds; None leaves a property out, as real files often do."""

    subject: str | None = "Generated message"
    body: str | None = "Generated body."
    html: bytes | None = None
    rtf_compressed: bytes | None = None
    sender_name: str | None = "Alice Example"
    sender_email: str | None = "alice@example.org"
    sender_addrtype: str = "SMTP"
    sender_smtp: str | None = None
    recipients: list[tuple[int, str, str]] = field(default_factory=lambda: [(TO, "Bob Example", "bob@example.org")])
    submit_time: datetime | None = datetime(2021, 3, 4, 9, 30, tzinfo=timezone.utc)
    delivery_time: datetime | None = None
    creation_time: datetime | None = None
    message_id: str | None = "<generated@example.org>"
    transport_headers: str | None = None
    message_class: str = "IPM.Note"
    attachments: list[Attachment] = field(default_factory=list)
    unicode: bool = True  # strings as PT_UNICODE; False writes PT_STRING8 in `codepage`
    codepage: int | None = None  # PR_MESSAGE_CODEPAGE
    internet_cpid: int | None = None  # PR_INTERNET_CPID
    locale_id: int | None = None  # PR_LOCALE_ID (LCID)
    extra: dict[int, int] = field(default_factory=dict)  # more PT_LONG properties: id -> value


def filetime(moment: datetime) -> int:
    """A datetime as a Windows FILETIME (100 ns ticks since 1601)."""
    return int((moment - datetime(1601, 1, 1, tzinfo=timezone.utc)).total_seconds() * 10_000_000)


class _Properties:
    """One property set: fixed-size values for the properties stream, variable ones as streams."""

    def __init__(self, unicode: bool, encoding: str):
        self.unicode, self.encoding = unicode, encoding
        self.entries: list[bytes] = []
        self.streams: Streams = {}

    def fixed(self, prop: int, kind: int, value: int) -> None:
        self.entries.append(struct.pack("<IIQ", prop << 16 | kind, 6, value))

    def text(self, prop: int, value: str | None) -> None:
        if value is None:
            return
        kind = PT_UNICODE if self.unicode else PT_STRING8
        data = value.encode("utf-16-le") if self.unicode else value.encode(self.encoding)
        self.binary(prop, data, kind, terminator=2 if self.unicode else 1)

    def binary(self, prop: int, data: bytes | None, kind: int = PT_BINARY, terminator: int = 0) -> None:
        if data is None:
            return
        self.streams[(f"__substg1.0_{prop:04X}{kind:04X}",)] = data
        self.entries.append(struct.pack("<IIII", prop << 16 | kind, 6, len(data) + terminator, 0))

    def time(self, prop: int, moment: datetime | None) -> None:
        if moment is not None:
            self.fixed(prop, PT_SYSTIME, filetime(moment))


def _encoding(message: Message) -> str:
    return "utf-8" if message.codepage == 65001 else f"cp{message.codepage or 1252}"


def streams(message: Message, embedded: bool = False) -> Streams:
    """The OLE streams of `message`, paths as tuples; `embedded` writes the 24-byte header of a
    message stored inside an attachment, and leaves out the named-property map it shares."""
    props = _Properties(message.unicode, _encoding(message))
    props.text(MESSAGE_CLASS, message.message_class)
    props.text(SUBJECT, message.subject)
    props.text(BODY, message.body)
    props.binary(HTML, message.html)
    props.binary(RTF_COMPRESSED, message.rtf_compressed)
    props.text(SENDER_NAME, message.sender_name)
    props.text(SENT_REPRESENTING_NAME, message.sender_name)
    props.text(SENDER_EMAIL, message.sender_email)
    props.text(SENDER_ADDRTYPE, message.sender_addrtype if message.sender_email else None)
    props.text(SENDER_SMTP, message.sender_smtp)
    props.text(DISPLAY_TO, "; ".join(name for kind, name, _ in message.recipients if kind == TO) or None)
    props.text(DISPLAY_CC, "; ".join(name for kind, name, _ in message.recipients if kind == CC) or None)
    props.text(MESSAGE_ID, message.message_id)
    props.text(TRANSPORT_HEADERS, message.transport_headers)
    props.time(CLIENT_SUBMIT_TIME, message.submit_time)
    props.time(DELIVERY_TIME, message.delivery_time)
    props.time(CREATION_TIME, message.creation_time)
    props.fixed(STORE_SUPPORT_MASK, PT_LONG, 0x00040000 if message.unicode else 0)
    for prop, value in ((MESSAGE_CODEPAGE, message.codepage), (INTERNET_CPID, message.internet_cpid),
                        (LOCALE_ID, message.locale_id), *message.extra.items()):
        if value is not None:
            props.fixed(prop, PT_LONG, value)
    result: Streams = dict(props.streams)
    for number, (kind, name, address) in enumerate(message.recipients):
        result.update(_prefixed(f"__recip_version1.0_#{number:08X}", _recipient(kind, name, address, props)))
    for number, attachment in enumerate(message.attachments):
        result.update(_prefixed(f"__attach_version1.0_#{number:08X}", _attachment(number, attachment, props)))
    counts = struct.pack("<IIII", len(message.recipients), len(message.attachments),
                         len(message.recipients), len(message.attachments))
    header = b"\x00" * 8 + counts if embedded else b"\x00" * 8 + counts + b"\x00" * 8
    result[("__properties_version1.0",)] = header + b"".join(props.entries)
    if not embedded:
        for stream in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
            result[("__nameid_version1.0", stream)] = b""
    return result


def _prefixed(storage: str, inner: Streams) -> Streams:
    return {(storage, *path): data for path, data in inner.items()}


def _recipient(kind: int, name: str, address: str, parent: _Properties) -> Streams:
    props = _Properties(parent.unicode, parent.encoding)
    props.fixed(RECIPIENT_TYPE, PT_LONG, kind)
    props.text(DISPLAY_NAME, name)
    props.text(ADDRTYPE, "SMTP")
    props.text(EMAIL_ADDRESS, address)
    props.text(SMTP_ADDRESS, address)
    return {**props.streams, ("__properties_version1.0",): b"\x00" * 8 + b"".join(props.entries)}


def _attachment(number: int, attachment: Attachment, parent: _Properties) -> Streams:
    props = _Properties(parent.unicode, parent.encoding)
    props.fixed(ATTACH_NUM, PT_LONG, number)
    props.fixed(RENDERING_POSITION, PT_LONG, 0xFFFFFFFF)
    props.text(DISPLAY_NAME, attachment.name)
    result: Streams = {}
    if attachment.message is not None:
        props.fixed(ATTACH_METHOD, PT_LONG, ATTACH_EMBEDDED_MSG)
        props.entries.append(struct.pack("<IIII", ATTACH_DATA << 16 | PT_OBJECT, 6, 0xFFFFFFFF, 4))
        result = _prefixed(f"__substg1.0_{ATTACH_DATA:04X}{PT_OBJECT:04X}", streams(attachment.message, embedded=True))
    else:
        props.fixed(ATTACH_METHOD, PT_LONG, ATTACH_BY_VALUE)
        props.binary(ATTACH_DATA, attachment.data)
        props.text(ATTACH_LONG_FILENAME, attachment.name)
        props.text(ATTACH_FILENAME, attachment.name[:12])
        props.text(ATTACH_MIME_TAG, attachment.mime_type)
    return {**result, **props.streams, ("__properties_version1.0",): b"\x00" * 8 + b"".join(props.entries)}


def ole_bytes(all_streams: Streams) -> bytes:
    """An OLE compound file holding `all_streams`."""
    writer = OleWriter()
    for path in sorted(all_streams, key=len):
        writer.addEntry(list(path), all_streams[path])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def read_streams(data: bytes) -> Streams:
    """Every stream of an OLE file, by path."""
    ole = olefile.OleFileIO(data)
    try:
        return {tuple(p): ole.openstream(p).read() for p in ole.listdir(streams=True, storages=False)}
    finally:
        ole.close()


def msg_bytes(message: Message) -> bytes:
    """`message` as the bytes of a .msg file."""
    return ole_bytes(streams(message))
