"""Exports of a search's results, streamed: CSV of metadata and JSON Lines.

Hits come from `paging.scan` (a point in time read page by page), and each format is a
generator of text chunks, so 100,000 hits never sit in memory at once. Exports list every
matching item (collapse_duplicates does not apply: custody of each copy matters).
The production ZIP (natives, text, manifest) is `search_api.production`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from opensearchpy import OpenSearch

from indexer.model import FIELDS
from search_api import paging
from search_api.disclosure import confine_hits
from search_api.scope import EVERYTHING, Scope
from search_api.search import SearchRequest, build_body

CSV_COLUMNS = tuple(f.name for f in FIELDS if f.spec.export)  # declared in indexer.model, in its order
JSON_EXCLUDED = ("body_html", "minhash")  # display-only HTML and binary signatures are no use in an export
ROWS_PER_CHUNK = 200
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_hits(client: OpenSearch, index: str, request: SearchRequest, source: list[str] | dict[str, Any] | bool,
                scope: Scope = EVERYTHING) -> Iterator[dict[str, Any]]:
    """Every hit of `request` (its query, filters and sort) within `scope`, streamed from one point in time.

    Parses the query at once, so a malformed one raises QuerySyntaxError before anything is sent.
    Every document passes through search_api.disclosure, whatever the format.
    """
    body = build_body(request, scope)
    return confine_hits(client, index, paging.scan(client, index, body["query"], body["sort"], source), scope)


def primed(hits: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Fetch the first page now, so OpenSearch errors (no index, rejected query) surface as an HTTP
    error before the response has started; then go on lazily."""
    first = next(hits, None)
    if first is None:
        return iter(())

    def chained() -> Iterator[dict[str, Any]]:
        yield first
        yield from hits
    return chained()


def address_text(value: Any, separator: str = "; ") -> str:
    """An address field (one address, or a list of them) as text: each as written (`raw`), else its
    address or name, joined by `separator`."""
    if isinstance(value, list):
        return separator.join(filter(None, (address_text(v, separator) for v in value)))
    if isinstance(value, dict):
        return value.get("raw") or value.get("address") or value.get("name") or ""
    return "" if value is None else str(value)


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): a leading = + - @ is quoted with '."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cell(name: str, source: dict[str, Any]) -> str:
    value = source.get(name)
    if name in ("from", "to", "cc", "bcc"):
        text = address_text(value)
    elif isinstance(value, list):
        text = "; ".join(str(v) for v in value)
    elif value is None:
        text = ""
    else:
        text = str(value)
    return spreadsheet_safe(text)


def csv_chunks(hits: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The metadata CSV (CSV_COLUMNS), a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for count, hit in enumerate(hits, start=1):
        writer.writerow([_cell(name, hit["_source"]) for name in CSV_COLUMNS])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(hits: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per line: the item as indexed (text included), without display-only fields."""
    lines: list[str] = []
    for hit in hits:
        lines.append(json.dumps(hit["_source"], ensure_ascii=False) + "\n")
        if len(lines) >= ROWS_PER_CHUNK:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def safe_file_name(name: str | None, fallback: str = "file", limit: int = 120) -> str:
    """A file name safe inside an archive or on any disk: no path separators, no `..`, no control
    or reserved characters, no leading dots, at most `limit` characters (the extension kept)."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join("_" if (not ch.isprintable() or ch in '/\\:*?"<>|') else ch for ch in text)
    text = re.sub(r"\.{2,}", ".", text)  # no ".." anywhere, so never a parent-directory step
    text = re.sub(r"[_\s]{2,}", "_", text).strip(" ._")
    if not text:
        return fallback
    if len(text) > limit:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            text = stem[: limit - len(extension) - 1].rstrip(" ._") + "." + extension
        else:
            text = text[:limit].rstrip(" ._")
    return text
