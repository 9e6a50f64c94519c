"""The exception report: one JSON line per input Lantern could not fully read.

Written as the run goes (flushed per line), so a crash still leaves every problem found so far.
"""

from __future__ import annotations

import json
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

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "ExceptionReport":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_report(path: Path) -> list[dict]:
    """All entries of a report file (for tests and `lantern` commands that show reports)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
