"""Telegram Desktop JSON exports (`result.json`): one item per message and per service message.

Two layouts: a single chat (`{"name", "type", "id", "messages": [...]}`) and a full account
export (`{"personal_information", "chats": {"list": [chat, ...]}, "left_chats": {"list": [...]}}`).
Messages carry `date` (local wall time of the exporting machine), `date_unixtime` (exact UTC,
preferred; the difference between the two gives the real local offset), `from`/`from_id`,
`text` (a string, or a list of strings and entity objects), `reply_to_message_id`, `edited`,
and media paths (`photo`, `file`, `contact_vcard`) relative to result.json, or a note like
"(File not included. Change data exporting settings to download.)". Service messages carry
`actor`/`actor_id`/`action` and become events.

Input units: a bare result.json (media names recorded only), a folder with result.json at its
top, or a .zip holding result.json at its root or one folder down (media read in memory through
`members`: never extracted to disk, sizes and compression ratios checked, unsafe member names
reported and skipped). result.json is streamed (`telegram_json`) because full exports run to
gigabytes; two passes, the first collecting each chat's participants. The format is Telegram's own; no
maintained library reads it into our model, hence the hand-written mapping.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from indexer import errors
from indexer.identities import normalise_phone
from indexer.model import Address, Item, Problem
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import SourceContext
from indexer.sources.support.chat import conversation_key, message_item, sender_address
from indexer.sources.support.members import Members, open_members
from indexer.sources.support.telegram_json import JSONError, RESULT, looks_like_telegram, result_member, result_stream, walk, zip_result

NAME = "telegram"
CHANNEL = "telegram"
MEDIA_FIELDS = ("photo", "file", "contact_vcard")
_UNNAMED_CHATS = {"saved_messages": "Saved Messages", "replies": "Replies", "verification_codes": "Verification Codes"}
# action -> (event, what the actor did)
_ACTIONS = {
    "create_group": ("other_system", "created the group {title}"),
    "create_channel": ("other_system", "created the channel {title}"),
    "migrate_to_supergroup": ("other_system", "converted the group to a supergroup"),
    "migrate_from_group": ("other_system", "converted the group {title} to a supergroup"),
    "edit_group_title": ("subject_changed", "changed the group name to {title}"),
    "edit_group_photo": ("icon_changed", "changed the group photo"),
    "delete_group_photo": ("icon_changed", "removed the group photo"),
    "invite_members": ("added", "added {members}"),
    "remove_members": ("removed", "removed {members}"),
    "join_group_by_link": ("joined", "joined the group via an invite link"),
    "join_group_by_request": ("joined", "joined the group by request"),
    "joined_telegram": ("joined", "joined Telegram"),
    "pin_message": ("pinned", "pinned a message"),
    "phone_call": ("call", "phone call"),
    "group_call": ("call", "group call"),
    "invite_to_group_call": ("call", "invited {members} to a group call"),
    "clear_history": ("other_system", "cleared the history"),
    "take_screenshot": ("other_system", "took a screenshot"),
}


def accepts(path: Path, head: bytes) -> int:
    """High for result.json-like JSON, a folder with result.json at its top, or a zip holding one."""
    try:
        if path.is_dir():
            result = path / RESULT
            if result.is_file() and not result.is_symlink():
                with result.open("rb") as handle:
                    return 90 if looks_like_telegram(handle.read(4096)) else 0
            return 0
        if head.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as archive:
                member = zip_result(archive)
                if member is not None:
                    with archive.open(member) as handle:
                        return 90 if looks_like_telegram(handle.read(4096)) else 0
            return 0
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError):
        return 0  # not a readable zip or folder: some other reader, or the pipeline, reports it
    return 90 if path.suffix.lower() == ".json" and looks_like_telegram(head) else 0


def _media_name(base: str, reference: str) -> str:
    """The member name of a media path; raises Unsupported for paths that leave the export."""
    parts = PurePosixPath(reference.replace("\\", "/")).parts
    if not parts or reference.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise errors.Unsupported(f"media path {reference!r} points outside the export; not read")
    return base + "/".join(parts)


def _read_media(members: Members, base: str, reference: str) -> bytes:
    """The bytes of a referenced media file; raises an IngestError saying why it cannot be read."""
    name = _media_name(base, reference)
    if name not in members.sizes:
        raise errors.Unreadable(f"{reference!r} is referenced but not in the export")
    return members.read(name)


def _text(value: Any) -> str:
    """A message's text flattened: entity objects give their text, text links add `(href)`."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    parts = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text, href = str(part.get("text") or ""), part.get("href")
            parts.append(f"{text} ({href})" if part.get("type") == "text_link" and href and href != text else text)
    return "".join(parts)


def _extras(message: dict[str, Any]) -> list[str]:
    """Searchable text of polls, shared contacts, places and stickers."""
    lines = []
    if isinstance(message.get("poll"), dict):
        poll = message["poll"]
        lines.append(f"Poll: {poll.get('question', '')}")
        lines += [f"- {answer.get('text', '')}" for answer in poll.get("answers") or [] if isinstance(answer, dict)]
    if isinstance(message.get("contact_information"), dict):
        contact = message["contact_information"]
        fields = (str(contact.get(k) or "") for k in ("first_name", "last_name", "phone_number"))
        lines.append("Contact: " + " ".join(f for f in fields if f))
    for key in ("place_name", "address", "game_title"):
        if message.get(key):
            lines.append(str(message[key]))
    if isinstance(message.get("location_information"), dict):
        where = message["location_information"]
        lines.append(f"Location: {where.get('latitude')}, {where.get('longitude')}")
    if message.get("sticker_emoji"):
        lines.append(str(message["sticker_emoji"]))
    return lines


def _when(message: dict[str, Any], ctx: SourceContext) -> tuple[datetime | None, str | None]:
    """The message time and its original text; with `date_unixtime` the time is exact and carries the
    exporting machine's offset (local `date` minus UTC), else `date` is read in the source's zone."""
    text = message.get("date") if isinstance(message.get("date"), str) else None
    try:
        local = datetime.fromisoformat(text) if text else None
    except ValueError:
        local = None
    unix = message.get("date_unixtime")
    if isinstance(unix, (int, str)) and str(unix).isdigit():
        utc = datetime.fromtimestamp(int(unix), tz=timezone.utc)
        if local is not None and local.tzinfo is None:
            offset = local - utc.replace(tzinfo=None)
            if abs(offset) <= timedelta(hours=14) and offset.total_seconds() % 60 == 0:
                return utc.astimezone(timezone(offset)), text
        return utc.astimezone(ctx.timezone), text or str(unix)
    return local, text


class _Reader:
    """One export: the account owner, each chat's participants, and the items of each message."""

    def __init__(self, ctx: SourceContext, members: Members | None, base: str):
        self.ctx, self.members, self.base = ctx, members, base  # members: None for a bare result.json
        self.owner: Address | None = None
        self.owner_handle: str | None = None
        self.participants: dict[str, dict[str, Address]] = {}  # chat path -> address key -> person
        self.names: dict[str, set[str]] = {}  # chat path -> names already among its participants
        self.chat: dict[str, Any] = {}
        self.locators: dict[Any, str] = {}  # Telegram message id -> locator, within the current chat

    def set_owner(self, info: dict[str, Any]) -> None:
        name = " ".join(str(info.get(k) or "") for k in ("first_name", "last_name")).strip()
        phone_raw = str(info.get("phone_number") or "")
        phone = normalise_phone(phone_raw, self.ctx.phone_region) if phone_raw else None
        self.owner_handle = f"user{info['user_id']}" if info.get("user_id") is not None else None
        self.owner = Address(raw=name or phone_raw or "me", name=name or None, address=phone or self.owner_handle)

    def person(self, name: Any, handle: Any) -> Address | None:
        if not name and not handle:
            return None
        if handle and handle == self.owner_handle and self.owner is not None:
            return self.owner
        return sender_address(str(name or handle), self.ctx.phone_region, handle=str(handle) if handle else None)

    def survey(self, chat_path: str, message: dict[str, Any]) -> None:
        """First pass: add everyone a message names to its chat's participants."""
        if chat_path not in self.participants:
            self.participants[chat_path], self.names[chat_path] = {}, set()
            if self.owner is not None:  # the account holder is in every chat of their own export
                self.participants[chat_path][self.owner.address or self.owner.raw] = self.owner
                self.names[chat_path].add(self.owner.raw)
        people, names = self.participants[chat_path], self.names[chat_path]
        for name, handle in (("from", "from_id"), ("actor", "actor_id")):
            found = self.person(message.get(name), message.get(handle))
            if found is not None:
                people.setdefault(found.address or found.raw, found)
                names.add(found.raw)
        for member in message.get("members") or []:
            if isinstance(member, str) and member and member not in names:  # members are named, without ids
                found = sender_address(member, self.ctx.phone_region)
                people.setdefault(found.address or found.raw, found)
                names.add(member)

    def start_chat(self, chat_path: str, header: dict[str, Any]) -> None:
        chat_id = header.get("id")
        name = header.get("name") or _UNNAMED_CHATS.get(str(header.get("type"))) or f"Telegram chat {chat_id}"
        key = f"{header.get('type', 'chat')}/{chat_id}" if chat_id is not None else chat_path or "chat"
        self.chat = {"path": chat_path, "name": name, "id": conversation_key(CHANNEL, self.ctx, key)}
        self.locators = {}

    def items(self, locator: str, seq: int, message: dict[str, Any]) -> list[Item | Problem]:
        """The item of one message (or service message), its media children, then its problems."""
        if message.get("type") == "service":
            event, body = _service(message)
            sender = self.person(message.get("actor"), message.get("actor_id"))
            reference = message.get("message_id")
        elif message.get("type") == "message":
            body = "\n".join(p for p in [_text(message.get("text")), *_extras(message)] if p)
            event = "edited" if message.get("edited") else None
            sender = self.person(message.get("from"), message.get("from_id"))
            reference = message.get("reply_to_message_id")
        else:
            return [Problem(self.ctx.source_path, locator, errors.Unsupported.code,
                            f"message of type {message.get('type')!r} was not exported by Telegram in readable form")]
        when, original = _when(message, self.ctx)
        item = message_item(
            self.ctx, channel=CHANNEL, locator=locator, conversation_id=self.chat["id"],
            conversation_name=self.chat["name"], seq=seq, sender=sender, when=when, date_original=original,
            body=body, event=event, participants=list(self.participants.get(self.chat["path"], {}).values()),
        )
        if reference in self.locators:
            item.in_reply_to = self.ctx.item_id(self.locators[reference])
        if message.get("id") is not None:
            self.locators[message["id"]] = locator
        return [item, *self._media(message, item)]

    def _media(self, message: dict[str, Any], item: Item) -> list[Item | Problem]:
        problems: list[Problem] = []

        note = partial(self.ctx.note, problems)

        children: list[Item | Problem] = []
        omitted = 0
        for field in MEDIA_FIELDS:
            reference = message.get(field)
            if not isinstance(reference, str) or not reference:
                continue
            included = not reference.startswith("(")
            name = (message.get("file_name") if field == "file" else None) or (
                PurePosixPath(reference).name if included else str(message.get("media_type") or field))
            item.attachment_names.append(name)
            if not included:
                omitted += 1  # Telegram left the file out of the export: the name is all there is
                continue
            if self.members is None:
                continue
            locator = f"{item.locator}/attachment[{len(item.attachment_names)}]"
            try:
                data = _read_media(self.members, self.base, reference)
            except errors.IngestError as exc:
                note(exc.code, f"attachment {name!r}: {exc}", locator, item)
                continue
            children.extend(attachment_items(data, name, message.get("mime_type") if field == "file" else None,
                                             locator, item, self.ctx, note))
        if omitted and omitted == len(item.attachment_names) and not item.body and item.event is None:
            item.event = "media_omitted"
        return [*children, *problems]


def _service(message: dict[str, Any]) -> tuple[str, str]:
    """(event, body) of a service message: what the actor did, in words."""
    action = str(message.get("action") or "")
    actor = str(message.get("actor") or "Someone")
    members = [str(m) for m in message.get("members") or [] if m]
    if action == "remove_members" and members == [actor]:
        return "left", f"{actor} left the group"
    if action == "set_messages_ttl":
        period = message.get("period") or message.get("period_seconds") or 0
        if period:
            return "disappearing_on", f"{actor} set messages to auto-delete after {period} seconds"
        return "disappearing_off", f"{actor} turned off auto-delete"
    if not action and message.get("information_text"):
        return "other_system", str(message["information_text"])
    event, phrase = _ACTIONS.get(action, ("other_system", action.replace("_", " ") or "did something"))
    body = f"{actor} " + phrase.format(title=message.get("title") or "", members=", ".join(members) or "someone")
    details = [f"{message[k]} s" for k in ("duration_seconds", "duration") if message.get(k)]
    details += [str(message["discard_reason"])] if message.get("discard_reason") else []
    if details:
        body += f" ({', '.join(details)})"
    text = _text(message.get("text"))
    return event, f"{body}\n{text}" if text else body


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every message of every chat in file order; locators `messages[N]` or `chats.list[C].messages[N]` (0-based)."""
    member = result_member(path, ctx)
    if not member:
        yield from _read_export(path, member, _Reader(ctx, None, ""), ctx)
        return
    with open_members(path, ctx) as members:
        yield from members.problems
        yield from _read_export(path, member, _Reader(ctx, members, member[: -len(RESULT)]), ctx)


def _read_export(path: Path, member: str, reader: _Reader, ctx: SourceContext) -> Iterator[Item | Problem]:
    _survey(path, member, reader)
    yield from _items(path, member, reader, ctx)


def _survey(path: Path, member: str, reader: _Reader) -> None:
    """First pass: the account owner and who is in each chat."""
    chat_path = ""
    try:
        with result_stream(path, member) as stream:
            for kind, where, value in walk(stream):
                if kind == "owner" and isinstance(value, dict):
                    reader.set_owner(value)
                elif kind == "chat":
                    chat_path = where
                elif kind == "message" and isinstance(value, dict):
                    reader.survey(chat_path, value)
    except JSONError:
        return  # the second pass meets the same error at the same place and reports it


def _items(path: Path, member: str, reader: _Reader, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Second pass: the items and problems of every message."""
    last, seq, found = "the start", 0, 0
    try:
        with result_stream(path, member) as stream:
            for kind, where, value in walk(stream):
                if kind == "chat":
                    reader.start_chat(where, value)
                    seq = 0
                elif kind == "message":
                    last, seq, found = where, seq + 1, found + 1
                    try:
                        produced = reader.items(where, seq - 1, value)
                    except (TypeError, ValueError, AttributeError, KeyError) as exc:
                        reason = f"unexpected message structure: {exc!r}"
                        produced = [Problem(ctx.source_path, where, errors.Corrupt.code, reason)]
                    yield from produced
    except JSONError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        yield Problem(ctx.source_path, f"after {last}", errors.Corrupt.code,
                      f"result.json is malformed after {last} ({first_line}); the messages before it are indexed")
        return
    if not found:
        yield Problem(ctx.source_path, "", errors.Corrupt.code,
                      "result.json holds no messages (no `messages` array where a Telegram export has one)")
