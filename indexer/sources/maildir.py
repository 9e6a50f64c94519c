"""Maildir folders (qmail, Dovecot, Courier; Maildir++ subfolders such as `.Sent`, `.Archive.2020`).

A folder with `cur/` and `new/` subfolders, or one holding Maildir++ subfolders that have
them, is claimed whole. Every message file in `new/` and `cur/` of the root and of each
maildir below it is read in sorted order and handed to `mime.message_items`. The locator
is `<folder>/<unique name>`: the folder is `INBOX` for a Maildir++ root, the Maildir++
name with dots as slashes (`Archive/2020`) for its subfolders, and the folder's own name
for a single maildir; the unique name is the file name before its `:2,FLAGS` info, so a
message keeps its locator when it is read (moved from new/ to cur/) or flagged. Flags are
not indexed.

Mail clients also leave messages outside `cur/` and `new/`: notmuch and mutt users keep
message files directly in a folder and its subfolders, beside the maildirs. Any other file in
the tree that parses as a message (an RFC 5322 header block at its start) is read too; its
locator is `loose:` and its path in the tree, as it is (`loose:lists/notmuch/05:2,`): a locator
space of its own, so a copy `lists/123.host` beside `lists/cur/123.host:2,S` cannot take that
message's locator (and item id). What is not a message is reported `unsupported`.

Read with the standard library's `email` package through `mime`; the folders are listed
with `os.scandir` rather than `mailbox.Maildir`, which follows symbolic links and skips
files it does not recognise without saying so. Here links are reported and not followed,
files in `tmp/` (deliveries that never finished, possibly half written) are reported and not
read, and only mail-store bookkeeping (Dovecot/Courier indexes, `maildirfolder`,
`subscriptions`, notmuch's `.notmuch/` database) is passed over.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources.base import SourceContext, reading_whole
from indexer.sources.support.mime import looks_like_message, message_items, parse_message

NAME = "maildir"
CHANNEL = "email"
_MESSAGE_DIRS = ("new", "cur")
_BOOKKEEPING = ("dovecot", "courier", "maildirfolder", "maildirsize", "subscriptions", ".uidvalidity",
                ".customflags", ".subscriptions", ".mailboxlist", ".imap", ".ds_store")
_BOOKKEEPING_FOLDERS = (".notmuch",)  # notmuch's Xapian database and hooks


def _is_maildir(path: Path) -> bool:
    return all((path / name).is_dir() and not (path / name).is_symlink() for name in _MESSAGE_DIRS)


def _plus_folders(root: Path) -> list[Path]:
    """Maildir++ subfolders of `root` (`.Sent`, `.Archive.2020`), sorted."""
    return sorted(p for p in root.iterdir() if p.name.startswith(".") and p.is_dir() and not p.is_symlink() and _is_maildir(p))


def accepts(path: Path, head: bytes) -> int:
    """100 for a maildir or a Maildir++ root (folders only); else 0."""
    try:
        return 100 if path.is_dir() and (_is_maildir(path) or _plus_folders(path)) else 0
    except OSError:
        return 0  # an unreadable folder: the pipeline reports it when it walks in


def _folders(root: Path) -> Iterator[tuple[str, Path]]:
    """(label, maildir) for the root and every maildir below it, in a stable order."""
    plus = _plus_folders(root)
    if _is_maildir(root):
        yield ("INBOX" if plus else root.name), root
    for folder in plus:
        yield folder.name[1:].replace(".", "/"), folder
    for current, dirs, _ in os.walk(root):  # os.walk does not follow symlinked folders
        dirs.sort()
        here = Path(current)
        for name in dirs:
            if name in (*_MESSAGE_DIRS, "tmp") or (here == root and name.startswith(".")):
                continue  # message folders, and the Maildir++ folders listed above
            if _is_maildir(here / name):
                yield (here / name).relative_to(root).as_posix(), here / name


def _stray_files(root: Path, maildirs: list[Path]) -> Iterator[Path]:
    """Regular files that are neither messages nor bookkeeping: reported, not silently passed over."""
    message_dirs = {d / name for d in maildirs for name in _MESSAGE_DIRS}
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(name for name in dirs if not (Path(current) == root and name in _BOOKKEEPING_FOLDERS))
        here = Path(current)
        if here in message_dirs:
            continue
        for name in sorted(files):
            if not name.lower().startswith(_BOOKKEEPING):
                yield here / name


LOOSE_PREFIX = "loose:"


def loose_locator(relative: str) -> str:
    """The locator of a file outside cur/ and new/: its path in the tree, in a space of its own."""
    return LOOSE_PREFIX + relative


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every message of every folder with its attachments; locators are `<folder>/<unique name>`,
    and `loose:<path in the tree>` for message files outside cur/ and new/."""
    folders = list(_folders(path))
    for label, folder in folders:
        yield from _folder_items(label, folder, ctx)
    for stray in _stray_files(path, [folder for _, folder in folders]):
        where = loose_locator(stray.relative_to(path).as_posix())
        if stray.parent.name == "tmp":
            yield Problem(ctx.source_path, where, errors.Unsupported.code, "an unfinished delivery in tmp/; not read")
        else:
            yield from _message_file(Path(stray), where, ctx, loose=True)


def _folder_items(label: str, folder: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    entries = sorted((entry for name in _MESSAGE_DIRS for entry in os.scandir(folder / name)), key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue  # editors' and clients' hidden files; Maildir message names never start with a dot
        unique = entry.name.split(":", 1)[0].split(";", 1)[0]  # ";" is the info separator on Windows
        locator = f"{label}/{unique}"
        if entry.is_symlink():
            yield Problem(ctx.source_path, locator, errors.Unsupported.code, "symbolic link not followed")
            continue
        if not entry.is_file(follow_symlinks=False):
            yield Problem(ctx.source_path, locator, errors.Unsupported.code, "not a regular file; not read")
            continue
        yield from _message_file(Path(entry.path), locator, ctx)


def _message_file(path: Path, locator: str, ctx: SourceContext, loose: bool = False) -> Iterator[Item | Problem]:
    """The items of one message file. A `loose` file (outside cur/ and new/) is read only when it
    parses as a message, and reported `unsupported` otherwise."""
    try:
        with reading_whole(path.stat().st_size):
            data = path.read_bytes()
            if loose and not looks_like_message(data):
                produced = [Problem(ctx.source_path, locator, errors.Unsupported.code,
                                    "a file in the mail folder that is not an email message; not read")]
            elif not data.strip():
                produced = [Problem(ctx.source_path, locator, errors.Empty.code, "the message file is empty")]
            else:
                produced = list(message_items(parse_message(data), ctx, locator))
            del data
    except OSError as exc:
        produced = [Problem(ctx.source_path, locator, errors.Unreadable.code, f"could not read message: {exc.strerror or exc}")]
    except Exception as exc:  # noqa: BLE001 - one hostile message must not cost the rest of the folder
        produced = [Problem(ctx.source_path, locator, "reader_error", f"{exc.__class__.__name__}: {exc}")]
    yield from produced
