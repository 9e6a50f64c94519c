"""signal-export Markdown chats (github.com/carderne/signal-export): recognised, not split into messages.

signal-export writes each Signal Desktop conversation as `<chat>/chat.md`, one line a message
("[2019-05-29 15:04:00] Aya: We're great!", older versions "[2019-05-29, 15:04]"), attachments as
Markdown links into `media/`, beside `index.html` and `data.json`. Its lines look like an iOS
WhatsApp export's, so the WhatsApp reader would take it and label Signal messages as WhatsApp.
Lantern reads Signal from signal-cli's JSON (`signal`); this format is not parsed into messages: the
file is indexed whole as a document, so its text is searchable, and reported `unsupported`, so the
officer knows its messages, senders and times were not separated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources import document
from indexer.sources.base import SourceContext

NAME = "signal_export"
CHANNEL = document.CHANNEL
_MESSAGE_LINE = re.compile(rb"^\[\d{4}-\d{2}-\d{2},? \d{2}:\d{2}(?::\d{2})?\] [^:\n]{1,120}:")
UNSUPPORTED = ("a signal-export Markdown chat (Signal Desktop): its messages are not read one by one; the file's "
               "text is indexed as one document. Lantern reads Signal messages from signal-cli's JSON output")


def accepts(path: Path, head: bytes) -> int:
    """90 for a Markdown file whose first line is a signal-export message line, else 0."""
    if path.is_dir() or path.suffix.lower() != ".md":
        return 0
    first = next((line for line in head.removeprefix(b"\xef\xbb\xbf").splitlines() if line.strip()), b"")
    return 90 if _MESSAGE_LINE.match(first) else 0


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """The file as one document item (and its problems), then the `unsupported` problem naming the format."""
    yield from document.read(path, ctx)
    yield Problem(ctx.source_path, "", errors.Unsupported.code, UNSUPPORTED, ctx.item_id(""))
