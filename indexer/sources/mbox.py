"""Unix mailboxes (`.mbox`, Thunderbird folders, Google Takeout): one email per message.

The standard library's `mailbox.mbox` scans the file once for message boundaries and then
reads one message at a time, so memory stays flat however large the mailbox is. A mailbox that
starts with a UTF-8 byte-order mark (Windows editors and some export tools write one) is an mbox
too; its first message is found after the mark.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources.base import SourceContext, foreign_format, reading_whole
from indexer.sources.support.mime import MAX_LINE_BYTES, UTF8_BOM, cut_long_lines, message_items, parse_message

NAME = "mbox"
CHANNEL = "email"
EXTENSIONS = (".mbox", ".mbx")


def accepts(path: Path, head: bytes) -> int:
    """High when the file starts with an mbox "From " separator line; medium for the extension alone."""
    if path.is_dir():
        return 0
    if head.removeprefix(UTF8_BOM).startswith(b"From "):
        return 90
    if path.suffix.lower() in EXTENSIONS and not foreign_format(head):  # a PDF named .mbox is read as a PDF
        return 60
    return 0


class _Mailbox(mailbox.mbox):
    """`mailbox.mbox` that also finds a first message whose "From " line follows a UTF-8 byte-order
    mark: the standard scan only knows lines starting with "From " and would pass over it."""

    def _generate_toc(self) -> None:
        super()._generate_toc()
        self._file.seek(0)
        if self._file.read(len(UTF8_BOM) + 5) != UTF8_BOM + b"From ":
            return
        ranges = list(self._toc.values())
        end = ranges[0][0] if ranges else self._file_length
        self._file.seek(max(end - 2, 0))
        stop = end - 1 if self._file.read(2) == b"\n\n" else end  # the blank line before "From " is not the message's
        self._toc = dict(enumerate([(len(UTF8_BOM), max(stop, len(UTF8_BOM))), *ranges]))
        self._next_key = len(self._toc)


def message_ranges(path: Path) -> list[tuple[int, int]]:
    """The byte range of each message, in order (message[N] is range N-1), each starting at its
    "From " line: the same scan `read` makes, so a locator names the same message everywhere."""
    box = _Mailbox(path, create=False)
    try:
        return [box._toc[key] for key in box.iterkeys()]  # noqa: SLF001 - the scan's own ranges
    finally:
        box.close()


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every message in the mailbox with its attachments; locators are `message[N]` (1-based)."""
    with path.open("rb") as handle:
        if not handle.read(len(UTF8_BOM) + 5).removeprefix(UTF8_BOM).startswith(b"From "):
            yield Problem(ctx.source_path, "", errors.Corrupt.code, "not an mbox: the file does not start with a 'From ' line")
            return
    box = _Mailbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            locator = f"message[{number}]"
            start, stop = box._toc[key]  # noqa: SLF001 - the message's byte range, known from the scan
            with reading_whole(stop - start):
                try:
                    data = box.get_bytes(key)
                except (OSError, ValueError) as exc:
                    produced = [Problem(ctx.source_path, locator, errors.Unreadable.code, f"could not read message: {exc}")]
                else:
                    data, cut = cut_long_lines(data)
                    try:
                        produced = list(message_items(parse_message(data), ctx, locator))
                        if cut:
                            produced.append(Problem(ctx.source_path, locator, errors.TooLarge.code, f"{cut} line(s) of the "
                                                    f"message are longer than {MAX_LINE_BYTES} bytes; they "
                                                    "were cut there before reading"))
                    except Exception as exc:  # noqa: BLE001 - one hostile message must not cost the rest of the mailbox
                        produced = [Problem(ctx.source_path, locator, "reader_error", f"{exc.__class__.__name__}: {exc}")]
                    del data
            yield from produced
    finally:
        box.close()
