"""Slack workspace exports: the `.zip` Slack's export tool produces, or that zip unpacked to a folder.

Layout: `users.json`, `channels.json` (public channels), `groups.json` (private channels),
`dms.json` and `mpims.json` (direct messages) at the top, and one folder per conversation (named
by channel name, by id for DMs) of day files `YYYY-MM-DD.json`, each a JSON array of messages.
One item per message, in day-file order; locators are the day file's path in the export and the
message's index in its array, from 0 (`general/2020-01-01.json#3`). Threads keep their replies in
the channel and share a `thread_id`. Files are metadata with private URLs, which are never
fetched: their names are listed, and a file the export itself bundles is extracted through Tika.
Hand-written: no maintained library reads these exports into messages (slack-export-viewer
renders HTML, slackdump talks to the live API).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from indexer import errors
from indexer.model import Address, Item, Problem
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import Note, SourceContext
from indexer.sources.support.chat import conversation_key, message_item, sender_address
from indexer.sources.support.members import Members, open_members, zip_names

NAME = "slack"
CHANNEL = "slack"
METADATA = ("users.json", "channels.json")
_DAY_FILE = re.compile(r"^(?P<folder>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})\.json$")
_TS = re.compile(r"^(\d{1,12})(?:\.(\d{1,9}))?$")
_MARKUP = re.compile(r"<([^<>]*)>")
_EVENTS = {
    "channel_join": "joined", "group_join": "joined", "channel_leave": "left", "group_leave": "left",
    "channel_topic": "subject_changed", "channel_purpose": "subject_changed", "channel_name": "subject_changed",
    "group_topic": "subject_changed", "group_purpose": "subject_changed", "group_name": "subject_changed",
    "message_deleted": "deleted", "tombstone": "deleted", "message_changed": "edited", "pinned_item": "pinned",
    "huddle_thread": "call",
}
# Subtypes that are someone's message, not a system line.
_CONTENT = {"bot_message", "file_share", "file_comment", "thread_broadcast", "me_message", "reply_broadcast"}


def _root_prefix(names: list[str]) -> str | None:
    """The folder holding users.json/channels.json ("" at the top, "export/" one level down), or None."""
    found = [n[: -len(PurePosixPath(n).name)] for n in names if PurePosixPath(n).name in METADATA and n.count("/") <= 1]
    return min(found, key=len) if found else None


def accepts(path: Path, head: bytes) -> int:
    """High for a folder or zip with users.json or channels.json at its top (or one folder down)."""
    if path.is_dir():
        return 95 if any((path / name).is_file() for name in METADATA) else 0
    if not head.startswith(b"PK\x03\x04") and path.suffix.lower() != ".zip":
        return 0
    return 95 if _root_prefix(zip_names(path)) is not None else 0


@dataclass
class _Conversation:
    folder: str
    name: str
    members: list[Address] = field(default_factory=list)


def _load_json(members: Members, name: str, ctx: SourceContext) -> tuple[Any, Problem | None]:
    """Parsed JSON of a member, or (None, a Problem located at the member's name)."""
    try:
        return json.loads(members.read(name)), None
    except errors.IngestError as exc:
        return None, Problem(ctx.source_path, name, exc.code, str(exc))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, Problem(ctx.source_path, name, errors.Corrupt.code, f"invalid JSON: {exc}")
    except RecursionError:
        return None, Problem(ctx.source_path, name, errors.Corrupt.code, "the JSON is nested too deeply to parse")


def slack_time(ts: str) -> datetime:
    """A UTC datetime from a Slack `ts` ("1577872800.000200": epoch seconds, microseconds)."""
    match = _TS.match(ts.strip())
    if not match:
        raise ValueError(f"not a Slack timestamp: {ts!r}")
    moment = datetime.fromtimestamp(int(match.group(1)), tz=timezone.utc)
    return moment.replace(microsecond=int(((match.group(2) or "") + "000000")[:6]))


class _Reader:
    """One export being read: its people, conversation names and the markup they resolve."""

    def __init__(self, members: Members, prefix: str, ctx: SourceContext) -> None:
        self.members, self.prefix, self.ctx = members, prefix, ctx
        self.problems: list[Problem] = []
        self.users: dict[str, dict] = {}
        self.channel_names: dict[str, str] = {}
        self.people: dict[str, Address] = {}

    def _metadata(self, name: str) -> list[dict]:
        if self.prefix + name not in self.members.sizes:
            return []
        data, problem = _load_json(self.members, self.prefix + name, self.ctx)
        if problem:
            self.problems.append(problem)
        elif not isinstance(data, list):
            self.problems.append(Problem(self.ctx.source_path, self.prefix + name, errors.Corrupt.code, "expected a JSON array"))
        else:
            return [entry for entry in data if isinstance(entry, dict)]
        return []

    def conversations(self) -> dict[str, _Conversation]:
        """Conversations by folder name, from the metadata files (names resolved through users.json)."""
        self.users = {u["id"]: u for u in self._metadata("users.json") if isinstance(u.get("id"), str)}
        found: dict[str, _Conversation] = {}
        for file_name in ("channels.json", "groups.json", "dms.json", "mpims.json"):
            for entry in self._metadata(file_name):
                people = [self.person(m) for m in entry.get("members") or [] if isinstance(m, str)]
                folder = str(entry.get("name") or entry.get("id") or "")
                if file_name in ("channels.json", "groups.json"):
                    title = f"#{folder}"
                    self.channel_names[str(entry.get("id"))] = title
                else:
                    title = ", ".join(p.name or p.raw for p in people) or folder
                found[folder] = _Conversation(folder, title, people)
        return found

    def person(self, user_id: str, profile: dict | None = None) -> Address:
        """The Address of a Slack user: real/display name, email as address (else the user id)."""
        if user_id not in self.people:
            user = self.users.get(user_id) or {"profile": profile or {}}
            prof = user.get("profile") or {}
            name = (prof.get("real_name") or user.get("real_name") or prof.get("display_name")
                    or user.get("name") or prof.get("name") or "").strip()
            email = (prof.get("email") or "").strip().lower()
            if name:
                self.people[user_id] = sender_address(name, self.ctx.phone_region, handle=email or user_id)
            else:
                self.people[user_id] = Address(raw=email or user_id, address=email or user_id)
        return self.people[user_id]

    def markup(self, text: str) -> str:
        """Slack's message markup as plain text: mentions, channel links, labelled URLs, escapes."""
        return _MARKUP.sub(self._token, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def _token(self, match: re.Match) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            user = self.person(target[1:])
            return f"@{user.name or label or target[1:]}"
        if target.startswith("#"):
            return f"#{label}" if label else self.channel_names.get(target[1:], target)
        if target.startswith("!"):
            word = target[1:].split("^")[0]
            return label or (f"@{word}" if word in ("here", "channel", "everyone") else target)
        if label and label != target.removeprefix("mailto:"):
            return f"{label} ({target})"
        return label or target

    def sender(self, message: dict) -> Address | None:
        """Who wrote `message`: a user from users.json (a file comment's commenter), or a bot by its username."""
        bot_id = message.get("bot_id")
        if message.get("subtype") == "bot_message" or (bot_id and not message.get("user")):
            name = message.get("username") or (message.get("bot_profile") or {}).get("name")
            if name:
                return sender_address(str(name), self.ctx.phone_region, handle=bot_id)
            return Address(raw=str(bot_id), address=str(bot_id)) if bot_id else None
        user = message.get("user")
        comment = message.get("comment")
        if not isinstance(user, str) and isinstance(comment, dict):
            user = comment.get("user")  # a file_comment names its author only in the comment
        return self.person(user, message.get("user_profile")) if isinstance(user, str) else None

    def body(self, message: dict) -> str:
        """The message text with the text of its link previews and bot attachments appended."""
        parts = [self.markup(str(message.get("text") or ""))]
        for attachment in message.get("attachments") or []:
            if not isinstance(attachment, dict):
                continue
            pieces = [attachment.get(k) for k in ("pretext", "author_name", "title", "text")]
            if not any(pieces):
                pieces = [attachment.get("fallback")]
            for entry in attachment.get("fields") or []:
                if isinstance(entry, dict):
                    pieces.append(f"{entry.get('title', '')}: {entry.get('value', '')}")
            parts.extend(self.markup(str(p)) for p in pieces if p)
        return "\n".join(p for p in parts if p.strip())

    def bundled_file(self, folder: str, record: dict) -> str | None:
        """The member holding a shared file, when the export tool included it; None for metadata only."""
        name = PurePosixPath(str(record.get("name") or record.get("title") or "")).name
        if not name or name in (".", ".."):
            return None
        candidates = [f"{folder}/{name}", f"{folder}/files/{name}", f"files/{record.get('id')}/{name}", f"files/{name}"]
        for candidate in candidates:
            if self.prefix + candidate in self.members.sizes and not _DAY_FILE.match(candidate):
                return self.prefix + candidate
        return None


def _files(message: dict) -> list[dict]:
    records = list(message.get("files") or []) + ([message["file"]] if isinstance(message.get("file"), dict) else [])
    return [r for r in records if isinstance(r, dict)]


class _ConversationReader:
    """Reads the day files of one conversation into items, numbering messages across days."""

    def __init__(self, reader: _Reader, conversation: _Conversation) -> None:
        self.reader, self.conversation, self.ctx = reader, conversation, reader.ctx
        self.conversation_id = conversation_key(CHANNEL, self.ctx, conversation.folder)
        self.seq = 0

    def day(self, member: str) -> Iterator[Item | Problem]:
        """Items of one day file; a day file that is not a JSON array is one Problem."""
        data, problem = _load_json(self.reader.members, member, self.ctx)
        if problem:
            yield problem
            return
        if not isinstance(data, list):
            yield Problem(self.ctx.source_path, member, errors.Corrupt.code, "a day file must be a JSON array of messages")
            return
        for index, message in enumerate(data):
            locator = f"{member}#{index}"
            if not isinstance(message, dict):
                yield Problem(self.ctx.source_path, locator, errors.Corrupt.code, "a message must be a JSON object")
                continue
            try:
                yield from self.message(message, locator)
            except (TypeError, ValueError, AttributeError) as exc:
                yield Problem(self.ctx.source_path, locator, errors.Corrupt.code, f"unreadable message: {exc}")

    def message(self, message: dict, locator: str) -> Iterator[Item | Problem]:
        """The item of one message, its bundled files, then any problems found on the way."""
        problems: list[Problem] = []

        note = partial(self.ctx.note, problems)

        subtype = message.get("subtype")
        content = message.get("message") if subtype == "message_changed" and isinstance(message.get("message"), dict) else message
        ts = str(message.get("ts") or content.get("ts") or "")
        try:
            when = slack_time(ts)
        except ValueError:
            when = None
        item = message_item(
            self.ctx, channel=CHANNEL, locator=locator, conversation_id=self.conversation_id,
            conversation_name=self.conversation.name, seq=self.seq, sender=self.reader.sender(content), when=when,
            date_original=ts or None, body=self.reader.body(content), event=_event(subtype),
            participants=self.conversation.members,
        )
        self.seq += 1
        if when is None:
            note(errors.Corrupt.code, f"message time {ts!r} is not a Slack timestamp", locator, item)
        thread_ts = content.get("thread_ts")
        if thread_ts and (thread_ts != content.get("ts") or content.get("reply_count") or content.get("replies")):
            item.thread_id = conversation_key(CHANNEL, self.ctx, f"{self.conversation.folder}/{thread_ts}")
        children = self._attachments(_files(content), item, locator, note)
        yield item
        yield from children
        yield from problems

    def _attachments(self, records: list[dict], item: Item, locator: str, note: Note) -> list[Item]:
        children: list[Item] = []
        for number, record in enumerate(records, start=1):
            item.attachment_names.append(str(record.get("name") or record.get("title") or record.get("id") or "file"))
            member = self.reader.bundled_file(self.conversation.folder, record)
            if member is None:
                continue  # metadata only: the file lives behind a private URL, which is never fetched
            where = f"{locator}/attachment[{number}]"
            try:
                data = self.reader.members.read(member)
            except errors.IngestError as exc:
                note(exc.code, f"file {member!r}: {exc}", where, item)
                continue
            name = PurePosixPath(member).name
            children.extend(attachment_items(data, name, record.get("mimetype"), where, item, self.ctx, note))
        return children


def _event(subtype: object) -> str | None:
    if not subtype or subtype in _CONTENT:
        return None
    return _EVENTS.get(str(subtype), "other_system")


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every message of every conversation in the export, with bundled files; problems after their items."""
    with open_members(path, ctx) as members:
        yield from members.problems
        prefix = _root_prefix(list(members.sizes))
        if prefix is None:
            raise errors.Corrupt("not a Slack export: no users.json or channels.json at its top")
        reader = _Reader(members, prefix, ctx)
        conversations = reader.conversations()
        yield from reader.problems
        days: dict[str, list[str]] = {}
        for member in sorted(members.sizes):
            match = _DAY_FILE.match(member[len(prefix):]) if member.startswith(prefix) else None
            if match:
                days.setdefault(match.group("folder"), []).append(member)
        for folder, files in days.items():
            conversation = conversations.get(folder) or _Conversation(folder, f"#{folder}")
            conversation_reader = _ConversationReader(reader, conversation)
            for member in files:
                yield from conversation_reader.day(member)
