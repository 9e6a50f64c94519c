"""The files of an export that comes as a `.zip` or as that zip unpacked to a folder, read safely.

Chat exports (Slack, and others that bundle media) are containers whose member names come from
the exporting tool and may be hostile. Members are never extracted to disk by name: they are
listed once, and only listed members are read, into memory, within the size limit. Zip members
with `..` or absolute names, encrypted members and suspicious compression ratios (zip bombs) are
reported and skipped, and the bytes read in total are bounded (`Limits`); symbolic links in
folders are reported, never followed.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from indexer import errors
from indexer.model import Problem
from indexer.sources.base import SourceContext

class Members:
    """Member names (relative POSIX paths) with their sizes; `read` returns a listed member's bytes."""

    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.sizes: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.expanded = 0

    def problem(self, locator: str, code: str, reason: str) -> None:
        self.problems.append(Problem(self.ctx.source_path, locator, code, reason))

    bounded = False  # whether the bytes read in total count against Limits.max_expanded_bytes (zips)

    def read(self, name: str) -> bytes:
        """The bytes of member `name`; raises TooLarge above the limits, Unreadable/Corrupt when unreadable."""
        size, limits = self.sizes[name], self.ctx.limits
        if size > limits.max_attachment_bytes:
            raise errors.TooLarge(f"{name!r} is {size} bytes, above the {limits.max_attachment_bytes}-byte limit")
        most = limits.max_attachment_bytes
        if self.bounded:
            most = min(most, limits.max_expanded_bytes - self.expanded)
            if size > most:
                raise errors.TooLarge(f"{name!r} not read: the zip has expanded to its {limits.max_expanded_bytes}-byte limit")
        data = self._read(name, most + 1)
        self.expanded += len(data)
        if len(data) > most:
            raise errors.TooLarge(f"{name!r} is larger than it claims, above the size limits")
        return data

    def _read(self, name: str, most: int) -> bytes:
        raise NotImplementedError


class _ZipMembers(Members):
    bounded = True

    def __init__(self, archive: zipfile.ZipFile, ctx: SourceContext) -> None:
        super().__init__(ctx)
        self.archive = archive
        self.infos: dict[str, zipfile.ZipInfo] = {}
        infos = archive.infolist()
        most = ctx.limits.max_archive_members
        if len(infos) > most:
            self.problem("", errors.TooLarge.code, f"the zip has {len(infos)} members; only the first {most} are read")
        for info in infos[:most]:
            self._admit(info)

    def _admit(self, info: zipfile.ZipInfo) -> None:
        name, limits = info.filename.replace("\\", "/"), self.ctx.limits
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            self.problem(info.filename, errors.UnsafePath.code,
                         f"unsafe member name {info.filename!r} (it points outside the export) skipped, not read")
        elif info.filename.endswith("/"):  # a folder (ZipInfo.is_dir() fails on an empty name)
            return
        elif info.flag_bits & 0x1:
            self.problem(name, errors.Encrypted.code, f"member {name!r} is encrypted and was not read")
        elif info.file_size > max(limits.ratio_floor_bytes, limits.max_compression_ratio * max(info.compress_size, 1)):
            self.problem(name, errors.TooLarge.code,
                         f"member {name!r} expands {info.compress_size} → {info.file_size} bytes (a zip bomb?); skipped")
        else:
            self.sizes[name] = info.file_size
            self.infos[name] = info

    def _read(self, name: str, most: int) -> bytes:
        try:
            with self.archive.open(self.infos[name]) as handle:
                return handle.read(most)
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise errors.Corrupt(f"{name!r} could not be decompressed: {exc}") from exc


class _FolderMembers(Members):
    def __init__(self, root: Path, ctx: SourceContext) -> None:
        super().__init__(ctx)
        self.root = root
        for folder, dirs, files in os.walk(root, followlinks=False):
            base = Path(folder)
            for entry in sorted(dirs + files):
                path = base / entry
                name = path.relative_to(root).as_posix()
                if path.is_symlink():
                    self.problem(name, errors.Unsupported.code, "symbolic link not followed")
                elif path.is_file():
                    self.sizes[name] = path.stat().st_size

    def _read(self, name: str, most: int) -> bytes:
        try:
            with (self.root / name).open("rb") as handle:
                return handle.read(most)
        except OSError as exc:
            raise errors.Unreadable(f"{name!r} could not be read: {exc.strerror or exc}") from exc


@contextmanager
def open_members(path: Path, ctx: SourceContext) -> Iterator[Members]:
    """The members of the folder or zip at `path`; raises Corrupt when a zip cannot be opened."""
    if path.is_dir():
        yield _FolderMembers(path, ctx)
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise errors.Corrupt(f"not a readable zip file: {exc}") from exc
    with archive:
        yield _ZipMembers(archive, ctx)


def zip_names(path: Path) -> list[str]:
    """Member names of a zip (for `accepts` checks); [] when it is not a readable zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return []
