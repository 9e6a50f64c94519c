"""Loose documents through Tika: Office with embedded images, mislabelled files, encrypted PDF,
text formats, empty and unidentifiable files."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import docx
from fpdf import FPDF
from PIL import Image

from indexer.sources import choose, document
from search_api.search import SearchRequest, run_search


def _custodian() -> str:
    return f"Document Tester {uuid.uuid4().hex[:8]}"


def _items(services, settings, custodian: str) -> list[dict]:
    hits = services.search(index=settings.items_alias, body={
        "query": {"term": {"custodian": custodian}}, "size": 500})["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def _search(services, settings, q: str, custodian: str) -> list[dict]:
    return run_search(services, settings.items_alias, SearchRequest(q=q, custodian=[custodian], size=50))["hits"]


def docx_bytes(text: str, image: bool = False) -> bytes:
    """A Word document with one paragraph and, optionally, one embedded PNG."""
    document_ = docx.Document()
    document_.add_paragraph(text)
    if image:
        picture = io.BytesIO()
        Image.new("RGB", (40, 20), (200, 30, 30)).save(picture, format="PNG")
        picture.seek(0)
        document_.add_picture(picture)
    buffer = io.BytesIO()
    document_.save(buffer)
    return buffer.getvalue()


def encrypted_pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    return bytes(pdf.output())


def test_docx_is_a_document_with_its_embedded_image_as_a_child(services, settings, ingest_files, tmp_path):
    path = tmp_path / "briefing.docx"
    path.write_bytes(docx_bytes("the briefing mentions saxifrage", image=True))
    assert choose(path, path.read_bytes()[:4096]) is document
    custodian = _custodian()
    summary, report = ingest_files([path], custodian=custodian)

    items = _items(services, settings, custodian)
    top = next(i for i in items if i["locator"] == "")
    assert top["kind"] == "document" and top["channel"] == "file"
    assert top["file_name"] == "briefing.docx"
    assert top["content_type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "parent_id" not in top and top["depth"] == 0 and top["family_id"] == top["id"]
    assert top["size"] == path.stat().st_size
    embedded = [i for i in items if i["locator"] != ""]
    # The picture, and the thumbnail python-docx's template carries.
    assert sorted(i["content_type"] for i in embedded) == ["image/jpeg", "image/png"]
    assert {(i["parent_id"], i["family_id"], i["depth"], i["kind"]) for i in embedded} == {(top["id"], top["id"], 1, "attachment")}
    assert all(i["locator"].startswith("!/") for i in embedded)
    assert [h["id"] for h in _search(services, settings, "saxifrage", custodian)] == [top["id"]]
    # Images without text (a plain red box) are kept as items, marked; none of this is a failure.
    picture = next(i for i in embedded if i["content_type"] == "image/png")
    assert picture["extraction"] == "partial" and picture["problems"]
    assert all(i["extraction"] != "failed" for i in embedded)
    assert {e["code"] for e in report} <= {"no_text"}
    assert summary.items_by_kind == {"document": 1, "attachment": 2}


def test_mislabelled_docx_named_pdf_is_read_by_content(services, settings, ingest_files, tmp_path):
    path = tmp_path / "minutes.pdf"
    path.write_bytes(docx_bytes("minutes of the meeting about wolfsbane"))
    custodian = _custodian()
    summary, report = ingest_files([path], custodian=custodian)

    hits = _search(services, settings, "wolfsbane", custodian)
    assert [(h["kind"], h["file_name"]) for h in hits] == [("document", "minutes.pdf")]
    assert hits[0]["content_type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert [e for e in report if e["code"] != "no_text"] == []


def test_encrypted_pdf_is_an_item_reported_as_encrypted(services, settings, ingest_files, tmp_path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted_pdf_bytes("locked words lungwort"))
    custodian = _custodian()
    summary, report = ingest_files([path], custodian=custodian)

    items = _items(services, settings, custodian)
    assert [(i["file_name"], i["extraction"], i["content_type"]) for i in items] == [("locked.pdf", "failed", "application/pdf")]
    assert [(e["code"], e["locator"], e["item_id"]) for e in report] == [("encrypted", "", items[0]["id"])]
    assert _search(services, settings, "lungwort", custodian) == []
    assert [h["id"] for h in _search(services, settings, "locked.pdf", custodian)] == [items[0]["id"]]


def test_text_formats_are_searchable_documents(services, settings, ingest_files, tmp_path):
    files = {
        "notes.txt": "plain notes about bladderwrack\n",
        "page.html": "<html><head><script>var hidden='scriptword'</script></head><body><p>page about eelgrass</p></body></html>",
        "meeting.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Review of knotweed\r\n"
                       "DTSTART:20200301T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "person.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Petra Sundew\r\nEMAIL:petra@example.org\r\nEND:VCARD\r\n",
        "letter.rtf": r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard letter about samphire\par}",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    custodian = _custodian()
    summary, report = ingest_files([tmp_path / name for name in files], custodian=custodian)

    assert report == []
    assert summary.items_by_kind == {"document": len(files)}
    for word, name in [("bladderwrack", "notes.txt"), ("eelgrass", "page.html"), ("knotweed", "meeting.ics"),
                       ("sundew", "person.vcf"), ("samphire", "letter.rtf")]:
        assert [h["file_name"] for h in _search(services, settings, word, custodian)] == [name], word
    assert _search(services, settings, "scriptword", custodian) == []


def test_empty_and_unidentifiable_files_are_reported(services, settings, ingest_files, tmp_path):
    (tmp_path / "empty.docx").write_bytes(b"")
    (tmp_path / "blob.xyz").write_bytes(b"\x00\x01\x02\x03 binary junk \xff\xfe")
    custodian = _custodian()
    summary, report = ingest_files([tmp_path / "empty.docx", tmp_path / "blob.xyz"], custodian=custodian)

    by_file = {Path(e["source_path"]).name: e for e in report}
    assert by_file["empty.docx"]["code"] == "empty"
    assert by_file["blob.xyz"]["code"] == "no_text"  # still an item: its name is searchable
    assert [i["file_name"] for i in _items(services, settings, custodian)] == ["blob.xyz"]
    assert len(report) == 2


def _pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for _ in range(40):
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_cut_short_pdf_and_docx_are_indexed_and_reported_corrupt(services, settings, ingest_files, tmp_path):
    pdf, word = _pdf_bytes("a report about cloudberry"), docx_bytes("a memo about lingonberry " * 200)
    (tmp_path / "cut.pdf").write_bytes(pdf[:int(len(pdf) * 0.9)])
    (tmp_path / "cut.docx").write_bytes(word[:int(len(word) * 0.9)])
    (tmp_path / "whole.pdf").write_bytes(_pdf_bytes("a whole report about crowberry"))
    custodian = _custodian()
    summary, report = ingest_files([tmp_path / n for n in ("cut.pdf", "cut.docx", "whole.pdf")], custodian=custodian)

    corrupt = {Path(e["source_path"]).name: e["reason"] for e in report if e["code"] == "corrupt"}
    assert set(corrupt) == {"cut.pdf", "cut.docx"}
    assert "truncated" in corrupt["cut.pdf"] and "truncated" in corrupt["cut.docx"]
    by_name = {i["file_name"]: i for i in _items(services, settings, custodian) if i["locator"] == ""}
    assert by_name["cut.pdf"]["extraction"] == "partial" and by_name["whole.pdf"]["extraction"] == "ok"


def test_pdf_named_as_an_email_or_mailbox_is_read_as_a_pdf(services, settings, ingest_files, tmp_path):
    for suffix in ("eml", "mbox", "pst"):
        path = tmp_path / f"report.{suffix}"
        path.write_bytes(_pdf_bytes(f"a report about bilberry{suffix}"))
        assert choose(path, path.read_bytes()[:4096]) is document
    custodian = _custodian()
    summary, report = ingest_files(sorted(tmp_path.iterdir()), custodian=custodian)

    assert report == []
    for suffix in ("eml", "mbox", "pst"):
        assert [h["file_name"] for h in _search(services, settings, f"bilberry{suffix}", custodian)] == [f"report.{suffix}"]
