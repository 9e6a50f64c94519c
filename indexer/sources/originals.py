"""The original bytes of one indexed email, read back from its source without changing it.

Used by the records-transfer package (search_api.transfer_package), which must file each private
email as it was sent, byte for byte. Which bytes those are depends on the reader that indexed it,
so the knowledge lives here beside the readers:

| source (locator)                       | original bytes                                               |
| -------------------------------------- | ------------------------------------------------------------ |
| a loose `.eml` (locator "")            | the whole file                                               |
| an mbox (`message[N]`)                 | the N-th message: its bytes after the `From ` separator line up to the next one, as in the file (`>From ` quoting left as it is) |
| a maildir (`<folder>/<unique name>`)   | the message file in that folder's `cur/` or `new/`           |
| a maildir (`loose:<path in the tree>`) | the message file at that path, outside `cur/` and `new/`     |
| anything else (PST via readpst, a member of a zip, an email attached to an email) | not read back: `Original.reason` says why |

A source is only read when its SHA-256 (the tree digest for a maildir) still equals the
`source_sha256` indexed with the item: a changed file must not pass as the original. Files are
opened read-only; nothing is written to a source.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from dataclasses import dataclass
from pathlib import Path

from indexer.digests import file_sha256, tree_sha256
from indexer.sources import maildir, mbox

_MBOX_LOCATOR = re.compile(r"message\[(\d+)\]")


@dataclass(frozen=True)
class Original:
    """The message's original bytes, or None and the reason they could not be recovered."""

    data: bytes | None
    reason: str = ""

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None


class SourceDigests:
    """What one package learns about its sources, each worked out once: their SHA-256 (an mbox may hold
    thousands of messages) and the message files of each maildir by locator."""

    def __init__(self) -> None:
        self.known: dict[Path, str] = {}
        self.maildirs: dict[Path, dict[str, Path]] = {}
        self.mboxes: dict[Path, list[tuple[int, int]]] = {}

    def of(self, path: Path) -> str:
        if path not in self.known:
            self.known[path] = tree_sha256(path) if path.is_dir() else file_sha256(path)
        return self.known[path]

    def maildir_files(self, root: Path) -> dict[str, Path]:
        """locator → message file, named the way the maildir reader names them."""
        if root not in self.maildirs:
            found: dict[str, Path] = {}
            folders = list(maildir._folders(root))  # noqa: SLF001 - one naming rule, kept in the reader
            for label, folder in folders:
                for sub in ("cur", "new"):
                    for entry in sorted((folder / sub).iterdir()):
                        if entry.is_file() and not entry.is_symlink() and not entry.name.startswith("."):
                            found.setdefault(f"{label}/{entry.name.split(':', 1)[0].split(';', 1)[0]}", entry)
            for stray in maildir._stray_files(root, [folder for _, folder in folders]):  # noqa: SLF001
                if stray.parent.name != "tmp" and stray.is_file() and not stray.is_symlink():
                    found[maildir.loose_locator(stray.relative_to(root).as_posix())] = stray
            self.maildirs[root] = found
        return self.maildirs[root]

    def mbox_ranges(self, path: Path) -> list[tuple[int, int]]:
        """The byte range of each message of an mbox, in order: the same scan the mbox reader makes."""
        if path not in self.mboxes:
            self.mboxes[path] = mbox.message_ranges(path)  # the reader's own scan (it knows a leading BOM)
        return self.mboxes[path]


def original_email(source_path: str, locator: str, source_sha256: str, digests: SourceDigests | None = None) -> Original:
    """The original bytes of the email indexed from `source_path` at `locator` (see the module docstring);
    a source that cannot be read is an Original without data, saying why."""
    try:
        return _read_original(source_path, locator, source_sha256, digests or SourceDigests())
    except (OSError, mailbox.Error) as exc:
        return Original(None, f"the source could not be read: {exc.__class__.__name__}: {exc}")


def _read_original(source_path: str, locator: str, source_sha256: str, digests: SourceDigests) -> Original:
    path = Path(source_path or "")
    if not source_path or not path.exists():
        return Original(None, f"the source {source_path!r} is no longer there")
    if "!" in locator:
        return Original(None, f"the message is inside another file at {locator!r}; its bytes are not kept on their own")
    mbox_number = _MBOX_LOCATOR.fullmatch(locator)
    if not (locator == "" and path.is_file()) and not (mbox_number and path.is_file()) and not path.is_dir():
        return Original(None, f"a message at {locator!r} inside {path.name!r} (an attached message, a PST read through "
                              "readpst, or a member of an archive): its own bytes are not read back")
    if digests.of(path) != source_sha256:
        return Original(None, "the source changed since it was indexed (its SHA-256 differs)")
    if locator == "" and path.is_file():
        return Original(path.read_bytes())
    if mbox_number:
        return _mbox_message(path, int(mbox_number.group(1)), digests)
    return _maildir_message(path, locator, digests)


def _mbox_message(path: Path, number: int, digests: SourceDigests) -> Original:
    """Message `number` (1-based) of an mbox: the bytes between its From_ line and the next message's."""
    ranges = digests.mbox_ranges(path)
    if not 1 <= number <= len(ranges):
        return Original(None, f"the mbox holds {len(ranges)} messages, not a message {number}")
    start, stop = ranges[number - 1]
    with path.open("rb") as handle:
        handle.seek(start)
        raw = handle.read(stop - start)
    return Original(raw.split(b"\n", 1)[1] if b"\n" in raw else b"")


def _maildir_message(root: Path, locator: str, digests: SourceDigests) -> Original:
    """The file of `<folder>/<unique name>` in a maildir."""
    found = digests.maildir_files(root).get(locator)
    return Original(found.read_bytes()) if found else Original(None, f"no message {locator!r} in the maildir any more")
