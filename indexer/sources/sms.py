"""SMS Backup & Restore (SyncTech) XML backups: one item per `<sms>` and per `<mms>`.

The app writes `<smses count="N">` with `<sms address= date= type= body= contact_name= …/>`
elements (type 1 received, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued) and `<mms date=
msg_box= address="+44…~+44…" …>` elements holding `<parts><part ct= text= data=(base64)/></parts>`
and `<addrs><addr address= type=(137 from, 151 to, 130 cc, 129 bcc)/></addrs>`. The string
"null" means absent. Dates are milliseconds since the epoch (UTC).

Parsed with `defusedxml`'s streaming `iterparse` (entity declarations and external references
are refused, so a "billion laughs" file fails fast) and each message element is cleared once
read, so memory stays flat for backups of hundreds of MB. The app writes emoji as UTF-16
surrogate-pair character references (`&#55357;&#56832;`), which no conforming XML parser
accepts; `_SurrogateRepair` rewrites them to real code points on the way in. No maintained
library reads this format into our model, hence the hand-written reader.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from indexer import errors
from indexer.identities import normalise_phone
from indexer.model import Address, Item, Problem
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import SourceContext
from indexer.sources.support.chat import conversation_key, message_item

NAME = "sms"
CHANNEL = "sms"
_RECEIVED_SMS_TYPES = {"1"}
_RECEIVED_MMS_BOXES = {"1"}
_MMS_FROM, _MMS_TO, _MMS_CC = "137", "151", "130"
_SKIPPED_PART_TYPES = {"application/smil"}
_SURROGATE_PAIR = re.compile(rb"&#(\d{5});&#(\d{5});")
_LONE_SURROGATE = re.compile(rb"&#(5[5-7]\d{3});")


def accepts(path: Path, head: bytes) -> int:
    """High for an .xml file whose root is `<smses`; lower for the same content under another name."""
    if path.is_dir() or b"<smses" not in head:
        return 0
    return 95 if path.suffix.lower() == ".xml" else 70


class _SurrogateRepair:
    """A read-only byte stream that turns `&#55357;&#56832;` pairs into one `&#128512;` reference.

    Chunks are cut after the last `>` so a reference pair is never split between two reads.
    """

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        pieces = [self._pending]
        while True:
            chunk = self._raw.read(size if size and size > 0 else 1 << 16)
            if not chunk:
                data, self._pending = b"".join(pieces), b""
                return _repair(data)
            cut = chunk.rfind(b">")
            if cut == -1:
                pieces.append(chunk)  # inside one long attribute (an MMS image): keep reading
                continue
            pieces.append(chunk[: cut + 1])
            self._pending = chunk[cut + 1:]
            return _repair(b"".join(pieces))


def _repair(data: bytes) -> bytes:
    def pair(match: re.Match[bytes]) -> bytes:
        high, low = int(match.group(1)), int(match.group(2))
        if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
            return b"&#%d;" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        return match.group(0)

    def lone(match: re.Match[bytes]) -> bytes:
        return b"&#65533;" if 0xD800 <= int(match.group(1)) <= 0xDFFF else match.group(0)

    if b"&#5" not in data:
        return data
    return _LONE_SURROGATE.sub(lone, _SURROGATE_PAIR.sub(pair, data))


def _value(element: Element, name: str) -> str | None:
    """An attribute's value, with SMS Backup & Restore's "null" (and blanks) read as absent."""
    value = element.get(name)
    if value is None or value.strip() in ("", "null"):
        return None
    return value


def _when(raw: str | None, ctx: SourceContext) -> datetime | None:
    """Epoch milliseconds (seconds in some old MMS rows) as an aware time shown in the source's zone."""
    if raw is None or not raw.strip().lstrip("-").isdigit():
        return None
    number = int(raw)
    millis = number if abs(number) > 10**11 else number * 1000
    try:
        exact = datetime.fromtimestamp(millis // 1000, tz=timezone.utc) + timedelta(milliseconds=millis % 1000)
    except (OverflowError, OSError, ValueError):
        return None  # an impossible date: the item keeps date_original, without a date
    return exact.astimezone(ctx.timezone)


class _Reader:
    """State for one backup file: who the custodian is and how many of each element were read."""

    def __init__(self, ctx: SourceContext):
        self.ctx = ctx
        account = ctx.custody.account
        self.own_number = normalise_phone(account, ctx.phone_region) if account else None
        self.me = Address(raw=account, address=self.own_number or account) if account else Address(raw="me", name="me")
        self.counts: dict[str, int] = {"sms": 0, "mms": 0}
        self.seq_by_conversation: dict[str, int] = {}

    def party(self, raw: str, name: str | None) -> Address:
        phone = normalise_phone(raw, self.ctx.phone_region)
        return Address(raw=raw, name=name, address=phone or raw)

    def conversation(self, parties: list[Address], contact_name: str | None) -> tuple[str, str]:
        keys = sorted({p.address or p.raw for p in parties}) or ["(unknown)"]
        joined = ",".join(keys)
        return conversation_key(CHANNEL, self.ctx, joined), contact_name or joined

    def sms(self, element: Element, locator: str) -> list[Item | Problem]:
        contact = _value(element, "contact_name")
        contact = None if contact == "(Unknown)" else contact
        party = self.party(_value(element, "address") or "(unknown)", contact)
        received = _value(element, "type") in _RECEIVED_SMS_TYPES
        item = self._item(element, locator, [party], contact, received, party, _value(element, "body") or "")
        item.subject = _value(element, "subject")
        return [item]

    def mms(self, element: Element, locator: str) -> list[Item | Problem]:
        contact = _value(element, "contact_name")
        contact = None if contact == "(Unknown)" else contact
        addrs = [(_value(a, "address"), a.get("type")) for a in element.iter("addr")]
        # `address` lists the other parties ("~"-joined); `addrs` also holds the custodian's own number, so it
        # is the fallback only: otherwise one group's received and sent MMS would fall into two conversations
        raw_parties = (_value(element, "address") or "").split("~")
        if not any(r.strip() for r in raw_parties):
            raw_parties = [address for address, _ in addrs if address]
        parties: dict[str, Address] = {}
        for raw in (r.strip() for r in raw_parties):
            if raw and raw != "insert-address-token":
                address = self.party(raw, None)
                if address.address != self.own_number:
                    parties.setdefault(address.address or raw, address)
        single_name = contact if len(parties) == 1 else None
        for address in parties.values():
            address.name = single_name
        received = _value(element, "msg_box") in _RECEIVED_MMS_BOXES
        sender_raw = next((a for a, kind in addrs if kind == _MMS_FROM and a), None)
        sender = self.party(sender_raw, single_name) if sender_raw else next(iter(parties.values()), None)
        texts = [_value(p, "text") for p in element.iter("part")
                 if _value(p, "data") is None and (p.get("ct") or "").startswith("text/")]
        body = "\n".join(t for t in texts if t)
        item = self._item(element, locator, list(parties.values()), contact, received, sender, body)
        item.subject = _value(element, "sub")
        return [item, *self._attachments(element, item)]

    def _item(self, element: Element, locator: str, parties: list[Address], contact: str | None,
              received: bool, sender: Address | None, body: str) -> Item:
        conversation_id, conversation_name = self.conversation(parties, contact)
        seq = self.seq_by_conversation.get(conversation_id, 0)
        self.seq_by_conversation[conversation_id] = seq + 1
        raw_date = _value(element, "date")
        item = message_item(
            self.ctx, channel=CHANNEL, locator=locator, conversation_id=conversation_id,
            conversation_name=conversation_name, seq=seq, sender=sender if received else self.me,
            when=_when(raw_date, self.ctx), date_original=raw_date, body=body, kind="sms",
            participants=[*parties, self.me],
        )
        item.to = [self.me] if received else list(parties)
        return item

    def _attachments(self, element: Element, item: Item) -> list[Item | Problem]:
        """Binary MMS parts (base64 `data`) as attachment children of the message item."""
        problems: list[Problem] = []

        note = partial(self.ctx.note, problems)

        children: list[Item | Problem] = []
        number = 0
        for part in element.iter("part"):
            encoded = _value(part, "data")
            content_type = _value(part, "ct")
            if encoded is None or content_type in _SKIPPED_PART_TYPES:
                continue
            number += 1
            name = _value(part, "cl") or _value(part, "name") or _value(part, "fn") or f"part{part.get('seq', number)}"
            item.attachment_names.append(name)
            locator = f"{item.locator}/attachment[{number}]"
            if len(encoded) * 3 // 4 > self.ctx.limits.max_attachment_bytes:
                note(errors.TooLarge.code, f"attachment {name!r} is about {len(encoded) * 3 // 4} bytes, above the "
                     f"{self.ctx.limits.max_attachment_bytes}-byte limit; not read", locator, item)
                continue
            try:
                data = base64.b64decode(encoded, validate=False)
            except (binascii.Error, ValueError) as exc:
                note(errors.Corrupt.code, f"attachment {name!r} has invalid base64 data: {exc}", locator, item)
                continue
            children.extend(attachment_items(data, name, content_type, locator, item, self.ctx, note))
        return [*children, *problems]


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every `<sms>` and `<mms>` in the backup in file order; locators are `smses/sms[N]` / `smses/mms[N]` (1-based)."""
    reader = _Reader(ctx)
    declared: str | None = None
    with path.open("rb") as raw:
        events = iterparse(_SurrogateRepair(raw), events=("start", "end"))
        root: Element | None = None
        try:
            for event, element in events:
                if root is None:
                    root = element
                    if element.tag != "smses":
                        raise errors.Corrupt(f"not an SMS Backup & Restore file: the root element is <{element.tag}>")
                    declared = element.get("count")
                    continue
                if event != "end" or element.tag not in ("sms", "mms"):
                    continue
                reader.counts[element.tag] += 1
                locator = f"smses/{element.tag}[{reader.counts[element.tag]}]"
                yield from (reader.sms if element.tag == "sms" else reader.mms)(element, locator)
                root.clear()  # read and yielded: drop it so memory stays flat
        except DefusedXmlException as exc:
            yield Problem(ctx.source_path, "", errors.Corrupt.code,
                          f"refused: the XML declares entities or external references ({exc}); SMS Backup & Restore never "
                          "writes these, and they are how entity-expansion ('billion laughs') attacks work")
            return
        except ParseError as exc:
            total = sum(reader.counts.values())
            yield Problem(ctx.source_path, f"smses/*[{total + 1}]", errors.Corrupt.code,
                          f"the XML is malformed after {total} messages ({exc}); the {total} messages before it are indexed")
            return
        except LookupError as exc:  # expat asks Python for the codec the XML declaration names
            yield Problem(ctx.source_path, "", errors.Corrupt.code, f"the XML declares an unknown character encoding ({exc})")
            return
    total = sum(reader.counts.values())
    if declared and declared.isdigit() and total < int(declared):
        yield Problem(ctx.source_path, "smses", errors.Corrupt.code,
                      f"the backup declares count={declared} but holds {total} messages; the file may be truncated")
