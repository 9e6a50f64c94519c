"""Signal messages as written by signal-cli's JSON output: one envelope object per line.

Signal itself has no plain-text export; the published, documented machine-readable form is
signal-cli's JSON (`signal-cli -o json receive`, or the `receive` notifications of its JSON-RPC
service, https://github.com/AsamK/signal-cli/wiki/JSON-RPC-service and `man signal-cli`):

    {"envelope": {"source", "sourceNumber", "sourceUuid", "sourceName", "sourceDevice",
                  "timestamp" (ms since the epoch, UTC),
                  "dataMessage": {"timestamp", "message", "expiresInSeconds", "isExpirationUpdate",
                                  "viewOnce", "attachments": [{"contentType", "filename", "id", "size"}],
                                  "groupInfo": {"groupId", "groupName", "type"}, "quote": {"id", …},
                                  "reaction": {"emoji", "targetSentTimestamp", "isRemove"},
                                  "remoteDelete": {"timestamp"}, "sticker", "contacts"},
                  "editMessage": {"targetSentTimestamp", "dataMessage"},
                  "syncMessage": {"sentMessage": {"destination", "destinationNumber", …dataMessage fields}},
                  "callMessage": {"offerMessage", …}, "typingMessage", "receiptMessage"},
     "account": "+44…"}

JSON-RPC lines (`{"jsonrpc": "2.0", "method": "receive", "params": {"envelope": …}}`) are unwrapped.
Messages and sent-message transcripts become items; remote deletes, disappearing-timer changes,
reactions, group updates and call offers become events; typing indicators, receipts and other
sync messages carry no content and are skipped. signal-cli saves attachments as
`attachments/<id>`: a folder holding the `.jsonl` and that `attachments/` folder is read as one
unit and the files are extracted; a bare `.jsonl` records attachment names only. Hand-written
because no maintained library reads these logs (signal-cli is the writer, not a reader).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

from indexer import errors
from indexer.identities import normalise_phone
from indexer.model import Address, Item, Problem
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import SourceContext
from indexer.sources.support.chat import conversation_key, message_item

NAME = "signal"
CHANNEL = "signal"
EXTENSIONS = (".jsonl", ".ndjson", ".json")
ATTACHMENTS_FOLDER = "attachments"


def _looks_like_signal(head: bytes) -> bool:
    """True when the first complete JSON line in `head` that holds an envelope is a signal-cli envelope."""
    lines = head.lstrip().split(b"\n")
    if not lines[0].startswith(b"{"):
        return False
    for line in lines[:-1] if len(lines) > 1 else []:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            return False
        if _envelope(record) is not None:
            return True
    # no complete line in the head (one long envelope): judge by the keys signal-cli writes first
    return len(lines) == 1 and b'"envelope"' in head and (b'"sourceNumber"' in head or b'"sourceUuid"' in head)


def _log_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and p.suffix.lower() in EXTENSIONS)


def accepts(path: Path, head: bytes) -> int:
    """High for a JSON Lines file of signal-cli envelopes, and for a folder holding one plus `attachments/`."""
    if path.is_dir():
        if not (path / ATTACHMENTS_FOLDER).is_dir():
            return 0
        for log in _log_files(path):
            with log.open("rb") as handle:
                if _looks_like_signal(handle.read(4096)):
                    return 85
        return 0
    if path.suffix.lower() in EXTENSIONS and _looks_like_signal(head):
        return 85
    return 0


def _envelope(record: Any) -> dict[str, Any] | None:
    """The envelope of a `receive` output line or JSON-RPC notification, else None."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("params"), dict):
        record = record["params"]
    envelope = record.get("envelope")
    return envelope if isinstance(envelope, dict) else None


def _account(record: dict[str, Any]) -> str | None:
    params = record.get("params") if isinstance(record.get("params"), dict) else record
    account = params.get("account")
    return account if isinstance(account, str) else None


@dataclass
class _Conversations:
    """What a first pass over the log learns: names of people and groups, who is in each conversation."""

    names: dict[str, str] = field(default_factory=dict)  # number or uuid -> profile/contact name
    numbers: dict[str, str] = field(default_factory=dict)  # uuid -> phone number, when a line gave both
    groups: dict[str, str] = field(default_factory=dict)  # group id -> group name
    # conversation key -> (number, uuid) of each person; Addresses are built once every name is known
    members: dict[str, set[tuple[str | None, str | None]]] = field(default_factory=dict)


class _Log:
    """Reads one or more signal-cli logs of one account; `attachments` is signal-cli's attachment folder or None."""

    def __init__(self, ctx: SourceContext, attachments: Path | None):
        self.ctx = ctx
        self.attachments = attachments
        self.known = _Conversations()
        self.seq: dict[str, int] = {}
        self.locators: dict[tuple[str, int], str] = {}  # (conversation key, sent timestamp) -> item locator
        self.expiry: dict[str, int] = {}

    def person(self, number: str | None, uuid: str | None, name: str | None = None) -> Address:
        number = number or self.known.numbers.get(uuid or "")
        raw = number or uuid or "(unknown)"
        phone = normalise_phone(number, self.ctx.phone_region) if number else None
        return Address(raw=raw, name=name or self.known.names.get(number or uuid or ""), address=phone or uuid or raw)

    def me(self, account: str | None) -> Address:
        account = account or self.ctx.custody.account
        return self.person(account, None) if account else Address(raw="me", name="me")

    def conversation(self, envelope: dict[str, Any], data: dict[str, Any], sent: bool) -> tuple[str, str]:
        """(key, display name) of a data message's conversation: its group, or the other party."""
        group = data.get("groupInfo") or {}
        if group.get("groupId"):
            group_id = group["groupId"]
            return f"group:{group_id}", self.known.groups.get(group_id) or f"Signal group {group_id}"
        other = self.person(*_destination(data)) if sent else self.person(*_source(envelope))
        return f"direct:{other.address}", other.name or other.raw

    def participants(self, key: str) -> list[Address]:
        """Everyone seen in a conversation, once each, sorted by address."""
        people = {}
        for number, uuid in self.known.members.get(key, set()):
            if number or uuid:
                person = self.person(number, uuid)
                people.setdefault(person.address, person)
        return [people[k] for k in sorted(people, key=str)]

    def learn(self, record: dict[str, Any]) -> None:
        """First pass: remember names and conversation members from one log line."""
        envelope = _envelope(record)
        if envelope is None:
            return
        number, uuid, name = _source(envelope)
        if number and uuid:
            self.known.numbers.setdefault(uuid, number)
        for key in (number, uuid):
            if key and name:
                self.known.names.setdefault(key, name)
        for data, sent, _ in _data_messages(envelope):
            group = data.get("groupInfo") or {}
            if group.get("groupId") and group.get("groupName"):
                self.known.groups[group["groupId"]] = group["groupName"]
            key, _ = self.conversation(envelope, data, sent)
            people = self.known.members.setdefault(key, set())
            people.add((_account(record) or self.ctx.custody.account, None))
            if not sent:
                people.add((number, uuid))
            elif not group.get("groupId"):
                people.add(_destination(data))

    def items(self, record: dict[str, Any], locator: str) -> list[Item | Problem]:
        """Second pass: the items (with attachment children and problems) of one log line."""
        envelope = _envelope(record)
        if envelope is None:
            return []
        produced: list[Item | Problem] = []
        for data, sent, edit_target in _data_messages(envelope):
            produced.extend(self._message(record, envelope, data, sent, edit_target, locator))
        offer = (envelope.get("callMessage") or {}).get("offerMessage")
        if offer:
            produced.append(self._call(record, envelope, offer, locator))
        return produced

    def _message(self, record: dict[str, Any], envelope: dict[str, Any], data: dict[str, Any], sent: bool,
                 edit_target: int | None, locator: str) -> list[Item | Problem]:
        key, name = self.conversation(envelope, data, sent)
        event, body, target = self._classify(key, data, edit_target)
        if event is None and body is None:
            return []  # a profile-key update or other content-free message
        sender = self.me(_account(record)) if sent else self.person(*_source(envelope))
        timestamp = data.get("timestamp") or envelope.get("timestamp")
        item = self._item(key, name, locator, sender, timestamp, body or "", event)
        if target is not None and (key, target) in self.locators:
            item.in_reply_to = self.ctx.item_id(self.locators[(key, target)])
        if isinstance(timestamp, int) and event in (None, "edited"):
            self.locators.setdefault((key, timestamp), locator)
        item.to = [p for p in item.participants if p.address != sender.address]
        return [item, *self._attachments(data.get("attachments") or [], item)]

    def _classify(self, key: str, data: dict[str, Any], edit_target: int | None) -> tuple[str | None, str | None, int | None]:
        """(event, body, the timestamp of the message it refers to) for a data message."""
        quote = (data.get("quote") or {}).get("id")
        if data.get("remoteDelete"):
            return "deleted", "This message was deleted", data["remoteDelete"].get("timestamp")
        if data.get("reaction"):
            reaction = data["reaction"]
            verb = "removed the reaction" if reaction.get("isRemove") else "reacted"
            return "other_system", f"{verb} {reaction.get('emoji', '')}".strip(), reaction.get("targetSentTimestamp")
        seconds = data.get("expiresInSeconds") or 0
        has_content = bool(data.get("message") or data.get("attachments") or data.get("sticker") or data.get("contacts"))
        previous = self.expiry.get(key, 0)
        self.expiry[key] = seconds
        if data.get("isExpirationUpdate") or (not has_content and "isExpirationUpdate" not in data and seconds != previous):
            if seconds:
                return "disappearing_on", f"set disappearing messages to {seconds} seconds", None
            return "disappearing_off", "turned off disappearing messages", None
        group_type = (data.get("groupInfo") or {}).get("type")
        if not has_content and group_type == "QUIT":
            return "left", "left the group", None
        if not has_content and group_type == "UPDATE":
            return "other_system", "updated the group", None
        if not has_content:
            return None, None, None
        body = data.get("message") or ""
        if data.get("sticker") and not body:
            body = "(sticker)"
        if edit_target is not None:
            return "edited", body, edit_target
        return None, body, quote

    def _call(self, record: dict[str, Any], envelope: dict[str, Any], offer: dict[str, Any], locator: str) -> Item:
        sender = self.person(*_source(envelope))
        key = f"direct:{sender.address}"
        kind = "video" if "VIDEO" in str(offer.get("type", "")).upper() else "voice"
        item = self._item(key, sender.name or sender.raw, locator, sender, envelope.get("timestamp"),
                          f"{kind} call offered", "call")
        item.to = [self.me(_account(record))]
        return item

    def _item(self, key: str, name: str, locator: str, sender: Address, timestamp: Any, body: str, event: str | None) -> Item:
        seq = self.seq.get(key, 0)
        self.seq[key] = seq + 1
        when = None
        if isinstance(timestamp, int):
            exact = datetime.fromtimestamp(timestamp // 1000, tz=timezone.utc) + timedelta(milliseconds=timestamp % 1000)
            when = exact.astimezone(self.ctx.timezone)
        return message_item(
            self.ctx, channel=CHANNEL, locator=locator, conversation_id=conversation_key(CHANNEL, self.ctx, key),
            conversation_name=name, seq=seq, sender=sender, when=when,
            date_original=str(timestamp) if timestamp is not None else None, body=body, event=event,
            participants=self.participants(key),
        )

    def _attachments(self, attachments: list[dict[str, Any]], item: Item) -> list[Item | Problem]:
        """Attachment children read from signal-cli's attachment folder; names only when there is none."""
        problems: list[Problem] = []

        note = partial(self.ctx.note, problems)

        children: list[Item | Problem] = []
        for number, attachment in enumerate(attachments, start=1):
            stored = str(attachment.get("id") or "")
            name = attachment.get("filename") or stored or f"attachment{number}"
            item.attachment_names.append(name)
            if self.attachments is None:
                continue
            locator = f"{item.locator}/attachment[{number}]"
            path = _stored_file(self.attachments, stored)
            if path is None:
                note(errors.Unreadable.code, f"attachment {name!r} (id {stored!r}) is not in the attachments folder",
                     locator, item)
            elif path.stat().st_size > self.ctx.limits.max_attachment_bytes:
                note(errors.TooLarge.code, f"attachment {name!r} is {path.stat().st_size} bytes, above the "
                     f"{self.ctx.limits.max_attachment_bytes}-byte limit; not read", locator, item)
            else:
                children.extend(attachment_items(path.read_bytes(), name, attachment.get("contentType"), locator, item,
                                                 self.ctx, note))
        return [*children, *problems]


def _stored_file(folder: Path, stored: str) -> Path | None:
    """signal-cli's saved copy of an attachment (`<id>`, or `<id>.<ext>` in newer versions), never outside `folder`."""
    if not stored or "/" in stored or "\\" in stored or stored in (".", ".."):
        return None
    for candidate in (folder / stored, *sorted(folder.glob(f"{stored}.*"))):
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


def _source(envelope: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(number, uuid, profile name) of an envelope's sender; the legacy `source` is a number or a uuid."""
    legacy = envelope.get("source")
    number = envelope.get("sourceNumber") or (legacy if isinstance(legacy, str) and legacy.startswith("+") else None)
    return number, envelope.get("sourceUuid"), envelope.get("sourceName")


def _destination(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(number, uuid) of a sent transcript's recipient, read like `_source`."""
    legacy = data.get("destination")
    number = data.get("destinationNumber") or (legacy if isinstance(legacy, str) and legacy.startswith("+") else None)
    return number, data.get("destinationUuid")


def _data_messages(envelope: dict[str, Any]) -> Iterator[tuple[dict[str, Any], bool, int | None]]:
    """(data message, sent by the account, timestamp of the message it edits) triples in an envelope."""
    if isinstance(envelope.get("dataMessage"), dict):
        yield envelope["dataMessage"], False, None
    edit = envelope.get("editMessage")
    if isinstance(edit, dict) and isinstance(edit.get("dataMessage"), dict):
        yield edit["dataMessage"], False, edit.get("targetSentTimestamp")
    sent = (envelope.get("syncMessage") or {}).get("sentMessage")
    if isinstance(sent, dict):
        sent_edit = sent.get("editMessage")
        if isinstance(sent_edit, dict) and isinstance(sent_edit.get("dataMessage"), dict):
            # a sent edit keeps the transcript's destination fields around the edited data message
            yield {**sent, **sent_edit["dataMessage"]}, True, sent_edit.get("targetSentTimestamp")
        else:
            yield sent, True, None


def _records(path: Path, ctx: SourceContext, prefix: str) -> Iterator[tuple[str, dict[str, Any] | Problem]]:
    """(locator, parsed line or Problem) for every non-blank line of one log."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            locator = f"{prefix}line[{number}]"
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                yield locator, Problem(ctx.source_path, locator, errors.Corrupt.code, f"not a JSON object: {exc}")
                continue
            except RecursionError:
                yield locator, Problem(ctx.source_path, locator, errors.Corrupt.code, "the JSON is nested too deeply to parse")
                continue
            if not isinstance(record, dict):
                yield locator, Problem(ctx.source_path, locator, errors.Corrupt.code, "the line is JSON but not an object")
                continue
            yield locator, record


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Items of a signal-cli log (locators `line[N]`) or of a folder of logs (`<file>:line[N]`) in file order."""
    if path.is_dir():
        logs, attachments = [(p, f"{p.name}:") for p in _log_files(path)], path / ATTACHMENTS_FOLDER
    else:
        logs, attachments = [(path, "")], None
    log = _Log(ctx, attachments)
    for file, prefix in logs:  # first pass: names and members, so every message lists its conversation's people
        for _, record in _records(file, ctx, prefix):
            if isinstance(record, dict):
                try:
                    log.learn(record)
                except (TypeError, ValueError, AttributeError, OverflowError):
                    continue  # the second pass reports this line
    for file, prefix in logs:
        for locator, record in _records(file, ctx, prefix):
            if isinstance(record, Problem):
                yield record
                continue
            try:
                yield from log.items(record, locator)
            except (TypeError, ValueError, AttributeError, OverflowError) as exc:
                yield Problem(ctx.source_path, locator, errors.Corrupt.code, f"unexpected envelope structure: {exc}")
