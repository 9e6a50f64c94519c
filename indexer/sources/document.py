"""Loose files of any type Apache Tika reads: PDF, Office, OpenDocument, RTF, text, HTML, images,
iCalendar, vCard, and so on. One item per file (kind "document", channel "file") with Tika's text,
and one child item per file embedded in it (the images in a DOCX), all in the file's family.

This is the fallback reader: it scores low so that every specific source (email, chat exports,
archives) wins, and it takes any non-empty file none of them claims. Tika detects the type from
the content, so a mislabelled file (a DOCX named `.pdf`) is still read as what it is. Every file
becomes an item, so its name is searchable even when it has no text: a file Tika finds no text in
(an image without OCR, an unknown binary) is reported as `no_text`, an encrypted PDF or Office
file as `encrypted`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from indexer import errors
from indexer.model import Item, Problem, stable_id
from indexer.sources.attachments import attachment_items
from indexer.sources.base import SourceContext

NAME = "document"
CHANNEL = "file"
SCORE = 10


def accepts(path: Path, head: bytes) -> int:
    """SCORE for any non-empty regular file (the fallback); 0 for folders."""
    if path.is_dir() or not head:
        return 0
    return SCORE


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The document item for `path`, its embedded files, and a Problem for anything not fully read."""
    problems: list[Problem] = []

    def note(code: str, reason: str, locator: str, item: Item) -> None:
        item.problems.append(reason)
        problems.append(Problem(ctx.source_path, locator, code, reason, item.id))

    size = path.stat().st_size
    if size > ctx.limits.max_attachment_bytes:
        document = _document(path, ctx)
        document.size, document.extraction = size, "failed"
        note(errors.TooLarge.code, f"the file is {size} bytes, above the {ctx.limits.max_attachment_bytes}-byte "
             "limit; its text was not extracted", "", document)
        yield document
        yield from problems
        return
    data = path.read_bytes()
    items = attachment_items(data, path.name, None, "", _document(path, ctx, depth=-1), ctx, note)
    top = items[0]
    top.kind, top.parent_id, top.depth = "document", None, 0
    yield from items
    yield from problems


def _document(path: Path, ctx: SourceContext, depth: int = 0) -> Item:
    """The item for the file itself. With depth=-1 it stands in as the parent `attachment_items`
    needs: the item that function builds at locator "" then has this id, family and depth 0."""
    item_id = stable_id(ctx.source_sha256, "")
    return Item(
        id=item_id, kind="document", channel=CHANNEL, source_path=ctx.source_path, locator="",
        source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=item_id, depth=depth,
        file_name=path.name,
    )
