"""ZIP and 7z archives: the archive is one item, each member a child item with Tika's text.

The archive item (kind "document", channel "file") carries the archive's name and, as its body,
the list of its members. Members are read into memory by `containers` (never to disk) within the
limits of `Limits` — whole-archive expansion, per-member size, compression ratio, member count and
nesting depth — and each goes back to the registry (`nested.member_items`): a message (.eml, .msg,
winmail.dat) becomes an email item with its own attachments, any other file goes through Tika, so the
files Tika finds inside a member (the images in a DOCX) become grandchildren. A member that is itself a zip or 7z is opened here, not
by Tika, so the same limits hold however deep it goes; so is a zip or 7z attached to an email
(`read_member`). One budget of bytes and members holds for the whole top-level input (it is kept on
the SourceContext): a zip in an email in a zip draws on the outer zip's limits, not fresh ones. Zip-based documents (DOCX, ODT, EPUB) are not archives: Tika reads them whole
through the `document` source.

Nothing is dropped: a member that is refused (encrypted, a zip bomb, beyond the limits) is still an
item with its name and size, marked `extraction=failed`, and a Problem; a member whose name escapes
the archive ("../x", "/etc/x", "C:\\x") is indexed by content (it never touches the disk) and
reported as `unsafe_path`; a damaged or truncated archive is reported as `corrupt` with every member
that could be read still indexed. Chat exports that come as zips (WhatsApp, Slack) are claimed by
their own sources, which score higher.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from indexer import errors
from indexer.digests import bytes_sha256
from indexer.model import Item, Problem
from indexer.sources.base import Member, SourceContext
from indexer.sources.support.containers import Budget, Damage, Entry, Source, archive_format, entries
from indexer.sources.support.nested import member_items

NAME = "archive"
CHANNEL = "file"
SCORE = 40  # above `document`, below sources that recognise a particular export inside a zip
CONTENT_TYPES = {"zip": "application/zip", "7z": "application/x-7z-compressed"}
MAX_LISTED = 10_000  # member names written into an archive item's body


def accepts(path: Path, head: bytes) -> int:
    """SCORE for a zip (that is not a zip-based document) or a 7z file; 0 otherwise."""
    if path.is_dir() or not head:
        return 0
    return SCORE if archive_format(path, head) else 0


def accepts_member(member: Member) -> int:
    """SCORE for a zip or 7z found in a container (an email's attachment): opened here, not by Tika, so
    its members are read by the registry and within these limits."""
    return SCORE if archive_format(member.data, member.head) else 0


def read_member(member: Member, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The archive in `member` as an attachment item (a child of `member.parent`), one item per member,
    and a Problem for everything not fully read, within the expansion budget of the top-level input."""
    parent, data = member.parent, member.data
    archive = Item(
        id=ctx.item_id(member.locator), kind="attachment", channel=parent.channel, source_path=ctx.source_path,
        locator=member.locator, source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=parent.family_id,
        parent_id=parent.id, depth=parent.depth + 1, date=parent.date, file_name=member.name,
        content_type=CONTENT_TYPES.get(archive_format(data) or "", None), size=len(data), content_sha256=bytes_sha256(data),
    )
    reader = _Reader(ctx, _budget(ctx))
    yield from reader.members(data, archive, prefix=f"{member.locator}!/", level=archive.depth + 1)
    yield archive
    yield from reader.take_problems()


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The archive item, one item per member (nested archives opened up to the nesting limit), and
    a Problem for everything not fully read."""
    archive_id = ctx.item_id("")
    archive = Item(
        id=archive_id, kind="document", channel=CHANNEL, source_path=ctx.source_path, locator="",
        source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=archive_id, file_name=path.name,
        content_type=CONTENT_TYPES.get(archive_format(path) or "", None), size=path.stat().st_size,
        content_sha256=ctx.source_sha256,
    )
    reader = _Reader(ctx, _budget(ctx))
    yield from reader.members(path, archive, prefix="", level=1)
    yield archive
    yield from reader.take_problems()


def _budget(ctx: SourceContext) -> Budget:
    """The one expansion budget of the top-level input `ctx` reads, however deep its archives are."""
    if not isinstance(ctx.expansion, Budget):
        ctx.expansion = Budget(ctx.limits)
    return ctx.expansion


class _Reader:
    """Turns the entries of one top-level archive (and the archives inside it) into items."""

    def __init__(self, ctx: SourceContext, budget: Budget) -> None:
        self.ctx = ctx
        self.budget = budget
        self.problems: list[Problem] = []
        self.locators: set[str] = set()

    def unique(self, locator: str) -> str:
        """`locator`, or a numbered variant when a member of the same name came before (a zip may repeat a
        name, or leave it empty), so no member's item id overwrites another's, or the archive's own."""
        wanted, number = locator, 1
        while locator in self.locators:
            number += 1
            locator = f"{wanted} ({number})"
        self.locators.add(locator)
        return locator

    def note(self, code: str, reason: str, locator: str, item: Item) -> None:
        """`SourceContext.note` onto this reader's problems, which `members` yields after each member's items
        (the `attachment_items` callback)."""
        self.ctx.note(self.problems, code, reason, locator, item)

    def take_problems(self) -> list[Problem]:
        taken, self.problems = self.problems, []
        return taken

    def members(self, source: Source, container: Item, prefix: str, level: int) -> Iterator[Item | Problem]:
        """Items for the members of `source`, children of `container`; its body becomes their listing."""
        names: list[str] = []
        for got in entries(source, self.budget):
            if isinstance(got, Damage):
                self.note(got.error.code, f"{container.file_name!r}: {got.error}", container.locator, container)
                container.extraction = "partial"
                continue
            names.append(got.name)
            yield from self.member(got, container, prefix, level)
            yield from self.take_problems()
        container.body = _listing(names)

    def member(self, entry: Entry, container: Item, prefix: str, level: int) -> Iterator[Item]:
        """The item(s) for one member: extracted through Tika, opened as a nested archive, or refused."""
        locator = self.unique(f"{prefix}{entry.name or '(unnamed member)'}")
        name = PurePosixPath(entry.name.replace("\\", "/")).name or entry.name
        if entry.data is None:
            yield self._refused(entry, name, locator, container)
            return
        nested_format = archive_format(entry.data)
        if nested_format is None:
            items = []
            for got in member_items(Member(entry.data, name, None, locator, container), self.ctx, self.note):
                (items.append if isinstance(got, Item) else self.problems.append)(got)
            if entry.failure is not None:
                self.note(entry.failure.code, str(entry.failure), locator, items[0])
                items[0].extraction = "partial" if items[0].extraction == "ok" else items[0].extraction
            yield from items
            return
        nested = self._member_item(entry, name, locator, container, CONTENT_TYPES[nested_format])
        if entry.failure is not None:
            self.note(entry.failure.code, str(entry.failure), locator, nested)
        if level >= self.ctx.limits.max_nesting_depth:
            self.note(errors.TooLarge.code, f"{name!r} is an archive nested {level + 1} levels deep, beyond the limit "
                      f"of {self.ctx.limits.max_nesting_depth}; its members were not read", locator, nested)
            nested.extraction = "failed"
        else:
            yield from self.members(entry.data, nested, prefix=f"{locator}!/", level=level + 1)
        yield nested

    def _member_item(self, entry: Entry, name: str, locator: str, container: Item, content_type: str | None) -> Item:
        data = entry.data or b""
        return Item(
            id=self.ctx.item_id(locator), kind="attachment", channel=CHANNEL,
            source_path=self.ctx.source_path, locator=locator, source_sha256=self.ctx.source_sha256,
            custody=self.ctx.custody, family_id=container.family_id, parent_id=container.id,
            depth=container.depth + 1, file_name=name, content_type=content_type,
            size=len(data) if entry.data is not None else entry.size,
            content_sha256=bytes_sha256(data) if entry.data is not None else None,
        )

    def _refused(self, entry: Entry, name: str, locator: str, container: Item) -> Item:
        """A member that was not read still becomes an item, so its name and size are searchable."""
        item = self._member_item(entry, name, locator, container, None)
        failure = entry.failure or errors.Unreadable(f"member {entry.name!r} could not be read")
        self.note(failure.code, str(failure), locator, item)
        item.extraction = "failed"
        return item


def _listing(names: list[str]) -> str:
    listed = "\n".join(names[:MAX_LISTED])
    if len(names) > MAX_LISTED:
        listed += f"\n… and {len(names) - MAX_LISTED} more members"
    return listed
