"""The records-transfer package: the private business that never reached the official record, as a ZIP a
records manager files into the organisation's records system, streamed.

Layout (every name made safe with `exports.safe_file_name`: no separators, no `..`, no control characters):

- `<custodian>/email/<date>_<subject>_<id>.eml`: each email as the original message, byte for byte with its
  attachments, read back by indexer.sources.originals; when the original cannot be read back (a PST, an
  archive member, a source changed since ingest) a message rebuilt from the indexed headers and text,
  and the manifest says `reconstructed` and why.
- `<custodian>/<channel>/<day>_<conversation>_<id>.txt`: a transcript of the uncopied business messages of
  one conversation on one day (UTC). RSMF is not written: Lantern has no RSMF writer yet.
- `<custodian>/files/<date>_<name>_<id>`: a loose document or a chat attachment, as the verified original file,
  else its extracted text (`.txt`).
- `manifest.csv`, `manifest.json`: one row per item (see MANIFEST_COLUMNS), with the SHA-256 of its file in the
  package and of the source it came from; `README.txt`: what the package is and how it was selected.

When the last byte of the archive has been taken, `on_done` is called with one ledger entry per item (search_api.transfers),
so the gap report shows them as "transferred, awaiting filing". Sources are only read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from zipstream import ZIP_DEFLATED, ZipStream

from indexer.sources.originals import SourceDigests, original_email
from search_api import paging
from search_api.exports import address_text, safe_file_name, spreadsheet_safe
from search_api.transfer_readme import readme_text
from search_api.record_gaps import where_clauses
from search_api.transfer_selection import Unit, select_units
from search_api.transfers import ids_clause, transfers_of

MANIFEST_COLUMNS = ("package_id", "file", "file_sha256", "file_bytes", "produced_as", "item_id", "why", "custodian",
                    "channel", "kind", "date", "participants", "subject", "business_score", "business_signals",
                    "source_path", "locator", "source_sha256", "note", "link")
PRODUCED = {
    "original": "the original bytes from the source, unchanged",
    "reconstructed": "rebuilt from the indexed headers and text: NOT the original message",
    "transcript": "a transcript Lantern wrote from the indexed messages",
    "extracted text": "the text Lantern extracted: the original file could not be read back",
}
TEXT_FIELDS = ["body", "subject", "from", "to", "cc", "date", "message_id", "file_name", "attachment_names", "conversation_name"]


def new_package_id() -> str:
    """`transfer-<UTC time>-<random>`: sortable, unique, safe in a file name."""
    return f"transfer-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class Package:
    """A package ready to stream: its id, who asked, the selection it describes and its units."""

    client: OpenSearch
    index: str
    package_id: str
    by: str
    selection: dict[str, Any]
    units: list[Unit]
    restrict: list[dict[str, Any]] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(len(unit.items) for unit in self.units)

    def chunks(self, on_done: Callable[[list[dict[str, Any]]], None]) -> Iterator[bytes]:
        """The ZIP's bytes; `on_done(ledger entries)` only after the last byte has been taken (the archive is
        finalised), so a failure or a consumer that stops early records nothing."""
        archive = ZipStream(compress_type=ZIP_DEFLATED, sized=False)
        rows: list[dict[str, Any]] = []
        digests = SourceDigests()
        names: set[str] = set()
        for unit in self.units:
            path, data, produced, notes = self._file(unit, digests)
            path = _unique(path, names)
            archive.add(data, path)
            yield from archive.all_files()
            digest = hashlib.sha256(data).hexdigest()
            rows += [_row(self.package_id, path, digest, len(data), produced, source, why, notes.get(source["id"], ""))
                     for source, why in unit.items]
        at = datetime.now(UTC).isoformat(timespec="seconds")
        about = {"package_id": self.package_id, "generated_at": at, "by": self.by, "selection": self.selection,
                 "files": len(self.units), "items": len(rows), "produced_as": PRODUCED}
        archive.add(json.dumps({**about, "rows": rows}, indent=2, ensure_ascii=False, default=str).encode(), "manifest.json")
        archive.add(_manifest_csv(rows), "manifest.csv")
        archive.add(readme_text(about, rows).encode("utf-8"), "README.txt")
        yield from archive.finalize()
        # Only once the last byte has been taken: a failure or a disconnect before it records nothing as transferred.
        on_done([{"item_id": row["item_id"], "custodian": row["custodian"], "package_id": self.package_id, "at": at,
                  "by": self.by, "file": row["file"]} for row in rows])

    def _file(self, unit: Unit, digests: SourceDigests) -> tuple[str, bytes, str, dict[str, str]]:
        """(path in the ZIP, bytes, how produced, item id → note) for one unit."""
        top = unit.top
        folder = safe_file_name(top.get("custodian"), fallback="no custodian")
        day = (top.get("date") or "undated")[:10]
        if unit.kind == "email":
            return self._email(unit, folder, day, digests)
        if unit.kind == "transcript":
            name = safe_file_name(f"{day}_{top.get('conversation_name') or top.get('conversation_id') or 'conversation'}", limit=80)
            text = self._transcript(unit)
            return f"{folder}/{safe_file_name(top.get('channel'), 'chat')}/{name}_{_short(top.get('conversation_id') or top['id'])}.txt", text, "transcript", {}
        base = f"{folder}/files/{day}_{_short(top['id'])}_{safe_file_name(top.get('file_name') or top.get('subject'), 'item', limit=80)}"
        native, reason = _native(top, digests)
        if native is not None:
            return base, native, "original", {}
        return base + ".txt", self._placeholder(top), "extracted text", {top["id"]: reason}

    def _email(self, unit: Unit, folder: str, day: str, digests: SourceDigests) -> tuple[str, bytes, str, dict[str, str]]:
        top = unit.top
        path = f"{folder}/email/{day}_{safe_file_name(top.get('subject'), 'no subject', limit=80)}_{_short(top['id'])}.eml"
        original = original_email(top.get("source_path") or "", top.get("locator") or "", top.get("source_sha256") or "", digests)
        if original.data is not None:
            return path, original.data, "original", {s["id"]: "inside the .eml" for s, _ in unit.items if s["id"] != top["id"]}
        notes = {top["id"]: f"original not recoverable: {original.reason}"}
        notes.update({s["id"]: "not in the package: the rebuilt message only names its attachments" for s, _ in unit.items if s["id"] != top["id"]})
        source = {**top, **self._texts([top["id"]]).get(top["id"], {})}
        return path, rebuilt_email(source, original.reason), "reconstructed", notes

    def _texts(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        query = {"bool": {"filter": [*self.restrict, ids_clause(ids)]}}
        hits = paging.scan(self.client, self.index, query, [{"id": "asc"}], TEXT_FIELDS)
        return {hit["_id"]: hit["_source"] for hit in hits}

    def _transcript(self, unit: Unit) -> bytes:
        top = unit.top
        texts = self._texts([source["id"] for source, _ in unit.items])
        day = (top.get("date") or "undated")[:10]
        others = self._others_that_day(top, day, len(unit.items))
        lines = ["Records transfer: conversation transcript", "",
                 f"Conversation: {top.get('conversation_name') or top.get('conversation_id') or '(unnamed)'} ({top.get('channel')})",
                 f"Custodian: {top.get('custodian')}; account: {top.get('account') or 'unknown'}",
                 f"Day: {day} (times in UTC)", f"Package: {self.package_id}",
                 f"Holds the {len(unit.items)} message(s) of that day with official business and no official copy; "
                 f"{others} other message(s) of this conversation that day are not included.", ""]
        for source, _ in sorted(unit.items, key=lambda pair: (pair[0].get("date") or "", pair[0].get("seq") or 0)):
            body = (texts.get(source["id"], {}).get("body") or "").replace("\r\n", "\n").split("\n")
            when = (source.get("date") or "")[11:16] or "--:--"
            sender = _addresses(source.get("from")) or "(unknown sender)"
            lines.append(f"[{day} {when} UTC] {sender}: {body[0]}")
            lines += [f"    {line}" for line in body[1:]]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def _others_that_day(self, top: dict[str, Any], day: str, held: int) -> int:
        if day == "undated" or not top.get("conversation_id"):
            return 0
        query = {"bool": {"filter": [*self.restrict, {"term": {"conversation_id": top["conversation_id"]}},
                                     {"term": {"custodian": top.get("custodian")}},
                                     {"range": {"date": {"gte": day, "lte": f"{day}||/d"}}}],
                          "must_not": [{"exists": {"field": "event"}}]}}
        return max(0, self.client.count(index=self.index, body={"query": query})["count"] - held)

    def _placeholder(self, top: dict[str, Any]) -> bytes:
        source = {**top, **self._texts([top["id"]]).get(top["id"], {})}
        head = [f"{name}: {_addresses(source.get(name)) if name in ('from', 'to', 'cc') else source.get(name)}"
                for name in ("id", "kind", "channel", "custodian", "date", "from", "to", "cc", "subject", "file_name",
                             "source_path", "locator", "source_sha256") if source.get(name)]
        return ("\n".join(head) + "\n\n" + (source.get("body") or "")).encode("utf-8")


def rebuilt_email(source: dict[str, Any], reason: str) -> bytes:
    """An email rebuilt from an item's indexed headers and text, marked as not the original (X-Lantern-Reconstructed).
    Every header value is put on one line, so nothing in the data can add a header."""
    message = EmailMessage(policy=SMTP)
    for header, name in (("From", "from"), ("To", "to"), ("Cc", "cc")):
        value = _addresses(source.get(name))
        if value:
            message[header] = _one_line(value)
    for header, value in (("Subject", source.get("subject")), ("Date", _mail_date(source.get("date"))),
                          ("Message-ID", source.get("message_id"))):
        if value:
            message[header] = _one_line(value)
    message["X-Lantern-Reconstructed"] = _one_line(f"not the original message: {reason}")
    names = source.get("attachment_names") or []
    listed = "\n\n[Attachments not included: " + "; ".join(names) + "]" if names else ""
    message.set_content((source.get("body") or "") + listed)
    return message.as_bytes()


def _native(source: dict[str, Any], digests: SourceDigests) -> tuple[bytes | None, str]:
    """A loose file's bytes when it is still at its source path unchanged; else None and why not."""
    path = Path(source.get("source_path") or "")
    if source.get("locator"):
        return None, f"inside {path.name} at {source['locator']}: its bytes are not read back"
    if not path.is_file():
        return None, "the source file is no longer there"
    try:
        if digests.of(path) != source.get("source_sha256"):
            return None, "the source changed since it was indexed (its SHA-256 differs)"
        return path.read_bytes(), ""
    except OSError as exc:
        return None, f"the source could not be read: {exc.strerror or exc}"


def _short(key: str) -> str:
    """Twelve hex characters that tell items (or conversations) apart in file names: the start of a
    hex item id, so a name shows its item; else of the key's SHA-256."""
    if re.fullmatch(r"[0-9a-f]{12,}", key):
        return key[:12]
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _unique(path: str, taken: set[str]) -> str:
    stem, dot, extension = path.rpartition(".")
    candidate, number = path, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem} ({number}).{extension}" if dot else f"{path} ({number})"
    taken.add(candidate)
    return candidate


def _addresses(value: Any) -> str:
    return address_text(value, ", ")  # header style: "a@x, b@y"


def _one_line(value: str) -> str:
    """A header value on one line: the data never adds a header of its own."""
    return " ".join(str(value).split())


def _mail_date(value: str | None) -> str | None:
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None


def participants(source: dict[str, Any]) -> str:
    """Everyone on the item, each once, in order: sender, recipients, chat participants."""
    seen: list[str] = []
    for name in ("from", "to", "cc", "bcc", "participants"):
        value = source.get(name)
        for entry in value if isinstance(value, list) else [value]:
            text = _addresses(entry)
            if text and text not in seen:
                seen.append(text)
    return "; ".join(seen)


def _row(package_id: str, path: str, digest: str, size: int, produced: str, source: dict[str, Any], why: str,
         note: str) -> dict[str, Any]:
    return {"package_id": package_id, "file": path, "file_sha256": digest, "file_bytes": size, "produced_as": produced,
            "item_id": source["id"], "why": why, "custodian": source.get("custodian"), "channel": source.get("channel"),
            "kind": source.get("kind"), "date": source.get("date"), "participants": participants(source),
            "subject": source.get("subject") or source.get("file_name"), "business_score": source.get("business_score"),
            "business_signals": "; ".join(source.get("business_signals") or []), "source_path": source.get("source_path"),
            "locator": source.get("locator"), "source_sha256": source.get("source_sha256"), "note": note,
            "link": f"/#item={source['id']}"}


def _manifest_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_safe(str(row[name])) if row.get(name) is not None else "" for name in MANIFEST_COLUMNS])
    return out.getvalue().encode("utf-8")


class NothingToTransfer(LookupError):
    """No uncopied private business item in the range and scope is left to transfer."""


def prepare_package(client: OpenSearch, index: str, ledger: str, threshold: float, by: str,
                    custodians: list[str] | None = None, date_from: date | None = None, date_to: date | None = None,
                    restrict: list[dict[str, Any]] | None = None, include_transferred: bool = False) -> Package:
    """Select what a package holds (items already in the ledger only with `include_transferred`); raise
    NothingToTransfer when nothing is left. Stream it with `Package.chunks`."""
    restrict = list(restrict or [])
    where = where_clauses(custodians, date_from, date_to, restrict)
    skip = frozenset() if include_transferred else frozenset(transfers_of(client, ledger, custodians))
    units = select_units(client, index, where, restrict, threshold, skip)
    if not units:
        raise NothingToTransfer("nothing to transfer: no private business item without an official copy in this range"
                                + ("" if include_transferred else " that is not already in a transfer package"))
    selection = {"custodian": list(custodians or []), "from": date_from.isoformat() if date_from else None,
                 "to": date_to.isoformat() if date_to else None, "business_threshold": threshold,
                 "include_transferred": include_transferred, "scope": restrict}
    return Package(client, index, new_package_id(), by, selection, units, restrict)
