"""What readpst writes that is not what it looks like: its RTF body attachment, and the headers it
makes up for a message that has no internet headers of its own (one never sent over SMTP, or
embedded in another), read for what they stand for.

readpst (run without -b) attaches a message's RTF body as `rtf-body.rtf`: `rtf_body_as_body` drops
it where a plain or HTML body says the same, else makes it the body.

readpst (libpst `write_normal_email`) writes `From: Name <MAILER-DAEMON>` when the sender has no
SMTP address (an Exchange user) and keeps the real, X500 address in `X-libpst-forensic-sender`; it
writes `To:` and `Cc:` from Outlook's display lists (PR_DISPLAY_TO, PR_DISPLAY_CC): names or
addresses separated by ";", bare addresses in single quotes (`'bob@x.org'; Carol Smith`), and the
Bcc names only in `X-libpst-forensic-bcc`. The email package would read `Carol Smith` as the address
`carol` and drop `Smith`. Every message readpst writes carries its MIME boundary
`--boundary-LibPST-iamunique-...`, which is how its messages are told from others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email.message import Message

from indexer import errors
from indexer.model import Address, Item
from indexer.sources.support import mime_parts

RTF_BODY_NAME = "rtf-body.rtf"  # readpst's attachment holding a message's RTF body
MAX_PART_DEPTH = 100  # as mime.MAX_MIME_DEPTH: deeper multiparts are not walked
_BOUNDARY = "boundary-LibPST-iamunique-"
_PLACEHOLDER = "mailer-daemon"
_SEPARATOR = re.compile(r";(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")  # a ";" outside double quotes

Parse = Callable[[list[str]], list[Address]]


def read_made_up_headers(msg: Message, item: Item, parse: Parse) -> None:
    """For a message readpst wrote: the item's sender and recipients as what readpst's headers stand for
    (a header it cannot read is left as the mail reader read it)."""
    if not written_by_readpst(msg):
        return
    try:
        item.sender = sender(msg, item.sender)
        item.to, item.cc, item.bcc = (recipients(msg, field, parse) for field in ("to", "cc", "bcc"))
    except errors.IngestError:
        return  # the mail reader has reported the header it could not read


def written_by_readpst(msg: Message) -> bool:
    """True for a message (or embedded message) readpst wrote."""
    return _BOUNDARY in str(msg.get("content-type") or "")


def sender(msg: Message, found: Address | None) -> Address | None:
    """`found` (the parsed From), with readpst's `<MAILER-DAEMON>` stand-in replaced by the address it
    stands for (X-libpst-forensic-sender, kept in `raw` as the msg reader keeps X500 addresses)."""
    if found is None or found.address != _PLACEHOLDER:
        return found
    forensic = mime_parts.header_text(msg, "x-libpst-forensic-sender")
    if forensic:
        return Address(raw=f"{found.name} <{forensic}>" if found.name else forensic, name=found.name)
    return Address(raw=found.name, name=found.name) if found.name else None


def recipients(msg: Message, field: str, parse: Parse) -> list[Address]:
    """The `field` ("to", "cc" or "bcc") recipients of a readpst message, read as a display list: entries
    split at ";", a name without an address kept as a name. Bcc comes from X-libpst-forensic-bcc."""
    values = mime_parts.raw_header_texts(msg, field)  # as written: the email package reads ";" as a group's end
    if field == "bcc" and not values:
        values = mime_parts.raw_header_texts(msg, "x-libpst-forensic-bcc")
    found: list[Address] = []
    for value in values:
        for entry in (part.strip() for part in _SEPARATOR.split(value)):
            if "@" in entry or "<" in entry:
                found.extend(parse([entry]))
            elif entry.strip("'\" "):
                name = entry.strip("'\" ")
                found.append(Address(raw=name, name=name))
    return found


def rtf_body_as_body(msg: Message) -> Message:
    """readpst attaches a message's RTF body as `rtf-body.rtf`. Drop it when the message has a plain
    or HTML body (it is the same text again); otherwise make it a body part, so `mime` reads it.
    Attached messages are left alone: they are read (and this applied to them) on their own."""
    parts = list(_own_parts(msg))
    for part in parts:
        if part.get_filename() != RTF_BODY_NAME or part.get_content_type() not in ("application/rtf", "text/rtf"):
            continue
        if any(p.get_content_type() in ("text/plain", "text/html") and p.get_content_disposition() != "attachment"
               and not p.get_filename() for p in parts):
            container = next(p for p in parts if p.is_multipart() and part in p.get_payload())
            container.get_payload().remove(part)
        else:
            del part["Content-Disposition"]
            part.del_param("name")
        break
    return msg


def _own_parts(msg: Message) -> Iterator[Message]:
    """`msg` and its parts, not descending into attached messages, nor below MAX_PART_DEPTH."""
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        yield part
        if depth < MAX_PART_DEPTH and part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), list):
            stack.extend((sub, depth + 1) for sub in reversed(part.get_payload()))
