"""ZIP and 7z containers read into memory, member by member, within the limits of `Limits`.

Nothing is ever written to disk, so hostile member names cannot escape anywhere; they are still
reported. Sizes are checked before reading, from the zip central directory or the 7z header
(declared size against the per-member and the whole-archive budget, expansion ratio against the
zip-bomb threshold), and again while reading, since declared sizes can lie.

Libraries: the standard library's `zipfile` (central directory, per-member reads with a cap);
`stream-unzip` when the central directory is missing or damaged (a truncated zip), reading members
from their local headers so the complete ones are still indexed; `py7zr` for 7z, whose
`WriterFactory` lets members land in memory, one at a time (it decompresses in a worker thread that
hands each finished member over and waits). 7z keeps its header at the end, so a truncated 7z has
no readable members. py7zr rather than Tika for 7z: Tika would unpack the whole archive in one
request under its own limits, so these limits, per-member items and per-member problems
(encrypted, unsafe name, bomb) would not apply to 7z as they do to zip.
"""

from __future__ import annotations

import io
import queue
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import py7zr
import py7zr.exceptions
import py7zr.helpers
import py7zr.io
import stream_unzip

from indexer import errors
from indexer.sources.base import Limits

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
SEVENZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
# Zip-based document formats that Tika reads as documents (OOXML, XPS; ODF, EPUB), not archives.
_DOCUMENT_MARKERS = ("[Content_Types].xml", "mimetype")
_CHUNK = 64 * 1024

Source = Path | bytes


@dataclass(slots=True)
class Entry:
    """One member: its stored name, declared size, its bytes and/or why it was not (fully) read."""

    name: str
    size: int | None
    data: bytes | None = None
    failure: errors.IngestError | None = None


@dataclass(slots=True)
class Damage:
    """Damage to the archive itself, not to one member; reading may have stopped there."""

    error: errors.IngestError


class Budget:
    """What one top-level archive may still expand to (bytes and members), nested archives included."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bytes_left = limits.max_expanded_bytes
        self.members_left = limits.max_archive_members

    def take_member(self) -> bool:
        """Count one member; False once the member limit is used up."""
        self.members_left -= 1
        return self.members_left >= 0

    def admit(self, name: str, size: int, compressed: int | None) -> errors.IngestError | None:
        """Why a member of this declared size must not be read, or None (its size is then reserved)."""
        limits = self.limits
        if size > limits.max_attachment_bytes:
            return errors.TooLarge(f"member {name!r} declares {size} bytes, above the {limits.max_attachment_bytes}-byte limit")
        if compressed is not None and size > limits.ratio_floor_bytes and size > limits.max_compression_ratio * max(compressed, 1):
            return errors.TooLarge(f"member {name!r} expands {compressed} → {size} bytes, a ratio above "
                                   f"{limits.max_compression_ratio}:1 (a zip bomb?); not read")
        if size > self.bytes_left:
            return errors.TooLarge(f"member {name!r} ({size} bytes) would take the archive past its "
                                   f"{limits.max_expanded_bytes}-byte expansion limit; not read")
        self.bytes_left -= size
        return None

    def settle(self, reserved: int, used: int) -> None:
        """Return the unused part of a reservation."""
        self.bytes_left += max(reserved - used, 0)


def unsafe_name(name: str) -> bool:
    """True when a member name would escape a folder it was extracted into: "..", absolute, drive letter."""
    normal = name.replace("\\", "/")
    parts = PurePosixPath(normal).parts
    return normal.startswith("/") or ".." in parts or (bool(parts) and ":" in parts[0])


def archive_format(source: Source, head: bytes | None = None) -> str | None:
    """"zip" or "7z" for an archive this module reads; None for anything else, zip-based documents included."""
    if head is None:
        head = source[:4096] if isinstance(source, bytes) else _head(source)
    if head.startswith(SEVENZIP_MAGIC):
        return "7z"
    if not head.startswith(ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(_stream(source)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError, OSError):
        # No readable central directory: judge by the first local header's name.
        names = {head[30:30 + int.from_bytes(head[26:28], "little")].decode("cp437")}
    return None if names & set(_DOCUMENT_MARKERS) else "zip"


def entries(source: Source, budget: Budget) -> Iterator[Entry | Damage]:
    """Every file member of the zip or 7z `source`, read within `budget`, in archive order."""
    if archive_format(source) == "7z":
        yield from _sevenzip_entries(source, budget)
    else:
        yield from _zip_entries(source, budget)


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4096)


def _stream(source: Source) -> io.BufferedIOBase | Path:
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _too_many(budget: Budget) -> Damage:
    return Damage(errors.TooLarge(f"more than {budget.limits.max_archive_members} members; the rest were not read"))


def _zip_entries(source: Source, budget: Budget) -> Iterator[Entry | Damage]:
    try:
        archive = zipfile.ZipFile(_stream(source))
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        yield Damage(errors.Corrupt(f"the zip's central directory is missing or damaged ({exc}); members were read "
                                    "from their local headers"))
        yield from _streamed_zip_entries(source, budget)
        return
    with archive:
        for info in archive.infolist():
            if info.filename.endswith("/"):  # a folder (ZipInfo.is_dir() fails on an empty name)
                continue
            if not budget.take_member():
                yield _too_many(budget)
                return
            yield _zip_entry(archive, info, budget)


def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> Entry:
    name = info.filename
    if info.flag_bits & 0x1:
        return Entry(name, info.file_size, failure=errors.Encrypted(f"member {name!r} is password-protected"))
    refused = budget.admit(name, info.file_size, info.compress_size)
    if refused:
        return Entry(name, info.file_size, failure=refused)
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except NotImplementedError as exc:
        budget.settle(info.file_size, 0)
        return Entry(name, info.file_size, failure=errors.Unsupported(f"member {name!r}: {exc}"))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        budget.settle(info.file_size, 0)
        return Entry(name, info.file_size, failure=errors.Corrupt(f"member {name!r} could not be decompressed: {exc}"))
    budget.settle(info.file_size, len(data))
    failure = errors.UnsafePath(f"member name {name!r} points outside the archive") if unsafe_name(name) else None
    return Entry(name, info.file_size, data, failure)


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, bytes):
        for start in range(0, len(source), _CHUNK):
            yield source[start:start + _CHUNK]
        return
    with source.open("rb") as handle:
        while block := handle.read(_CHUNK):
            yield block


def _streamed_zip_entries(source: Source, budget: Budget) -> Iterator[Entry | Damage]:
    """Members from local headers alone. Declared sizes may be missing, so each read is capped by the
    budget; reading stops at the first member past it, since a stream cannot skip safely."""
    count = 0
    try:
        for raw_name, declared, body in stream_unzip.stream_unzip(_chunks(source)):
            name = raw_name.decode("utf-8", errors="replace")
            if name.endswith("/"):
                for _ in body:
                    pass
                continue
            if not budget.take_member():
                yield _too_many(budget)
                return
            cap = min(budget.limits.max_attachment_bytes, budget.bytes_left)
            data = bytearray()
            for block in body:
                data += block
                if len(data) > cap:
                    yield Damage(errors.TooLarge(f"member {name!r} expands past {cap} bytes (the member or archive "
                                                 "limit); reading stopped there"))
                    return
            budget.bytes_left -= len(data)
            count += 1
            failure = errors.UnsafePath(f"member name {name!r} points outside the archive") if unsafe_name(name) else None
            yield Entry(name, declared, bytes(data), failure)
    except stream_unzip.UnzipError as exc:
        kind = errors.Encrypted if "Password" in exc.__class__.__name__ else errors.Corrupt
        yield Damage(kind(f"reading stopped after {count} complete member(s): {exc.__class__.__name__} {exc}".strip()))


def _sevenzip_entries(source: Source, budget: Budget) -> Iterator[Entry | Damage]:
    # A file object, never a path: py7zr then extracts sequentially in this thread's worker only.
    handle = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    try:
        try:
            archive = py7zr.SevenZipFile(handle)
        except py7zr.PasswordRequired:
            yield Damage(errors.Encrypted("the 7z archive is password-protected (its file list too)"))
            return
        except (py7zr.Bad7zFile, py7zr.exceptions.ArchiveError, EOFError, ValueError, KeyError, IndexError) as exc:
            yield Damage(errors.Corrupt(f"not a readable 7z archive: {exc}"))
            return
        with archive:
            yield from _sevenzip_members(archive, budget)
    finally:
        handle.close()


def _sevenzip_members(archive: py7zr.SevenZipFile, budget: Budget) -> Iterator[Entry | Damage]:
    encrypted = archive.needs_password()
    files = archive.list()
    wanted: set[int] = set()
    for index, (info, packed, expanded) in enumerate(_sevenzip_blocks(files)):
        if info.is_directory:
            continue
        if not budget.take_member():
            yield _too_many(budget)
            break
        name, size = info.filename, info.uncompressed or 0
        if encrypted:
            yield Entry(name, size, failure=errors.Encrypted(f"member {name!r} is password-protected"))
        elif unsafe_name(name):  # py7zr refuses these names, so their content cannot be read
            yield Entry(name, size, failure=errors.UnsafePath(f"member name {name!r} points outside the archive; not read"))
        elif refused := _block_bomb(name, packed, expanded, budget.limits) or budget.admit(name, size, None):
            yield Entry(name, size, failure=refused)
        else:
            wanted.add(index)
    if wanted:
        yield from _extract_in_worker(archive, _output_keys(files, wanted), budget)


def _sevenzip_blocks(files: list) -> list[tuple]:
    """(file, packed bytes of its solid block, expanded bytes of that block) for each file: py7zr gives a
    block's packed size on its first file only, so the ratio is judged per block."""
    rows, block, packed = [], [], 0
    for info in files + [None]:
        if info is None or info.compressed is not None:
            total = sum(f.uncompressed or 0 for f in block)
            rows.extend((f, packed, total) for f in block)
            block, packed = [], (info.compressed if info is not None else 0)
        if info is not None:
            block.append(info)
    return rows


def _block_bomb(name: str, packed: int, expanded: int, limits: Limits) -> errors.IngestError | None:
    if expanded > limits.ratio_floor_bytes and expanded > limits.max_compression_ratio * max(packed, 1):
        return errors.TooLarge(f"member {name!r} is in a 7z block that expands {packed} → {expanded} bytes, a ratio "
                               f"above {limits.max_compression_ratio}:1 (a zip bomb?); not read")
    return None


def _output_keys(files: list, wanted: set[int]) -> dict[str, tuple[str, int, bool]]:
    """py7zr's writer-factory key for each file it will extract → (stored name, declared size, wanted).
    Targets are names, so py7zr also extracts unwanted files of a wanted name, renaming repeats `name_N`."""
    names = {files[index].filename for index in wanted}
    keys, seen = {}, {}
    for index, info in enumerate(files):
        if info.filename not in names or info.is_directory:
            continue
        count = seen.get(info.filename)
        seen[info.filename] = 0 if count is None else count + 1
        outname = info.filename if count is None else f"{info.filename}_{count}"
        key = py7zr.helpers.get_sanitized_output_path(outname, None).as_posix()
        keys[key] = (info.filename, info.uncompressed or 0, index in wanted)
    return keys


class _Stopped(Exception):
    """Raised inside py7zr's worker when the reader of the entries went away."""


_DONE = object()


def _extract_in_worker(archive: py7zr.SevenZipFile, keys: dict[str, tuple[str, int, bool]], budget: Budget) -> Iterator[Entry | Damage]:
    """Decompress in a worker thread that hands over one finished member at a time (a queue of one),
    so memory holds one member however large the archive. Members it was not asked for are dropped."""
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    delivered: set[str] = set()

    class Sink(py7zr.io.Py7zIO):
        def __init__(self, key: str) -> None:
            self.key = key
            self.name, self.declared, self.wanted = keys.get(key, (key, 0, False))
            self.buffer, self.overflow = io.BytesIO(), False

        def write(self, chunk: bytes | bytearray) -> int:
            if stop.is_set():
                raise _Stopped()
            if not self.wanted or self.buffer.tell() + len(chunk) > self.declared:
                self.overflow = self.wanted
            else:
                self.buffer.write(chunk)
            return len(chunk)

        def read(self, size: int | None = None) -> bytes:
            return self.buffer.read(size)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.buffer.seek(offset, whence)

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return self.buffer.getbuffer().nbytes

        def close(self) -> None:
            if not self.wanted:
                return
            data = self.buffer.getvalue()
            budget.settle(self.declared, len(data))
            delivered.add(self.key)
            failure = errors.TooLarge(f"member {self.name!r} expands past its declared {self.declared} bytes; only "
                                      "that much was read") if self.overflow else None
            handoff.put(Entry(self.name, self.declared, data, failure))

    class Factory(py7zr.io.WriterFactory):
        def create(self, filename: str) -> py7zr.io.Py7zIO:
            return Sink(filename)

    def work() -> None:
        try:
            archive.extract(targets=sorted({name for name, _, wanted in keys.values() if wanted}), factory=Factory())
        except _Stopped:
            pass
        except Exception as exc:  # noqa: BLE001 - py7zr raises many types on damaged data; all become Damage
            kind = (errors.Encrypted if isinstance(exc, py7zr.PasswordRequired)
                    else errors.Unsupported if isinstance(exc, py7zr.exceptions.UnsupportedCompressionMethodError)
                    else errors.Corrupt)
            handoff.put(Damage(kind(f"7z decompression failed: {exc.__class__.__name__}: {exc}")))
        finally:
            handoff.put(_DONE)

    worker = threading.Thread(target=work, name="lantern-7z", daemon=True)
    worker.start()
    try:
        while (got := handoff.get()) is not _DONE:
            yield got
    finally:
        stop.set()
        while worker.is_alive():  # unblock a worker waiting to hand over, so it can see `stop`
            try:
                handoff.get(timeout=0.1)
            except queue.Empty:
                continue
        worker.join()
    for key, (name, size, wanted) in keys.items():
        if wanted and key not in delivered:
            yield Entry(name, size, failure=errors.Corrupt(f"member {name!r} was not produced by the 7z decoder"))
