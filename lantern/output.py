"""Everything the `lantern` command prints goes through here.

Archive content (subjects, senders, file names, custodians) and whatever a caller typed (queries,
login names) are data. On a terminal they are never Rich markup (a From header holding `[/bold]`
must print as itself, not crash the command) and never instructions to the terminal: escape
sequences, OSC 8 hyperlinks, colours, and bidirectional overrides that reorder what the reader
sees are shown as visible escapes (`\\x1b`, `\\u202e`). Rich styles only what this module's
callers mark as their own labels (`label`); every other value is wrapped as data by `data`.

Machine output (`--json`, CSV, JSON Lines) keeps the data exact: JSON escapes the dangerous
characters losslessly (`write_json`), and CSV or JSON Lines written to a terminal, where nothing
parses it, is neutralised like everything else (`write_chunks`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

# C0 controls (ESC, BEL, CR, newlines: one entry must stay one line), DEL, C1 controls (CSI, OSC as
# single characters), and the Unicode marks that reorder or hide text (bidi embeddings, overrides,
# isolates, the Arabic letter mark) or break lines.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The same set minus what JSON already escapes (C0): written as \\uXXXX inside JSON strings, which
# every JSON reader decodes back to the same character.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# In CSV and JSON Lines on a terminal, line breaks and tabs are the format's own.
_STREAM_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """`value` as a string in which every control or reordering character is a visible escape."""
    return _UNSAFE.sub(_escape, "" if value is None else str(value))


def data(value: Any, style: str | None = None) -> Text:
    """`value` as Rich text that is only ever shown, never interpreted (no markup, no control codes)."""
    return Text(visible(value), style=style or "")


def label(text: str, style: str) -> Text:
    """One of Lantern's own words, styled (never pass data here: use `data`)."""
    return Text(text, style=style)


def _console(stderr: bool) -> Console:
    # markup, emoji and highlighting off: even a plain string printed by mistake is shown as it is.
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


out = _console(stderr=False)
err = _console(stderr=True)


def line(*pieces: Any, to: Console | None = None) -> None:
    """Print one line made of `pieces`: Text pieces as they are (labels), anything else as data."""
    (to or out).print(Text.assemble(*(piece if isinstance(piece, Text) else data(piece) for piece in pieces)))


def fail(message: Any) -> NoReturn:
    """Print `error: message` on stderr and end the command with exit code 1."""
    line(label("error:", "red"), " ", message, to=err)
    raise typer.Exit(code=1)


def table(*columns: str) -> Table:
    """A table with Lantern's own column headings; add rows with `add_row`."""
    return Table(*columns)


def add_row(into: Table, *cells: Any) -> None:
    """Add a row of data cells (Text cells are kept as they are: Lantern's own styled labels)."""
    into.add_row(*(cell if isinstance(cell, Text) else data(cell) for cell in cells))


def write_json(value: Any, indent: int | None = None) -> None:
    """`value` as one JSON document on stdout, exact for any JSON reader, harmless on a terminal."""
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False, indent=indent)) + "\n")


def write_chunks(chunks: Iterable[str]) -> None:
    """Text output (CSV, JSON Lines) on stdout: exact into a file or pipe; neutralised on a terminal."""
    on_terminal = sys.stdout.isatty()
    for chunk in chunks:
        sys.stdout.write(_STREAM_UNSAFE.sub(_escape, chunk.replace("\r\n", "\n")) if on_terminal else chunk)
