"""Outlook personal folders (`.pst`) and offline stores (`.ost`), read with libpst's `readpst`.

`readpst -D -e -8` (Debian package pst-utils) writes every item of the store, deleted ones
included (-D), into a temporary folder: one file per item, named by its number in its folder —
emails as RFC 822 `.eml` (attachments inside the MIME), contacts as vCard `.vcf`, appointments and
journal entries as iCalendar `.ics`. Emails go through `mime.message_items`; contacts and
appointments become "document" items with their text and their name or summary as subject.
Locators are the PST folder path and the item number, e.g. `Personal Folders/Inbox/12`.
The folder (it needs about as much temporary space as the store) is deleted when reading ends;
the evidence itself is only ever read. readpst runs without -b: a message whose only body is
RTF keeps it (readpst attaches it as `rtf-body.rtf`, read here as the body), and where a plain or
HTML body exists that RTF copy is dropped as the same text again. readpst does not mark which
items were deleted, so recovered deleted items look like the others. A message attached to a
message is written by readpst as a message/rfc822 part opening with an `>From "sender" <ctime>`
envelope line; it is read as an email of its own (`nested`, `eml.read_member`), and what readpst
makes up (a `<MAILER-DAEMON>` sender, display-name recipient lists) is read for what it stands for
(`readpst_output`).

Why readpst and not libpff-python (pypff), measured on the two sample stores (2-3 items each, a
Python timing loop of 30 runs): libpff walks a store in 3-4 ms against readpst's 8-10 ms (process
start dominates at this size), but it hands back raw MAPI properties, so Lantern would have to
rebuild every message's MIME (recipients table, bodies, RTF decompression, attachments, embedded
messages) by hand, while readpst writes RFC 822 that the shared MIME reader already handles. On
robustness readpst did as well or better: of 16 truncated copies (cut every 16 KiB) it recovered
items from 9, libpff opened 8; of 60 copies with 32 random bytes overwritten, readpst wrote 119 of
the 120 items expected, libpff read 173 of 180 and could not open 2 copies; neither crashed or
hung. A crash in readpst is a failed child process, reported; one in libpff would take down the
indexer.

What readpst does not do, and how it is reported: items it cannot convert (distribution lists,
hidden folder settings such as IPM.Configuration.*) are counted in its summary and reported per
folder as `unsupported`; a store whose header declares more bytes than the file has is reported as
`corrupt` (truncated), with whatever readpst still read indexed. PST "passwords" are not encryption
(only a checksum in the store, which readpst ignores), so a password-protected PST is simply read;
a store encrypted with Windows Information Protection is reported as `encrypted`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from indexer import errors
from indexer.digests import text_sha256
from indexer.model import Item, Problem
from indexer.sources.base import SourceContext, foreign_format
from indexer.sources.support.mime import message_items, parse_message
from indexer.sources.support.readpst_output import rtf_body_as_body

NAME = "pst"
CHANNEL = "email"
MAGIC = b"!BDN"
EXTENSIONS = (".pst", ".ost")
READPST_ARGS = ("-D", "-e", "-8")  # deleted items too; one file per item with extensions; UTF-8 bodies
TIMEOUT_SECONDS = 300  # plus one second per MiB of store
_SUMMARY = re.compile(r'^\s*"(?P<folder>.*)" - (?P<done>\d+) items done, (?P<skipped>\d+) items skipped\.\s*$')
_UNICODE_VERSIONS = (23, 36)  # wVer: 14/15 ANSI (32-bit), 23 Unicode, 36 Unicode with 4 KiB pages
_WIP_ENCRYPTED = 0x10  # bCryptMethod NDB_CRYPT_EDPCRYPTED: Windows Information Protection


def accepts(path: Path, head: bytes) -> int:
    """100 for a file starting with the PST/OST signature; 50 for the extension alone (readpst reports it)."""
    if path.is_dir():
        return 0
    if head.startswith(MAGIC):
        return 100
    if foreign_format(head):
        return 0  # a PDF or ZIP named .pst is read as what it is
    return 50 if path.suffix.lower() in EXTENSIONS else 0


def read(path: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Every item readpst finds in the store, then a Problem for each thing it could not read."""
    declared_size = _check_header(path)
    readpst = shutil.which("readpst")
    if readpst is None:
        raise errors.ServiceUnavailable("readpst is not installed (Debian package pst-utils; "
                                        "scripts/install-system-packages.sh installs it)")
    size = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="lantern-pst-") as folder:
        out = Path(folder)
        run = _run_readpst(readpst, path.resolve(), out, TIMEOUT_SECONDS + size // (1024 * 1024))
        yield from output_items(out, ctx)
        if size < declared_size:
            yield Problem(ctx.source_path, "", errors.Corrupt.code,
                          f"the store is truncated: its header declares {declared_size} bytes, the file has {size}; "
                          "the items readpst could still read were indexed")
        if run.failure:
            yield Problem(ctx.source_path, "", run.failure.code, str(run.failure))
        yield from _skipped(run.stdout, out, ctx)


def _check_header(path: Path) -> int:
    """The file size the store's header declares; raises Corrupt/Encrypted for what readpst cannot read."""
    with path.open("rb") as handle:
        header = handle.read(0x204)
    if not header.startswith(MAGIC) or len(header) < 0x204:
        raise errors.Corrupt("not an Outlook PST/OST store: the '!BDN' header is missing or cut short")
    version = int.from_bytes(header[10:12], "little")
    unicode = version in _UNICODE_VERSIONS
    declared = int.from_bytes(header[0xB8:0xC0] if unicode else header[0xA8:0xAC], "little")
    if header[0x201 if unicode else 0x1CD] == _WIP_ENCRYPTED:
        raise errors.Encrypted("the store is encrypted with Windows Information Protection; readpst cannot read it")
    return declared


@dataclass(slots=True)
class _Run:
    """What one readpst run printed (its per-folder summary) and why it did not end well, if it did not."""

    stdout: str
    failure: errors.IngestError | None = None


def _run_readpst(readpst: str, path: Path, out: Path, timeout: int) -> _Run:
    """Run readpst (no shell, no input) into `out`, stopped after `timeout` seconds."""
    try:
        done = subprocess.run([readpst, *READPST_ARGS, "-o", str(out), str(path)], capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        return _Run((exc.stdout or b"").decode("utf-8", "replace"), errors.ExtractionFailed(
            f"readpst did not finish within {timeout} s and was stopped; the items it wrote were indexed"))
    stdout = done.stdout.decode("utf-8", "replace")
    if done.returncode == 0:
        return _Run(stdout)
    said = " / ".join(line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines()[-3:] if line.strip())
    how = f"crashed (signal {-done.returncode})" if done.returncode < 0 else f"failed (exit {done.returncode})"
    return _Run(stdout, errors.Corrupt(f"readpst {how}: {said or 'no message'}; the items it wrote before that were indexed"))


def _skipped(stdout: str, out: Path, ctx: SourceContext) -> Iterator[Problem]:
    """One Problem per folder in which readpst skipped items (it names the folder, not the items)."""
    for line in stdout.splitlines():
        match = _SUMMARY.match(line)
        if not match or match["skipped"] == "0":
            continue
        folder = match["folder"]
        written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir() and p.name == folder)
        yield Problem(ctx.source_path, written[0] if len(written) == 1 else folder, errors.Unsupported.code,
                      f"readpst skipped {match['skipped']} item(s) in folder {folder!r} that it cannot convert "
                      "(distribution lists, hidden folder settings or other item types); they were not indexed")


def _item_files(out: Path) -> list[Path]:
    """readpst's output files, folder by folder, items in number order."""
    def order(path: Path) -> tuple:
        stem = path.stem
        return (path.parent.relative_to(out).as_posix(), int(stem) if stem.isdigit() else 0, stem)

    return sorted((p for p in out.rglob("*") if p.is_file()), key=order)


def output_items(out: Path, ctx: SourceContext) -> Iterator[Item | Problem]:
    """Items from a folder laid out as `readpst -e` writes it: `<folder path>/<number>.<eml|vcf|ics>`."""
    for path in _item_files(out):
        locator = path.relative_to(out).with_suffix("").as_posix()
        suffix = path.suffix.lower()
        try:
            if suffix == ".eml":
                yield from message_items(rtf_body_as_body(parse_message(path.read_bytes())), ctx, locator)
            elif suffix in (".vcf", ".ics"):
                yield _card_item(path.read_bytes().decode("utf-8", "replace"), suffix, locator, ctx)
            else:
                yield Problem(ctx.source_path, locator, errors.Unsupported.code,
                              f"readpst wrote an item of an unexpected kind ({path.name!r}); not indexed")
        except Exception as exc:  # noqa: BLE001 - one hostile item must not cost the rest of the store
            yield Problem(ctx.source_path, locator, "reader_error", f"{exc.__class__.__name__}: {exc}")


def _card_item(text: str, suffix: str, locator: str, ctx: SourceContext) -> Item:
    """A contact (vCard) or appointment (iCalendar) as a document item, named by FN or SUMMARY. The body
    is one `NAME: value` line per property, escapes undone, so words and addresses are searchable."""
    lines = _property_lines(text)
    first: dict[str, str] = {}
    for name, value in lines:
        first.setdefault(name, value)
    # readpst stamps each .ics with the time it ran (DTSTAMP): not evidence, and it would change the hash.
    body = "\n".join(f"{name}: {value}" for name, value in lines if name != "DTSTAMP")
    item_id = ctx.item_id(locator)
    is_card = suffix == ".vcf"
    return Item(
        id=item_id, kind="document", channel=CHANNEL, source_path=ctx.source_path, locator=locator,
        source_sha256=ctx.source_sha256, custody=ctx.custody, family_id=item_id,
        subject=first.get("FN") if is_card else first.get("SUMMARY"),
        date=None if is_card else _ical_date(first.get("DTSTART")),
        date_original=None if is_card else first.get("DTSTART"),
        content_type="text/vcard" if is_card else "text/calendar", body=body, content_sha256=text_sha256(body),
    )


def _property_lines(text: str) -> list[tuple[str, str]]:
    """(NAME, value) for each property line of a vCard/iCalendar text: lines unfolded, parameters
    dropped, escapes undone."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    found = []
    for line in unfolded.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            value = re.sub(r"\\([\\,;nN])", lambda m: "\n" if m[1] in "nN" else m[1], value).strip()
            found.append((name.split(";", 1)[0].upper(), value))
    return found


def _ical_date(value: str | None) -> str | None:
    """UTC ISO 8601 for an iCalendar DATE-TIME in UTC ("...Z") or a DATE; None for other forms."""
    if not value:
        return None
    for layout in ("%Y%m%dT%H%M%SZ", "%Y%m%d"):
        try:
            parsed = datetime.strptime(value, layout).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        return parsed.isoformat().replace("+00:00", "Z")
    return None
