"""WhatsApp chat exports: the text alone ("WhatsApp Chat with X.txt", "_chat.txt") or the `.zip`
that Android and iOS share with the media files beside it.

Hand-written: no maintained library reads these exports into our model (whatstk needs pandas and
knows a few layouts; the rest are scripts). The export is plain text whose timestamp layout
follows the phone's locale, so one parser reads a small table of layouts (bracketed iOS, dashed
Android) with any date order, separator, 12/24-hour clock and invisible direction marks. The file
is read twice, streaming: first to learn the day/month order and who takes part, then to yield
one item per message. A line without a timestamp continues the message before it. Zip members
go through `members` (never extracted to disk, read within size and ratio limits).
"""

from __future__ import annotations

import io
import mimetypes
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from indexer import errors
from indexer.extract import MAX_TEXT_CHARS
from indexer.model import Address, Item, Problem
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import Note, SourceContext
from indexer.sources.support.chat import conversation_key, message_item, sender_address
from indexer.sources.support.members import Members, open_members, zip_names

NAME = "whatsapp"
CHANNEL = "whatsapp"
MAX_TOTAL_BYTES = 2 * 1024**3  # all members of one export together
MAX_LINE_CHARS = 1_000_000  # characters of one line read (see `_lines`)
MAX_MESSAGE_CHARS = MAX_TEXT_CHARS  # continuation text kept for one message
CUT_MARK = " [… cut: the line goes on past 1,000,000 characters]"

# Direction and isolation marks WhatsApp scatters at line starts and around names and attachments.
MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_NO_MARKS = str.maketrans("", "", MARKS)

# One header grammar; the table below says how the timestamp is framed. The date's field order
# (day-month-year, month-day-year or year-month-day) is decided per file, not per layout.
_DATE = r"(?P<f1>\d{4}|\d{1,2})(?P<sep>[./-])(?P<f2>\d{1,2})(?P=sep)(?P<f3>\d{4}|\d{2})"
_TIME = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?(?:\s*(?P<meridiem>[ap]\.?\s?m\.?))?"
LAYOUTS: tuple[tuple[str, str], ...] = (
    # iOS: "[31/12/2020, 23:59:59] Name: text", "[15-01-20 02:22:56] Name: text"
    ("bracket", rf"\[[{MARKS}]*(?P<stamp>{_DATE},?\s{_TIME})[{MARKS}]*\][{MARKS}]*\s?"),
    # Android: "31/12/2020, 23:59 - Name: text", "2019-10-20, 10:16 - ", "3/14/24, 9:05\u202fPM - "
    ("dash", rf"(?P<stamp>{_DATE},?\s{_TIME})[{MARKS}]*\s?[-\u2013][{MARKS}]*\s"),
)
_HEADERS = tuple(re.compile(rf"^[{MARKS}]*{pattern}", re.I) for _, pattern in LAYOUTS)
# A date where a timestamp would start, though the line is not a header: a half-written line.
_STAMP_LIKE = re.compile(rf"^[{MARKS}]*\[?\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{2,4}}(?:,|\s\d|\]|\s*$)")
# "Name: text"; some exports drop the space when the text starts with punctuation ("John Doe:.").
_SENDER = re.compile(r"^(?P<name>[^:]{1,120}?):\s?(?P<text>.*)$", re.S)

# System lines (no "Name:" part; on iOS "Group: \u200eAlice added Bob"). Order matters: a subject
# may itself contain "added".
_SYSTEM = tuple((re.compile(pattern, re.I | re.S), event) for pattern, event in (
    (r"^your security code with (?P<actor>.+?) changed", "security_code"),
    (r"^(?P<actor>.+?)['\u2019]s security code changed", "security_code"),
    (r"^(?P<actor>.+?) turned on disappearing messages", "disappearing_on"),
    (r"^(?P<actor>.+?) turned off disappearing messages", "disappearing_off"),
    (r"^disappearing messages were turned on", "disappearing_on"),
    (r"^disappearing messages were turned off", "disappearing_off"),
    (r"^(?P<actor>.+?) changed (?:the subject|the group name|this group's subject)\b", "subject_changed"),
    (r"^(?P<actor>.+?) (?:changed|deleted) this group['\u2019]s icon", "icon_changed"),
    (r"^(?P<actor>.+?) created (?:this )?group\b", "other_system"),
    (r"^(?P<actor>.+?) added .+$", "added"),
    (r"^(?P<actor>.+?) removed .+$", "removed"),
    (r"^(?P<actor>.+?) left\.?$", "left"),
    (r"^(?P<actor>.+?) joined(?: using .+)?\.?$", "joined"),
    (r"^(?P<actor>.+?) pinned a message\.?$", "pinned"),
))
_ENCRYPTION = ((re.compile(
    r"^(?:messages and calls are end-to-end encrypted|messages (?:you send )?to this (?:group|chat) "
    r"(?:and calls )?are now secured with end-to-end encryption)", re.I), "encryption_notice"),)
# Message bodies WhatsApp writes in place of content (iOS also files the notice under the chat's name).
_SPECIAL = _ENCRYPTION + tuple((re.compile(pattern, re.I | re.S), event) for pattern, event in (
    (r"^(?:this message was deleted|you deleted this message)\.?$", "deleted"),
    (r"^<media omitted>$|(?:^|\s)(?:image|video|audio|sticker|document|gif|contact card) omitted$", "media_omitted"),
    (r"^(?:missed )?(?:group )?(?:voice|video) call(?:, .*|\.?)$", "call"),
    (r"<this message was edited>$", "edited"),
))

# How exports name an attached file, by locale: "NAME (file attached)" and "<attached: NAME>".
# Any "(…)" or "<…: …>" that names a member of the zip counts; these markers also flag a missing file.
_ATTACHED_SUFFIX = re.compile(r"^(?P<name>[^\n]+?) \((?P<marker>[^()\n]+)\)$")
_ATTACHED_TAG = re.compile(r"<(?P<marker>[^<>:\n]+):\s*(?P<name>[^<>\n]+?)\s*>")
ATTACHED_MARKERS = frozenset({
    "file attached", "attached", "datei angehängt", "anhang", "archivo adjunto", "adjunto",
    "fichier joint", "pièce jointe", "arquivo anexado", "anexo", "file allegato", "allegato",
    "bestand bijgevoegd", "bijlage",
})
_CHAT_FILE = re.compile(r"^(?:_chat|WhatsApp[ -]Chat\b.*)\.txt$", re.I)
_CHAT_TITLE = re.compile(r"^WhatsApp[ -]Chat\s*(?:with|mit|con|avec|com|met|-)\s+(?P<title>.+)$", re.I)


def accepts(path: Path, head: bytes) -> int:
    """85 for a text whose first line is a WhatsApp message line (60 without `.txt`), 85 for a zip
    holding a chat text (or named like an export), else 0."""
    if path.is_dir():
        return 0
    if head.startswith(b"PK\x03\x04"):
        return 85 if _is_chat_zip(path, head) else 0
    if b"\x00" in head or not looks_like_chat(head):
        return 0
    return 85 if path.suffix.lower() == ".txt" else 60


def looks_like_chat(head: bytes) -> bool:
    """True when the first non-empty line of `head` starts with a WhatsApp timestamp in a known layout."""
    text = head.decode("utf-8", "ignore")
    first = next((line for line in text.splitlines() if line.translate(_NO_MARKS).strip()), "")
    return _header(first) is not None


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every message and system line of the chat; for a zip, attached files as children of their message."""
    with path.open("rb") as handle:
        is_zip = handle.read(4) == b"PK\x03\x04"
    if not is_zip:
        yield from _chat_items(lambda: _lines(path.open("rb")), ctx, _conversation_name(path.stem, None), "", None)
        return
    if not zipfile.is_zipfile(path):
        raise errors.Corrupt("the WhatsApp export zip is truncated or damaged: the list of its files "
                             "(the central directory at its end) is missing")
    with open_members(path, ctx) as members:
        yield from _zip_items(path, members, ctx)


# --- the zip export -------------------------------------------------------------------------


@dataclass
class _Media:
    """The export's files by base name, read on demand within the export-wide byte budget."""

    members: Members
    by_name: dict[str, str]  # base name → member name, as messages refer to files
    budget: int
    used: set[str] = field(default_factory=set)

    def read(self, name: str) -> bytes:
        """The bytes of member `name`; IngestError when it is unreadable or over a limit."""
        size = self.members.sizes[name]
        if size > self.budget:
            raise errors.TooLarge(f"{name!r} would take the export past {MAX_TOTAL_BYTES} bytes uncompressed; not read")
        self.budget -= size
        try:
            return self.members.read(name)
        except (zlib.error, NotImplementedError, RuntimeError, OSError) as exc:
            raise errors.Corrupt(f"{name!r} could not be decompressed: {exc}") from exc


def _zip_items(path: Path, members: Members, ctx: SourceContext) -> Iterator[Item | Problem]:
    yield from members.problems
    total = sum(members.sizes.values())
    if total > MAX_TOTAL_BYTES:
        yield Problem(ctx.source_path, "", errors.TooLarge.code,
                      f"the zip declares {total} bytes uncompressed, above the {MAX_TOTAL_BYTES}-byte limit; "
                      "members past the limit are not read")
    chats = [n for n in members.sizes if _CHAT_FILE.match(PurePosixPath(n).name) and not n.startswith("__MACOSX/")]
    if not chats:
        raise errors.Corrupt("no WhatsApp chat text ('_chat.txt' or 'WhatsApp Chat with ….txt') in the zip")
    by_name: dict[str, str] = {}
    for name in members.sizes:  # macOS resource forks are metadata, not evidence
        if name not in chats and not name.startswith("__MACOSX/"):
            by_name.setdefault(PurePosixPath(name).name, name)
    media = _Media(members, by_name, MAX_TOTAL_BYTES)
    for chat in chats:
        try:
            data = media.read(chat)
        except errors.IngestError as exc:
            yield Problem(ctx.source_path, chat, exc.code, f"chat text not read: {exc}")
            continue
        title = _conversation_name(PurePosixPath(chat).stem, path.stem)
        yield from _chat_items(lambda data=data: _lines(io.BytesIO(data)), ctx, title, f"{chat}/", media)
    for name in sorted(set(by_name.values()) - media.used):
        yield Problem(ctx.source_path, name, errors.Unsupported.code,
                      f"{name!r} is in the export but no message refers to it; not indexed")


def _is_chat_zip(path: Path, head: bytes) -> bool:
    """A WhatsApp zip by its name, its first member's name (readable even when truncated) or its listing."""
    if _CHAT_TITLE.match(path.stem):
        return True
    first = head[30:30 + int.from_bytes(head[26:28], "little")].decode("utf-8", "replace")
    if _CHAT_FILE.match(PurePosixPath(first).name):
        return True
    return any(_CHAT_FILE.match(PurePosixPath(name).name) for name in zip_names(path))


def _conversation_name(stem: str, container_stem: str | None) -> str:
    for candidate in (stem, container_stem):
        title = _CHAT_TITLE.match(candidate or "")
        if title:
            return title["title"].strip()
    return container_stem or stem


# --- lines and entries ----------------------------------------------------------------------


def _lines(handle: BinaryIO) -> Iterator[str]:
    """Decoded lines; bytes that are not UTF-8 become U+FFFD (and `_survey` reports them). A line longer
    than MAX_LINE_CHARS is cut there and ends in CUT_MARK: no message is that long (WhatsApp stops at
    65,536 characters), and a 100 MB line would otherwise be held, copied and matched whole."""
    with io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline=None) as text:
        while line := text.readline(MAX_LINE_CHARS):
            if len(line) == MAX_LINE_CHARS and not line.endswith("\n"):
                while (rest := text.readline(MAX_LINE_CHARS)) and not rest.endswith("\n"):
                    pass  # the rest of the overlong line is skipped, a block at a time
                line += CUT_MARK + "\n"
            yield line


def _header(line: str) -> re.Match[str] | None:
    for pattern in _HEADERS:
        match = pattern.match(line)
        if match:
            return match
    return None


@dataclass
class _Entry:
    """One message as exported: its first line number, timestamp match and lines of text."""

    line_no: int
    header: re.Match[str] | None  # None: text that is not a readable message (see `kind`)
    first: str
    more: list[str] = field(default_factory=list)
    kind: str = "message"  # or "garbled" (a half-written timestamp), "orphan" (text before any message)
    size: int = 0  # characters of continuation text seen, kept or not


def _entries(lines: Iterable[str]) -> Iterator[_Entry]:
    """Messages in export order; lines without a timestamp continue the entry before them."""
    current: _Entry | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        header = _header(line)
        if header or _STAMP_LIKE.match(line):
            if current:
                yield current
            current = _Entry(number, header, line[header.end():] if header else line, kind="message" if header else "garbled")
        elif current:
            if current.size <= MAX_MESSAGE_CHARS:
                current.more.append(line)  # past the limit the pipeline cuts the body and reports it
            current.size += len(line)
        elif line.translate(_NO_MARKS).strip():
            current = _Entry(number, None, line, kind="orphan")
    if current:
        yield current


def _when(header: re.Match[str], day_first: bool) -> datetime:
    """The wall-clock time of a header; ValueError when its numbers are not a real date and time."""
    f1, f2, f3 = header["f1"], header["f2"], header["f3"]
    year, month, day = (f1, f2, f3) if len(f1) == 4 else (f3, f2, f1) if day_first else (f3, f1, f2)
    hour = int(header["hour"])
    if header["meridiem"]:
        # 12 a.m. is midnight; some locales (Spanish on Android: "00:08 a. m.") count the hour from 0.
        if not 0 <= hour <= 12:
            raise ValueError(f"hour {hour} with {header['meridiem']!r}")
        hour = hour % 12 + (12 if header["meridiem"].lower().startswith("p") else 0)
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    return datetime(full_year, int(month), int(day), hour, int(header["minute"]), int(header["second"] or 0))


# --- what a line says -----------------------------------------------------------------------


def _classify(first: str) -> tuple[str | None, str | None, str]:
    """(sender, event, first body line) of a message's first line after its timestamp."""
    clean = first.translate(_NO_MARKS).strip()
    split = _SENDER.match(first)
    name = split["name"].translate(_NO_MARKS).strip() if split else ""
    # No "Name:" part, or a system line with a colon in it ('X changed the subject to "A: B"');
    # the name is short, so checking it first keeps ordinary messages cheap.
    if not split or _event(name, _SYSTEM)[1]:
        actor, event = _event(clean, _SYSTEM + _ENCRYPTION)
        if event and (actor is None or ": " not in actor):  # "Bob: Alice added Carol" is Bob speaking
            return actor, event, clean
        if not split:
            return None, _event(clean, _SPECIAL)[1] or "other_system", clean
    text = split["text"] or ""
    body = text.strip(MARKS + " ")
    _, event = _event(body.translate(_NO_MARKS), _SPECIAL)
    if event:
        return (None if event == "encryption_notice" else name), event, body
    if text.startswith(tuple(MARKS)):  # iOS writes group events as "Group: \u200eAlice added Bob"
        actor, event = _event(body.translate(_NO_MARKS), _SYSTEM)
        if event:
            return actor, event, body
    return name, None, body


def _event(text: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> tuple[str | None, str | None]:
    for pattern, event in table:
        match = pattern.search(text)
        if match:
            return (match.groupdict().get("actor") or None), event
    return None, None


def _references(body_line: str) -> list[tuple[str, bool]]:
    """(file name, written with a known 'attached' marker) for each file a message line points to."""
    line = body_line.translate(_NO_MARKS).strip()
    found = [(m["name"].strip(), m["marker"].strip().lower() in ATTACHED_MARKERS) for m in _ATTACHED_TAG.finditer(line)]
    suffix = _ATTACHED_SUFFIX.match(line)
    if suffix:
        found.append((suffix["name"].strip(), suffix["marker"].strip().lower() in ATTACHED_MARKERS))
    return found


# --- items ----------------------------------------------------------------------------------


@dataclass
class _Chat:
    """What every message of one conversation shares."""

    ctx: SourceContext
    conversation_id: str
    title: str
    prefix: str
    day_first: bool
    participants: list[Address]
    media: _Media | None


@dataclass
class _Survey:
    headers: int = 0
    first_over_12: bool = False
    second_over_12: bool = False
    senders: dict[str, None] = field(default_factory=dict)
    undecodable: list[int] = field(default_factory=list)
    cut: list[int] = field(default_factory=list)  # lines longer than MAX_LINE_CHARS


def _survey(lines: Iterable[str]) -> _Survey:
    """First pass: day/month evidence, everyone who speaks or acts, and lines that were not UTF-8."""
    survey = _Survey()
    for number, line in enumerate(lines, start=1):
        if "\ufffd" in line:
            survey.undecodable.append(number)
        if line.endswith(CUT_MARK + "\n"):
            survey.cut.append(number)
        header = _header(line.rstrip("\r\n"))
        if not header:
            continue
        survey.headers += 1
        if len(header["f1"]) != 4:
            survey.first_over_12 |= int(header["f1"]) > 12
            survey.second_over_12 |= int(header["f2"]) > 12
        sender, _, _ = _classify(line.rstrip("\r\n")[header.end():])
        if sender:
            survey.senders.setdefault(sender, None)
    return survey


def _chat_items(open_lines: Callable[[], Iterator[str]], ctx: SourceContext, title: str, prefix: str,
                media: _Media | None) -> Iterator[Item | Problem]:
    survey = _survey(open_lines())
    if survey.headers == 0:
        raise errors.Corrupt(f"{prefix.rstrip('/') or 'the file'} has no WhatsApp message lines")
    if survey.undecodable:
        yield Problem(ctx.source_path, f"{prefix}line[{survey.undecodable[0]}]", errors.Corrupt.code,
                      f"{len(survey.undecodable)} line(s) have bytes that are not UTF-8; they read as U+FFFD")
    for number in survey.cut:
        yield Problem(ctx.source_path, f"{prefix}line[{number}]", errors.TooLarge.code,
                      f"the line is longer than {MAX_LINE_CHARS} characters; only the first {MAX_LINE_CHARS} were read")
    # Any first field above 12 is a day; else any second field above 12 is; else assume the UK order.
    day_first = survey.first_over_12 or not survey.second_over_12
    participants = [sender_address(name, ctx.phone_region) for name in survey.senders]
    chat = _Chat(ctx, conversation_key(CHANNEL, ctx, title), title, prefix, day_first, participants, media)
    seq = 0
    for entry in _entries(open_lines()):
        locator = f"{prefix}line[{entry.line_no}]"
        if entry.kind == "garbled":
            yield Problem(ctx.source_path, locator, errors.Corrupt.code,
                          f"line looks like a message timestamp but could not be read (truncated?): {entry.first[:120]!r}")
        elif entry.kind == "orphan":
            yield Problem(ctx.source_path, locator, errors.Corrupt.code,
                          f"text before the first message, not attributable: {entry.first[:120]!r}")
        else:
            yield from _message_items(chat, entry, locator, seq)
            seq += 1


def _message_items(chat: _Chat, entry: _Entry, locator: str, seq: int) -> Iterator[Item | Problem]:
    """The item for one entry, its attachment children, then its problems."""
    ctx, header = chat.ctx, entry.header
    assert header is not None
    sender, event, first = _classify(entry.first)
    when, trouble = None, None
    try:
        when = _when(header, chat.day_first)
    except ValueError as exc:
        trouble = f"unreadable timestamp {header['stamp']!r}: {exc}"
    item = message_item(
        ctx, channel=CHANNEL, locator=locator, conversation_id=chat.conversation_id, conversation_name=chat.title,
        seq=seq, sender=sender_address(sender, ctx.phone_region) if sender else None, when=when,
        date_original=header["stamp"], body="\n".join([first, *entry.more]).rstrip("\n"), event=event,
        participants=chat.participants,
    )
    problems: list[Problem] = []

    note = partial(ctx.note, problems)

    if trouble:
        note(errors.Corrupt.code, trouble, item.locator, item)
    children = _attachments(chat, item, first, note) if event is None else []
    yield item
    yield from children
    yield from problems


def _attachments(chat: _Chat, item: Item, first: str, note: Note) -> list[Item]:
    """Children for the files a message line names; in a plain text export only their names are kept."""
    children: list[Item] = []
    media = chat.media
    for name, marked in _references(first):
        member = media.by_name.get(PurePosixPath(name).name) if media else None
        if member is None and not marked:
            continue  # "(like this)" in ordinary text
        item.attachment_names.append(name)
        at = f"{item.locator}/attachment[{len(item.attachment_names)}]"
        if media is None:
            continue
        if member is None:
            refused = any(PurePosixPath(p.locator).name == PurePosixPath(name).name for p in media.members.problems)
            note(errors.Corrupt.code, f"attachment {name!r} " + ("was refused (see its zip member's problem)" if refused
                 else "referenced but not in the export"), at, item)
            continue
        media.used.add(member)
        try:
            data = media.read(member)
        except errors.IngestError as exc:
            note(exc.code, f"attachment {name!r}: {exc}", at, item)
            continue
        content_type = mimetypes.guess_type(name)[0]
        children.extend(attachment_items(data, name, content_type, at, item, chat.ctx, note))
    return children

