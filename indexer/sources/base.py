"""What every source reader gets and gives.

A source module exposes `NAME`, `CHANNEL`, `accepts(path, head) -> int` (a score; 0 means no)
and `read(path, ctx) -> Iterator[Item | Problem]`. The registry (`indexer.sources`) asks
every module and hands the file to the highest score.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from indexer.extract import TikaExtractor
from indexer.model import Custody, Item, Problem


@dataclass(frozen=True)
class Limits:
    """Size limits that protect the indexer from hostile input."""

    max_attachment_bytes: int = 200 * 1024 * 1024
    # Archives (zip, 7z): bounds on what one top-level archive may expand to, nested ones included.
    max_expanded_bytes: int = 4 * 1024 * 1024 * 1024
    max_compression_ratio: int = 200  # expanded / compressed, checked for members above ratio_floor_bytes
    ratio_floor_bytes: int = 10 * 1024 * 1024
    max_nesting_depth: int = 5  # archives inside archives
    max_archive_members: int = 100_000
    ocr_min_bytes: int = 12_000  # images smaller than this are not OCRed (see Settings.ocr_min_bytes)


@dataclass
class SourceContext:
    """Everything a reader needs about the file it reads and where its items go."""

    source_path: str
    source_sha256: str
    custody: Custody
    extractor: TikaExtractor
    limits: Limits
    # Chat exports write local times with no offset: they are read in this zone.
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    phone_region: str = "GB"  # default region for phone numbers without a country code


class Source(Protocol):
    NAME: str

    def accepts(self, path: Path, head: bytes) -> int: ...

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Item | Problem]: ...
