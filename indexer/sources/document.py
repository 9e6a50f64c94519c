"""Loose files of any type Apache Tika reads: PDF, Office, OpenDocument, RTF, text, HTML, images,
iCalendar, vCard, and so on. One item per file (kind "document", channel "file") with Tika's text,
and one child item per file embedded in it (the images in a DOCX), all in the file's family.

This is the fallback reader: it scores low so that every specific source (email, chat exports,
archives) wins, and it takes any non-empty file none of them claims. Tika detects the type from
the content, so a mislabelled file (a DOCX named `.pdf`) is still read as what it is. Every file
becomes an item, so its name is searchable even when it has no text: a file Tika finds no text in
(an image without OCR, an unknown binary) is reported as `no_text`, an encrypted PDF or Office
file as `encrypted`, and a PDF or zip-based document that is cut short (which Tika reads without
complaint) as `corrupt`, with whatever text Tika still found.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources.support.attachments import attachment_items
from indexer.sources.base import SourceContext, reading_whole

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

    note = partial(ctx.note, problems)

    size = path.stat().st_size
    if size > ctx.limits.max_attachment_bytes:
        document = _document(path, ctx)
        document.size, document.extraction = size, "failed"
        note(errors.TooLarge.code, f"the file is {size} bytes, above the {ctx.limits.max_attachment_bytes}-byte "
             "limit; its text was not extracted", "", document)
        yield document
        yield from problems
        return
    with reading_whole(size):
        data = path.read_bytes()
        items = attachment_items(data, path.name, None, "", _document(path, ctx, depth=-1), ctx, note, truncation(data))
        del data
    top = items[0]
    top.kind, top.parent_id, top.depth = "document", None, 0
    yield from items
    yield from problems


def truncation(data: bytes) -> str | None:
    """Why a PDF or zip-based file (DOCX, XLSX, ODT, ...) looks cut short, or None. Tika reads such files
    leniently and says nothing, so the officer would not know the text may be incomplete."""
    if data.startswith(b"%PDF") and b"%%EOF" not in data[-1024:]:
        return "the PDF has no end-of-file marker (%%EOF) at its end: it is probably truncated"
    if data.startswith(b"PK\x03\x04") and b"PK\x05\x06" not in data[-(65_536 + 22):]:
        return "the zip directory at the end of the file is missing: it is probably truncated"
    return None


def _document(path: Path, ctx: SourceContext, depth: int = 0) -> Item:
    """The item for the file itself. With depth=-1 it stands in as the parent `attachment_items`
    needs: the item that function builds at locator "" then has this id, family and depth 0."""
    item_id = ctx.item_id("")
    return Item(
        id=item_id, kind="document", channel=CHANNEL, source_path=ctx.source_path, locator="",
        source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=item_id, depth=depth,
        file_name=path.name,
    )
