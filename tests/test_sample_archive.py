"""Tests for the deterministic demo archive (`lantern.sample_archive`). No services needed."""

from __future__ import annotations

import hashlib
import io
import mailbox
import re
import zlib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import docx
import pytest

from lantern.sample_archive import MAILBOXES, MARKERS, SampleArchive, generate

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> SampleArchive:
    return generate(tmp_path_factory.mktemp("sample"))


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _messages(path: Path) -> list[EmailMessage]:
    box = mailbox.mbox(path, create=False)
    try:
        return [BytesParser(policy=policy.default).parsebytes(box.get_bytes(key)) for key in box.keys()]
    finally:
        box.close()


def _all_messages(archive: SampleArchive) -> list[tuple[str, EmailMessage]]:
    """(relative source path, message) for every mailbox message and the loose .eml."""
    out = [(mb.path.relative_to(archive.root).as_posix(), m) for mb in archive.mailboxes for m in _messages(mb.path)]
    for eml in archive.loose:
        msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
        out.append((eml.relative_to(archive.root).as_posix(), msg))
    return out


def _pdf_text(data: bytes) -> str:
    """Text of an fpdf2 PDF: inflate FlateDecode streams, collect the literal strings shown with Tj."""
    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content):
            shown.append(re.sub(rb"\\(.)", rb"\1", literal).decode("latin-1"))
    return "\n".join(shown)


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def _locations(archive: SampleArchive, word: str) -> list[dict[str, str | None]]:
    """Every place `word` occurs in the generated files, found by parsing them (not from the data tables)."""
    hits = []
    for source, msg in _all_messages(archive):
        subject = str(msg["Subject"])
        found = []
        if word in subject.lower():
            found.append(("subject", None))
        for part in msg.walk():
            name = part.get_filename()
            if name and word in name.lower():
                found.append(("filename", name))
            if part.is_multipart():
                continue
            if name is None and part.get_content_maintype() == "text":
                if word in part.get_content().lower():
                    found.append(("body", None))
            elif part.get_content_type() == "application/pdf" and word in _pdf_text(part.get_content()).lower():
                found.append(("pdf", name))
            elif part.get_content_type() == DOCX_TYPE and word in _docx_text(part.get_content()).lower():
                found.append(("docx", name))
        hits += [{"where": w, "mailbox": source, "subject": subject, "attachment": a} for w, a in found]
    return hits


def test_generation_is_byte_identical(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    first = _digests(tmp_path / "a")
    assert first == _digests(tmp_path / "b")
    assert len(first) == len(MAILBOXES) + 1
    generate(tmp_path / "a")  # rerun over existing output: rewritten, not appended to
    assert _digests(tmp_path / "a") == first


def test_mailboxes_parse_with_expected_counts(archive: SampleArchive) -> None:
    assert [mb._replace(path=mb.path.relative_to(archive.root)) for mb in archive.mailboxes] == list(MAILBOXES)
    total = 0
    for mb in archive.mailboxes:
        rel = mb.path.relative_to(archive.root).as_posix()
        messages = _messages(mb.path)
        assert 8 <= len(messages) == archive.counts[rel] <= 15
        total += len(messages)
        ids = [m["Message-ID"] for m in messages]
        assert len(set(ids)) == len(ids) and all(ids)
        for m in messages:
            assert not m.defects
            people = " ".join(str(m[h] or "") for h in ("From", "To", "Cc")).lower()
            assert mb.account in people, (rel, m["Subject"])
            date = parsedate_to_datetime(m["Date"])
            assert (2020, 3) <= (date.year, date.month) <= (2020, 9)
    assert 40 <= total <= 50


def test_message_variety(archive: SampleArchive) -> None:
    messages = [m for _, m in _all_messages(archive)]
    by_id = {m["Message-ID"]: m for m in messages}
    replies = [m for m in messages if m["In-Reply-To"]]
    assert len(replies) >= 8
    for m in replies:
        assert m["In-Reply-To"] in by_id and m["References"].split()[-1] == m["In-Reply-To"]
    assert any(len(m["References"].split()) >= 2 for m in replies)
    assert any(str(m["Subject"]).startswith("Fwd: ") for m in messages)
    assert any(m.get_content_type() == "text/html" for m in messages)
    assert any(m.get_content_type() == "multipart/alternative" for m in messages)
    assert {m["Date"][-5:] for m in messages} >= {"+0000", "+0100"}
    accented = [m for m in messages if str(m["Subject"]) == "Réunion — café"]
    assert accented and "=?utf-8?" in accented[0].as_string(policy=policy.compat32).lower()
    attachments = [p for m in messages for p in m.iter_attachments()]
    pdfs = [p for p in attachments if p.get_content_type() == "application/pdf"]
    docxs = [p for p in attachments if p.get_content_type() == DOCX_TYPE]
    assert len(pdfs) >= 3 and len(docxs) >= 4
    assert all(p.get_filename().endswith(".pdf") and p.get_content().startswith(b"%PDF-") for p in pdfs)
    assert all(p.get_filename().endswith(".docx") and _docx_text(p.get_content()) for p in docxs)


@pytest.mark.parametrize("word", MARKERS)
def test_marker_occurs_exactly_where_planted(archive: SampleArchive, word: str) -> None:
    assert _locations(archive, word) == [archive.planted[word]]


def test_planted_structure(archive: SampleArchive) -> None:
    assert set(archive.planted) == {"zanzibarquill", "marrowfinch", "tellurian", "quorvex"}
    where = {w: (p["where"], p["mailbox"]) for w, p in archive.planted.items()}
    assert where == {
        "zanzibarquill": ("pdf", "alice-hart/official.mbox"),
        "marrowfinch": ("docx", "ben-okafor/private.mbox"),
        "tellurian": ("body", "alice-hart/private.mbox"),
        "quorvex": ("subject", "ben-okafor/official.mbox"),
    }
    assert archive.planted["zanzibarquill"]["attachment"].endswith(".pdf")
    assert archive.planted["marrowfinch"]["attachment"].endswith(".docx")
    assert archive.planted["tellurian"]["attachment"] is None


def test_zanzibarquill_only_inside_compressed_pdf(archive: SampleArchive) -> None:
    spot = archive.planted["zanzibarquill"]
    parent = [m for src, m in _all_messages(archive) if src == spot["mailbox"] and m["Subject"] == spot["subject"]]
    assert len(parent) == 1
    pdf = next(p for p in parent[0].iter_attachments() if p.get_filename() == spot["attachment"])
    assert b"zanzibarquill" not in pdf.get_content()  # compression is on: plain byte search must miss it
    assert "zanzibarquill" in _pdf_text(pdf.get_content())
    for _, m in _all_messages(archive):
        assert "zanzibarquill" not in str(m["Subject"]).lower()
        for part in m.walk():
            if part.get_content_maintype() == "text" and not part.get_filename():
                assert "zanzibarquill" not in part.get_content().lower()


def test_marrowfinch_only_inside_docx(archive: SampleArchive) -> None:
    spot = archive.planted["marrowfinch"]
    found = []
    for src, m in _all_messages(archive):
        for part in m.walk():
            if part.get_content_maintype() == "text" and not part.get_filename():
                assert "marrowfinch" not in part.get_content().lower()
            if part.get_content_type() == DOCX_TYPE and "marrowfinch" in _docx_text(part.get_content()):
                found.append((src, part.get_filename()))
    assert found == [(spot["mailbox"], spot["attachment"])]


def test_no_marker_visible_in_raw_bytes_except_plain_text_ones(archive: SampleArchive) -> None:
    raw = b"".join(p.read_bytes() for p in sorted(archive.root.rglob("*")) if p.is_file())
    assert b"zanzibarquill" not in raw and b"marrowfinch" not in raw
    assert raw.count(b"tellurian") == 1 and raw.count(b"quorvex") == 1


def test_duplicate_message_in_both_custodians(archive: SampleArchive) -> None:
    ids: dict[str, set[str]] = {}
    for mb in archive.mailboxes:
        ids.setdefault(mb.custodian, set()).update(m["Message-ID"] for m in _messages(mb.path))
    shared = ids["Alice Hart"] & ids["Ben Okafor"]
    assert shared == {archive.duplicate_message_id}
    copies = [(mb.custodian, m) for mb in archive.mailboxes for m in _messages(mb.path)
              if m["Message-ID"] == archive.duplicate_message_id]
    assert {c for c, _ in copies} == {"Alice Hart", "Ben Okafor"}
    assert len({m.as_bytes() for _, m in copies}) == 1
    cc = str(copies[0][1]["Cc"])
    assert "alice.hart@dhsc.gov.uk" in cc and "ben.okafor@dhsc.gov.uk" in cc


def test_loose_eml_has_docx_attachment(archive: SampleArchive) -> None:
    (eml,) = archive.loose
    assert eml == archive.root / "ben-okafor" / "loose" / "meeting-note.eml"
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == DOCX_TYPE
    assert attachment.get_filename() == "Meeting-note-2020-05-14.docx"
    assert "Northgate" in _docx_text(attachment.get_content())
