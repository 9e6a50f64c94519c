"""The production ZIP of a search: natives, extracted text and a manifest of SHA-256 hashes, streamed.

Layout of the archive:

- `natives/<id>-<name>`: the original file, byte for byte, for items that are a whole file
  (a loose EML or document: empty locator) when the file is still at `source_path` and its
  SHA-256 still equals `source_sha256`. Anything else (a message inside an MBOX or PST, an
  attachment, a chat message, or a whole file that is gone or changed) gets a placeholder
  `natives/<id>-<name>.txt` with the item's metadata and text, and the manifest says why: the
  API never parses source files, and an altered file must not pass as the original.
- `text/<id>.txt`: the extracted text of every item.
- `production.json`: the search that produced it, when, and how many items.
- `manifest.csv`: one row per file above with its SHA-256 and size, the item's custody and any note.

zipstream-ng writes each entry as its bytes flow (data descriptors, ZIP64 when needed); this
module feeds it one item at a time from `paging.scan` and hashes every entry on the way out.
Manifest rows wait in a spooled temporary file (memory up to 8 MiB, then disk). The ZIP central
directory — about a hundred bytes per entry — is the only thing that grows with the result.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zipstream import ZIP_DEFLATED, ZipStream

from search_api.exports import JSON_EXCLUDED, safe_file_name, spreadsheet_safe

CHUNK = 1024 * 1024
MANIFEST_COLUMNS = ("path", "item_id", "role", "sha256", "bytes", "kind", "custodian", "record", "source_path",
                    "locator", "source_sha256", "note")
HEADER_FIELDS = ("id", "kind", "channel", "custodian", "account", "record", "date", "from", "to", "cc", "bcc",
                 "subject", "file_name", "content_type", "source_path", "locator", "source_sha256", "family_id", "parent_id")


class _Hashed:
    """An iterable of byte chunks that records their SHA-256 and length as they are consumed."""

    def __init__(self, chunks: Iterable[bytes]):
        self.chunks = chunks
        self.digest = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.digest.update(chunk)
            self.size += len(chunk)
            yield chunk


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _file_chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def _name(source: dict[str, Any]) -> str:
    base = source.get("file_name") or (Path(source["source_path"]).name if not source.get("locator") else None)
    return safe_file_name(base or source.get("subject") or source.get("kind"), fallback=source.get("kind") or "item")


def native_source(source: dict[str, Any]) -> tuple[Path | None, str]:
    """The original file to copy for this item, or None and why not."""
    path_text = source.get("source_path") or ""
    if source.get("locator"):
        return None, f"inside {Path(path_text).name} at {source['locator']}: metadata and text given instead"
    path = Path(path_text)
    if not path_text or not path.is_file():
        return None, f"source file not found at {path_text}: metadata and text given instead"
    if _sha256(path) != source.get("source_sha256"):
        return None, "source file changed since it was indexed (SHA-256 differs): metadata and text given instead"
    return path, ""


def _placeholder(source: dict[str, Any]) -> bytes:
    lines = []
    for name in HEADER_FIELDS:
        value = source.get(name)
        if isinstance(value, dict):
            value = value.get("raw") or value.get("address")
        elif isinstance(value, list):
            value = "; ".join((v.get("raw") or v.get("address") or "") if isinstance(v, dict) else str(v) for v in value)
        if value not in (None, ""):
            lines.append(f"{name}: {value}")
    return ("\n".join(lines) + "\n\n" + (source.get("body") or "")).encode("utf-8")


def production_chunks(hits: Iterable[dict[str, Any]], search: dict[str, Any]) -> Iterator[bytes]:
    """The ZIP's bytes for `hits` (search hits with full `_source`); `search` is recorded in production.json."""
    archive = ZipStream(compress_type=ZIP_DEFLATED, sized=False)
    manifest = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+", newline="", encoding="utf-8")
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_COLUMNS)
    items = 0

    def entry(path: str, chunks: Iterable[bytes], source: dict[str, Any] | None, role: str, note: str = "") -> Iterator[bytes]:
        hashed = _Hashed(chunks)
        archive.add(hashed, path)
        yield from archive.all_files()
        source = source or {}
        writer.writerow([spreadsheet_safe(str(v)) for v in (
            path, source.get("id", ""), role, hashed.digest.hexdigest(), hashed.size, source.get("kind", ""),
            source.get("custodian", ""), source.get("record", ""), source.get("source_path", ""),
            source.get("locator", ""), source.get("source_sha256", ""), note)])

    try:
        for hit in hits:
            source = {k: v for k, v in hit["_source"].items() if k not in JSON_EXCLUDED}
            item_id = safe_file_name(source.get("id") or hit["_id"])
            native, note = native_source(source)
            if native is not None:
                yield from entry(f"natives/{item_id}-{_name(source)}", _file_chunks(native), source, "native")
            else:
                yield from entry(f"natives/{item_id}-{_name(source)}.txt", [_placeholder(source)], source, "placeholder", note)
            text = (source.get("body") or "").encode("utf-8")
            yield from entry(f"text/{item_id}.txt", [text], source, "text", "" if text else "no text was extracted")
            items += 1
        about = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "items": items, "search": search}
        yield from entry("production.json", [json.dumps(about, indent=2, ensure_ascii=False, default=str).encode()], None, "about")
        manifest.seek(0)
        archive.add(_Hashed(iter(lambda: manifest.read(CHUNK).encode("utf-8"), b"")), "manifest.csv")
        yield from archive.finalize()
    finally:
        manifest.close()


__all__ = ["production_chunks", "native_source", "MANIFEST_COLUMNS"]
