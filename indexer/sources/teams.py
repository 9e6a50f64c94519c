"""Microsoft Teams chat and channel messages as exported through Microsoft Graph (`.json`).

A file is a Graph list response (`{"@odata.context": ".../chats('19:…')/messages", "value":
[chatMessage, …]}`) or a plain JSON array of chatMessage objects; channel messages fetched with
`$expand=replies` carry their replies nested. One item per message; locators are `value[N]` (or
`messages[N]` for a plain array, `value[N].replies[M]` for nested replies), N from 0. Graph lists
newest first, so `seq` follows `createdDateTime` to read as the conversation did. HTML bodies
become text; attachments are listed by name, their inline content (cards, quoted messages)
appended to the body, and their `contentUrl` never fetched. Pasted images are hosted contents
behind Graph URLs, never fetched either: each stands in the text as `[image: NAME]` and is listed
among the attachment names, so a message that is only a picture still says it held one. Hand-written: no maintained library
reads Graph chatMessage exports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from indexer import errors
from indexer.model import Address, Item, Problem
from indexer.sources.base import SourceContext
from indexer.sources.support.chat import conversation_key, message_item, sender_address
from indexer.sources.support.html_body import html_to_text

NAME = "teams"
CHANNEL = "teams"
_CONTEXT_CHAT = re.compile(r"chats\('([^']+)'\)")
_CONTEXT_CHANNEL = re.compile(r"teams\('([^']+)'\)/channels\('([^']+)'\)")
# Graph event detail type (without "EventMessageDetail") → (event, how the body says it).
_SYSTEM = {
    "membersAdded": ("added", "{initiator} added {members}"), "membersJoined": ("joined", "{members} joined"),
    "membersDeleted": ("removed", "{initiator} removed {members}"), "membersLeft": ("left", "{members} left"),
    "chatRenamed": ("subject_changed", "{initiator} renamed the chat to {name}"),
    "teamRenamed": ("subject_changed", "{initiator} renamed the team to {name}"),
    "channelRenamed": ("subject_changed", "{initiator} renamed the channel to {name}"),
    "callStarted": ("call", "{initiator} started a call"), "callEnded": ("call", "Call ended {duration}{members}"),
}
_CARD_TEXT = ("title", "subtitle", "text", "value")


def accepts(path: Path, head: bytes) -> int:
    """High for JSON whose start names chatMessage fields (`messageType`) and Graph (`@odata`, chatMessage)."""
    if path.is_dir() or not head.lstrip()[:1] in (b"{", b"["):
        return 0
    if b'"messageType"' in head and (b"chatMessage" in head or b"@odata" in head):
        return 90
    if b'"messageType"' in head and b'"createdDateTime"' in head:
        return 70  # a plain array of chatMessage objects, saved without Graph's annotations
    return 0


@dataclass
class _Record:
    locator: str
    message: dict
    index: int


def _party(party: Any, region: str) -> Address | None:
    """The Address of a Graph identitySet (from, initiator): a user, an application or a device."""
    if not isinstance(party, dict):
        return None
    for kind in ("user", "application", "device"):
        who = party.get(kind)
        if isinstance(who, dict):
            handle = who.get("id") or None
            if who.get("displayName"):
                return sender_address(str(who["displayName"]), region, handle=handle)
            if handle:
                return Address(raw=str(handle), address=str(handle))
    if party.get("displayName") or party.get("id"):  # a teamworkUserIdentity in eventDetail.members
        return _party({"user": party}, region)
    return None


def _created(message: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(str(message.get("createdDateTime")))
    except ValueError:
        return None


def _conversation(message: dict, context: str) -> str:
    """The chat id, or "teamId/channelId", that a message belongs to."""
    if message.get("chatId"):
        return str(message["chatId"])
    identity = message.get("channelIdentity")
    if isinstance(identity, dict) and identity.get("channelId"):
        return f"{identity.get('teamId', '')}/{identity['channelId']}"
    if match := _CONTEXT_CHANNEL.search(context):
        return f"{match.group(1)}/{match.group(2)}"
    if match := _CONTEXT_CHAT.search(context):
        return match.group(1)
    return "messages"


def _flatten(messages: list, label: str, ctx: SourceContext) -> Iterator[_Record | Problem]:
    """Every message with its locator, nested replies after their root."""
    count = 0
    for index, message in enumerate(messages):
        locator = f"{label}[{index}]"
        if not isinstance(message, dict):
            yield Problem(ctx.source_path, locator, errors.Corrupt.code, "a message must be a JSON object")
            continue
        yield _Record(locator, message, count)
        count += 1
        for number, reply in enumerate(message.get("replies") or []):
            if isinstance(reply, dict):
                reply.setdefault("replyToId", message.get("id"))
                yield _Record(f"{locator}.replies[{number}]", reply, count)
                count += 1


def _objects(value: Any) -> list[dict]:
    """The JSON objects in a list field (anything else in it, or a non-list, is ignored)."""
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _card_text(node: Any) -> list[str]:
    """Human text in an adaptive/hero card: titles, text blocks, fact values."""
    if isinstance(node, list):
        return [text for child in node for text in _card_text(child)]
    if not isinstance(node, dict):
        return []
    found = [str(node[key]) for key in _CARD_TEXT if isinstance(node.get(key), str) and node[key].strip()]
    return found + [text for key, child in node.items() if isinstance(child, (dict, list)) for text in _card_text(child)]


def _attachment_text(attachment: dict, region: str) -> str:
    """The readable text of an attachment's inline `content` ("" for links to files)."""
    content = attachment.get("content")
    if not content:
        return ""
    try:
        parsed = json.loads(content) if isinstance(content, str) else content
    except json.JSONDecodeError:
        parsed = content
    if isinstance(parsed, str):
        return html_to_text(parsed) if "<" in parsed else parsed.strip()
    if isinstance(parsed, dict) and "messagePreview" in parsed:
        author = _party(parsed.get("messageSender"), region)
        return f"{author.raw if author else 'Someone'} wrote: {parsed.get('messagePreview') or ''}".strip()
    return "\n".join(_card_text(parsed))


def _html_body(html: str) -> tuple[str, list[str]]:
    """(text, names of the inline images) of an HTML body; an emoji image becomes its alt text."""
    tree = LexborHTMLParser(html)
    images: list[str] = []
    for node in tree.css("img"):
        alt = (node.attributes.get("alt") or "").strip()
        if "emoji" in (node.attributes.get("itemtype") or "").lower():
            node.replace_with(alt)
            continue
        name = alt if alt and alt.lower() != "image" else f"image {len(images) + 1}"  # Teams writes alt="image"
        images.append(name)
        node.replace_with(f"[image: {name}]")
    return html_to_text(tree.html or ""), images


def _system(detail: dict, message_type: str, region: str) -> tuple[str, str, Address | None]:
    """(event, body, initiator) of a system message from its eventDetail (or its unusual messageType)."""
    kind = str(detail.get("@odata.type", "")).rsplit(".", 1)[-1].removesuffix("EventMessageDetail")
    event, template = _SYSTEM.get(kind, ("other_system", "{initiator} " + (kind or f"system event ({message_type})")))
    initiator = _party(detail.get("initiator"), region)
    members = [_party(m, region) for m in _objects(detail.get("members"))]
    members += [_party(p.get("participant"), region) for p in _objects(detail.get("callParticipants"))]
    body = template.format(
        initiator=initiator.raw if initiator else "Someone", members=", ".join(m.raw for m in members if m),
        name=detail.get("chatDisplayName") or detail.get("teamDisplayName") or detail.get("channelDisplayName") or "",
        duration=f"after {detail['callDuration']}: " if detail.get("callDuration") else "",
    )
    return event, body.strip(" :"), initiator


class _Chat:
    """One conversation of a file: its records, people and name, read into items in time order."""

    def __init__(self, key: str, records: list[_Record], ctx: SourceContext) -> None:
        self.key, self.ctx = key, ctx
        self.records = sorted(records, key=self._order)
        self.conversation_id = conversation_key(CHANNEL, ctx, key)
        self.roots = {str(r.message["replyToId"]) for r in records if r.message.get("replyToId")}
        self.participants = self._participants()
        self.name = self._name()

    def _order(self, record: _Record) -> tuple[bool, float, int]:
        created = _created(record.message)
        if created is None:
            return True, 0.0, record.index
        return False, (created if created.tzinfo else created.replace(tzinfo=self.ctx.timezone)).timestamp(), record.index

    def _participants(self) -> list[Address]:
        seen: dict[str, Address] = {}
        for record in self.records:
            message = record.message
            detail = message.get("eventDetail") if isinstance(message.get("eventDetail"), dict) else {}
            mentions = [m.get("mentioned") for m in _objects(message.get("mentions"))]
            parties = [message.get("from"), detail.get("initiator"), *mentions, *_objects(detail.get("members"))]
            for address in (_party(p, self.ctx.phone_region) for p in parties):
                if address:
                    seen.setdefault(address.address or address.raw, address)
        return list(seen.values())

    def _name(self) -> str:
        names = [r.message["eventDetail"].get(key) for r in self.records if isinstance(r.message.get("eventDetail"), dict)
                 for key in ("chatDisplayName", "channelDisplayName") if r.message["eventDetail"].get(key)]
        return str(names[-1]) if names else ", ".join(p.raw for p in self.participants) or self.key

    def items(self) -> Iterator[Item | Problem]:
        """Items of the conversation in time order, each followed by its problems."""
        for seq, record in enumerate(self.records):
            try:
                yield from self._item(record, seq)
            except (TypeError, ValueError, AttributeError) as exc:
                yield Problem(self.ctx.source_path, record.locator, errors.Corrupt.code, f"unreadable message: {exc}")

    def _item(self, record: _Record, seq: int) -> Iterator[Item | Problem]:
        message, region = record.message, self.ctx.phone_region
        body_part = message.get("body") if isinstance(message.get("body"), dict) else {}
        content = str(body_part.get("content") or "")
        text, images = _html_body(content) if str(body_part.get("contentType", "")).lower() == "html" else (content.strip(), [])
        sender, event = _party(message.get("from"), region), None
        detail = message.get("eventDetail")
        if isinstance(detail, dict) or message.get("messageType") not in (None, "message"):
            detail = detail if isinstance(detail, dict) else {}
            event, described, initiator = _system(detail, str(message.get("messageType")), region)
            text, sender = text or described, sender or initiator
        attachments = _objects(message.get("attachments"))
        text = "\n".join(t for t in [text] + [_attachment_text(a, region) for a in attachments] if t)
        if message.get("deletedDateTime"):
            event = "deleted"
        created, original = _created(message), message.get("createdDateTime")
        item = message_item(
            self.ctx, channel=CHANNEL, locator=record.locator, conversation_id=self.conversation_id,
            conversation_name=self.name, seq=seq, sender=sender, when=created,
            date_original=str(original) if original else None, body=text, event=event, participants=self.participants,
        )
        item.subject = message.get("subject") or None
        item.attachment_names = [str(a["name"]) for a in attachments if a.get("name")] + images
        root = message.get("replyToId") or (message.get("id") if str(message.get("id")) in self.roots else None)
        if root:
            item.thread_id = conversation_key(CHANNEL, self.ctx, f"{self.key}/{root}")
        yield item
        if created is None:
            reason = f"message time {original!r} is not an ISO 8601 date"
            item.problems.append(reason)
            yield Problem(self.ctx.source_path, record.locator, errors.Corrupt.code, reason, item.id)


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every message in the file, grouped by chat or channel, each conversation in time order."""
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.Corrupt(f"invalid JSON: {exc}") from exc
    except RecursionError:
        raise errors.Corrupt("the JSON is nested too deeply to parse") from None
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        messages, label, context = data["value"], "value", str(data.get("@odata.context", ""))
        if data.get("@odata.nextLink"):
            yield Problem(ctx.source_path, "@odata.nextLink", errors.Corrupt.code,
                          "the export is truncated: Graph had more pages (@odata.nextLink), which are not in this file")
    elif isinstance(data, list):
        messages, label, context = data, "messages", ""
    else:
        raise errors.Corrupt('not a Graph chatMessage export: expected {"value": [...]} or a JSON array of messages')
    chats: dict[str, list[_Record]] = {}
    for record in _flatten(messages, label, ctx):
        if isinstance(record, Problem):
            yield record
        else:
            chats.setdefault(_conversation(record.message, context), []).append(record)
    for key, records in chats.items():
        yield from _Chat(key, records, ctx).items()
