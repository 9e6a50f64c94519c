"""The registry of source readers: one module per input format, listed once here.

Adding a format is one new module with `NAME`, `accepts` and `read`, plus one line in SOURCES.
"""

from __future__ import annotations

from pathlib import Path

from indexer.sources import eml, mbox
from indexer.sources import maildir, msg
from indexer.sources import slack, teams
from indexer.sources import whatsapp
from indexer.sources import signal, signal_export, sms, telegram
from indexer.sources import archive, document, pst
from indexer.sources import winmail
from indexer.sources.base import READERS, Source

SOURCES: tuple[Source, ...] = (  # type: ignore[assignment]
    eml, mbox, maildir, msg, winmail, slack, teams, whatsapp, signal, signal_export, sms, telegram, pst, archive, document)
READERS[:] = SOURCES  # what support.nested hands members to

HEAD_BYTES = 4096


def choose(path: Path, head: bytes) -> Source | None:
    """The reader with the best score for this file, or None when no reader accepts it."""
    best, best_score = None, 0
    for source in SOURCES:
        score = source.accepts(path, head)
        if score > best_score:
            best, best_score = source, score
    return best
