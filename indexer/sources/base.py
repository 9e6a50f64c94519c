"""What every source reader gets and gives.

A source module exposes `NAME`, `CHANNEL`, `accepts(path, head) -> int` (a score; 0 means no)
and `read(path, ctx) -> Iterator[Item | Problem]`. The registry (`indexer.sources`) asks
every module and hands the file to the highest score.

A reader that can also read a file found inside a container (an attached message, an archive
member) exposes `accepts_member(member) -> int` and `read_member(member, ctx)`; containers hand
their members to `indexer.sources.support.nested.member_items`, which asks those readers the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from indexer import errors
from indexer.extract import MAX_TEXT_CHARS, TikaExtractor
from indexer.model import Custody, Item, Problem, stable_id


@dataclass(frozen=True)
class Limits:
    """Size limits that protect the indexer from hostile input."""

    max_attachment_bytes: int = 200 * 1024 * 1024
    # Archives (zip, 7z): bounds on what one top-level archive may expand to, nested ones included.
    max_expanded_bytes: int = 4 * 1024 * 1024 * 1024
    max_compression_ratio: int = 200  # expanded / compressed, checked for members above ratio_floor_bytes
    ratio_floor_bytes: int = 10 * 1024 * 1024
    max_nesting_depth: int = 5  # archives inside archives; item depth to which attached messages are read as emails
    max_archive_members: int = 100_000
    ocr_min_bytes: int = 12_000  # images smaller than this are not OCRed (see Settings.ocr_min_bytes)
    max_text_chars: int = MAX_TEXT_CHARS  # body text of one item; longer is cut (a 100 MB one-line message)


@dataclass
class SourceContext:
    """Everything a reader needs about the file it reads and where its items go."""

    source_path: str
    source_sha256: str
    custody: Custody
    extractor: TikaExtractor
    limits: Limits
    # Chat exports write local times with no offset: they are read in this zone.
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    phone_region: str = "GB"  # default region for phone numbers without a country code
    # The expansion budget (containers.Budget) of this top-level input, shared by every archive found
    # in it at any depth (zip → eml → zip), so nesting cannot restart the byte and member limits.
    expansion: object | None = field(default=None, repr=False, compare=False)

    def item_id(self, locator: str) -> str:
        """The stable id of the item at `locator` in this file, for this custody."""
        return stable_id(self.source_sha256, locator, self.custody)

    def note(self, problems: list[Problem], code: str, reason: str, locator: str, item: Item) -> None:
        """Record a problem found while reading `item`: `reason` goes on `item.problems` (shown with the item)
        and a Problem for the exception report (this file, `locator`, `code`, `reason`, the item's id) onto
        `problems`, the list the reader yields after its items. `locator` is where the problem is: the item's
        own, or that of the part that could not be read. `partial(ctx.note, problems)` is the `Note` callback
        that `attachment_items` and `member_items` take."""
        item.problems.append(reason)
        problems.append(Problem(self.source_path, locator, code, reason, item.id))


Note = Callable[[str, str, str, Item], None]
"""note(code, reason, locator, item): record a problem on `item` (`SourceContext.note` with its list bound)."""


# Signatures of binary formats Tika reads. A reader that would take a file for its extension alone
# (`.eml`, `.mbox`, `.pst`) leaves a file starting with one of these to the reader of what it is.
_FOREIGN_SIGNATURES = (
    (b"%PDF", "PDF"), (b"PK\x03\x04", "ZIP"), (b"PK\x05\x06", "ZIP"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE"),
    (b"7z\xbc\xaf\x27\x1c", "7z"), (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF8", "GIF"),
    (b"!BDN", "PST"), (b"Rar!\x1a\x07", "RAR"), (b"\x1f\x8b", "gzip"), (b"{\\rtf", "RTF"),
)


def foreign_format(head: bytes) -> str | None:
    """The name of the binary format `head` starts with (PDF, ZIP, OLE, JPEG, ...), or None."""
    return next((name for signature, name in _FOREIGN_SIGNATURES if head.startswith(signature)), None)


@dataclass(slots=True)
class Member:
    """A file found inside a container (an email's attachment, an archive member, a TNEF file), held
    in memory and handed back to the registry like a top-level file. Its items are children of
    `parent` at `locator`."""

    data: bytes
    name: str
    content_type: str | None
    locator: str
    parent: Item

    @property
    def head(self) -> bytes:
        return self.data[:4096]


class Source(Protocol):
    NAME: str

    def accepts(self, path: Path, head: bytes) -> int: ...

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Item | Problem]: ...


def capped(produced: Iterable[Item | Problem], ctx: SourceContext) -> Iterator[Item | Problem]:
    """What a reader produced, with each item's body cut at `ctx.limits.max_text_chars` (and a display
    HTML body that long dropped), each cut reported as `too_large`: no OpenSearch request could carry
    such an item (100 MB by default), and every copy of it on the way would cost that much memory."""
    limit = ctx.limits.max_text_chars
    for thing in produced:
        if not isinstance(thing, Item) or (len(thing.body) <= limit and len(thing.body_html or "") <= limit):
            yield thing
            continue
        reason = (f"the text is {len(thing.body)} characters long, above the {limit}-character limit; "
                  "only the first part was indexed")
        if len(thing.body) <= limit:
            reason = f"the HTML body is longer than {limit} characters; it is not kept for display (its text is indexed)"
        thing.body, thing.body_html = thing.body[:limit], None if len(thing.body_html or "") > limit else thing.body_html
        thing.problems.append(reason)
        thing.extraction = "partial" if thing.extraction == "ok" else thing.extraction
        yield thing
        yield Problem(ctx.source_path, thing.locator, errors.TooLarge.code, reason, thing.id)


BIG_READ_BYTES = 48 * 1024 * 1024
_big_reads = threading.Semaphore(1)


@contextmanager
def reading_whole(size: int) -> Iterator[None]:
    """Hold while a reader has `size` bytes of one input (and its decoded copies) in memory. Reads
    above BIG_READ_BYTES take turns across the reader threads, so four workers meeting four 100 MB
    emails hold one at a time: memory stays bounded by one big input, not by the number of workers."""
    if size <= BIG_READ_BYTES:
        yield
        return
    with _big_reads:
        yield


READERS: list[Source] = []
"""Every reader, in the registry's order: filled in by `indexer.sources` (the registry), which Python imports
before any module inside it, so a reader of containers (`support.nested`) hands members back to the readers
without importing the registry that imports it."""
