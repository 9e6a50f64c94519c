"""The exception report: one JSON line per input Lantern could not fully read.

Written as the run goes (flushed per line), so a crash still leaves every problem found so far.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from indexer.model import Problem


class ExceptionReport:
    """Appends Problems to a JSON Lines file and counts them by code."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: TextIO = path.open("a", encoding="utf-8")
        self.counts: dict[str, int] = {}

    def add(self, problem: Problem) -> None:
        entry = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), **problem.to_doc()}
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.counts[problem.code] = self.counts.get(problem.code, 0) + 1

    def sync(self) -> None:
        """Make every entry written so far durable (before the journal records its file as done)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "ExceptionReport":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def prune_report(path: Path, offset: int, keep: Callable[[dict], bool]) -> int:
    """Drop the entries after byte `offset` for which `keep` is false (and a torn last line); return how many.

    A resumed ingest calls this before it re-reads the files an interrupted attempt did not
    finish, so their problems are not reported twice. The file is rewritten beside itself and
    renamed into place, so a crash here leaves either the old report or the new one.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    if offset > len(data):
        return 0
    kept, dropped = [], 0
    for line in data[offset:].splitlines(keepends=True):
        try:
            entry = json.loads(line) if line.endswith(b"\n") else None
        except ValueError:
            entry = None
        if entry is not None and keep(entry):
            kept.append(line)
        else:
            dropped += 1
    if not dropped:
        return 0
    staging = path.with_name(path.name + ".resume")
    with staging.open("wb") as handle:
        handle.write(data[:offset])
        handle.writelines(kept)
        handle.flush()
        os.fsync(handle.fileno())
    staging.replace(path)
    return dropped


def read_report(path: Path) -> list[dict]:
    """All entries of a report file (for tests and `lantern` commands that show reports)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
