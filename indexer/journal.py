"""The ingest journal: which input units of a run are finished, so `kill -9` loses no work.

One journal per *run key* (the resolved input paths, the custody, and the OpenSearch index the
run writes to), a JSON Lines file under `<state dir>/journals/`. It is append-only and every
line is fsync'd before the pipeline goes on. A unit (a file, or a folder a source reads whole)
is recorded as done only once OpenSearch has acknowledged every one of its items and all its
problems are in the exception report (fsync'd first). Re-running the same command finds the
journal, skips the done units and reads the rest again; stable item ids make the re-read
overwrite whatever the interrupted attempt had already written.

When a run finishes (every unit done, post-ingest passes over) its journal is closed: a
`complete` line, then the file is removed, so running the same command later starts a fresh
run that reads everything again (what a user who re-collected a mailbox expects).
A POSIX lock (`lockf`) on the journal stops two processes working on the same run at once; it dies
with the process that holds it, whatever its children inherited.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from indexer.model import Custody, Item, valid_text


class JournalBusy(RuntimeError):
    """Another process is running the same ingest (same inputs, custody and index) right now."""


def unit_key(path: Path) -> str:
    """How a unit is named in the journal and in its items' `source_path`: the resolved path (file-name
    bytes that are not UTF-8 written as `\\xff`, since the journal, the report and OpenSearch need UTF-8)."""
    return valid_text(str(path.resolve()))


def run_key(paths: Iterable[Path], custody: Custody, target: str) -> str:
    """The identity of a run: the same command against the same index gives the same key."""
    described = {
        "paths": [unit_key(Path(p)) for p in paths],
        "custody": [custody.custodian, custody.record, custody.account, custody.collection],
        "target": target,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _file_state(path: Path) -> dict[str, int]:
    """Size and mtime of a file unit, to notice a file changed between an attempt and its resume."""
    if not path.is_file():
        return {}
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _read_records(fd: int) -> tuple[list[dict[str, Any]], int]:
    """The journal's complete records and the byte length they occupy (a torn last line is left out)."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while block := os.read(fd, 1 << 20):
        chunks.append(block)
    data = b"".join(chunks)
    records, good = [], 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break  # killed in the middle of writing this line
        try:
            records.append(json.loads(line))
        except ValueError:
            break
        good += len(line)
    return records, good


@dataclass
class RunJournal:
    """An open journal, locked by this process. Thread-safe."""

    path: Path
    key: str
    report_path: Path
    report_offset: int  # the report's size when the run began: what this run wrote starts there
    resumed: bool = False
    done: dict[str, dict[str, Any]] = field(default_factory=dict)  # unit key -> its `done` record
    _fd: int = -1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, folder: Path, key: str, report_path: Path | None, default_report: Path,
             restart: bool = False) -> "RunJournal":
        """Open (resume) the journal of run `key`, or start a new one.

        The report is `report_path` if given, else the interrupted run's report when resuming,
        else `default_report`. `restart` discards an interrupted run's journal. Raises
        JournalBusy when another process holds the run.
        """
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.jsonl"
        fd = _open_locked(path)
        records, good = _read_records(fd)
        if restart or not records or records[0].get("event") != "start" or any(r.get("event") == "complete" for r in records):
            records, good = [], 0
        os.ftruncate(fd, good)
        if not records:
            report = report_path or default_report
            journal = cls(path, key, report, _size(report), _fd=fd)
            journal._append({"event": "start", "time": _now(), "report": str(report), "report_offset": journal.report_offset})
            _sync_folder(folder)
            return journal
        start = records[0]
        recorded = Path(start["report"])
        report = report_path or recorded
        offset = int(start["report_offset"]) if report == recorded else _size(report)
        journal = cls(path, key, report, offset, resumed=True, _fd=fd)
        journal.done = {r["unit"]: r for r in records if r.get("event") == "done"}
        journal._append({"event": "resume", "time": _now(), "report": str(report), "done": len(journal.done)})
        return journal

    def is_done(self, path: Path) -> bool:
        """Whether an earlier attempt finished this unit (and the file is unchanged since)."""
        record = self.done.get(unit_key(path))
        if record is None:
            return False
        state = _file_state(path)
        return all(record.get(name) == value for name, value in state.items())

    def mark_done(self, unit: str, digests: Iterable[str]) -> None:
        """Record `unit` as finished: all its items acknowledged, all its problems in the report."""
        record = {"event": "done", "unit": unit, "digests": sorted(digests), **_file_state(Path(unit))}
        self._append(record)
        self.done[unit] = record

    def digests(self) -> dict[str, set[str]]:
        """Source digests of the units done so far (by earlier attempts too): unit -> digests."""
        with self._lock:
            return {unit: set(record.get("digests", [])) for unit, record in self.done.items()}

    def complete(self, summary: dict[str, Any]) -> None:
        """Close the journal of a finished run: the next run of the same command starts afresh."""
        self._append({"event": "complete", "time": _now(), **summary})
        self.path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        """Unlock without completing (the run stopped early; a re-run resumes)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            with _held_lock:
                _held.discard(str(self.path))

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with self._lock:
            os.write(self._fd, line)  # O_APPEND: one write of one whole line
            os.fsync(self._fd)

    def __enter__(self) -> "RunJournal":
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


# Journals this process holds. A POSIX lock does not stop the process that holds it from locking again,
# and closing any other descriptor of the file would drop it: so a second open here is refused before
# the file is opened.
_held: set[str] = set()
_held_lock = threading.Lock()


def _open_locked(path: Path) -> int:
    """Open and lock the journal at `path`, making sure the lock is on the file the path names now."""
    with _held_lock:
        if str(path) in _held:
            raise JournalBusy(f"this process already has the journal {path} open")
        fd = _lock_file(path)
        _held.add(str(path))
        return fd


def _lock_file(path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            # A POSIX record lock, not flock: it belongs to this process alone, so a child that was handed a
            # copy of the descriptor (a worker process outliving an indexer killed with -9) cannot keep it.
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise JournalBusy(f"another `lantern ingest` of the same input into the same index is running (journal {path})") from None
            raise
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the run we waited for completed and removed this file: open the new one


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class UnitTracker:
    """Counts each unit's items still waiting for OpenSearch, and says when a unit is finished.

    The pipeline calls `produced` for every item a unit yields, `finished_reading` when the
    reader is done with it, and the bulk writer calls `acknowledged` once OpenSearch answered
    for an item (indexed, or rejected and reported). `on_done(unit, digests, complete)` runs
    once per unit when both hold; `complete` is False when a service failed while reading it
    (its items may lack text), so the journal leaves it for the next attempt.
    """

    def __init__(self, on_done: Callable[[str, set[str], bool], None]):
        self._on_done = on_done
        self._lock = threading.Lock()
        self._outstanding: dict[str, int] = {}
        self._read: set[str] = set()  # units whose reader has finished
        self._unit_of: dict[int, str] = {}  # id(item) -> unit; the item object lives until acknowledged
        self._digests: dict[str, set[str]] = {}
        self._failed: set[str] = set()
        self.finished: dict[str, set[str]] = {}  # unit -> digests of its items, once finished
        self.incomplete: list[str] = []  # units a service failure left for a re-run

    def produced(self, unit: str, item: Item) -> None:
        with self._lock:
            self._outstanding[unit] = self._outstanding.get(unit, 0) + 1
            self._unit_of[id(item)] = unit
            self._digests.setdefault(unit, set()).add(item.source_sha256)

    def service_failed(self, unit: str) -> None:
        with self._lock:
            self._failed.add(unit)

    def finished_reading(self, unit: str) -> None:
        with self._lock:
            self._read.add(unit)
        self._check(unit)

    def acknowledged(self, item: Item) -> None:
        with self._lock:
            unit = self._unit_of.pop(id(item), None)
            if unit is None:
                return
            self._outstanding[unit] -= 1
        self._check(unit)

    def _check(self, unit: str) -> None:
        with self._lock:
            if unit not in self._read or self._outstanding.get(unit, 0) > 0 or unit in self.finished:
                return
            self._outstanding.pop(unit, None)
            digests = self._digests.pop(unit, set())
            self.finished[unit] = digests
            complete = unit not in self._failed
            if not complete:
                self.incomplete.append(unit)
        self._on_done(unit, digests, complete)
