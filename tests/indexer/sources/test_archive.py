"""ZIP and 7z archives: members as child items, nested archives, and hostile input (zip bombs,
deep nesting, path traversal, encryption, truncation, too many members) reported while the good
content in the same batch stays searchable."""

from __future__ import annotations

import io
import random
import shutil
import uuid
import zipfile
from email.message import EmailMessage
from pathlib import Path

import docx
import py7zr
import pyzipper
from fpdf import FPDF

from builders.outlook import TO, Message, msg_bytes
from indexer.pipeline import custody_for, run_ingest
from indexer.report import read_report
from indexer.sources import archive, choose, document
from search_api.search import SearchRequest, run_search

NESTED_WORDS = ["level1alder", "level2birch", "level3cedar", "level4damson", "level5elder", "level6fir", "level7gorse"]


def _custodian() -> str:
    return f"Archive Tester {uuid.uuid4().hex[:8]}"


def _items(services, settings, custodian: str) -> dict[str, dict]:
    """Every indexed item of `custodian`, by (file name of its source, locator)."""
    hits = services.search(index=settings.items_alias, body={
        "query": {"term": {"custodian": custodian}}, "size": 500})["hits"]["hits"]
    return {(Path(h["_source"]["source_path"]).name, h["_source"]["locator"]): h["_source"] for h in hits}


def _search(services, settings, q: str, custodian: str) -> list[dict]:
    return run_search(services, settings.items_alias, SearchRequest(q=q, custodian=[custodian], size=50))["hits"]


def docx_bytes(text: str) -> bytes:
    document_ = docx.Document()
    document_.add_paragraph(text)
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


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as handle:
        for name, data in members.items():
            handle.writestr(name, data)
    return buffer.getvalue()


def _nested_zips(depth: int) -> bytes:
    """A zip holding a text and the next zip, `depth` archives in all (the outermost included)."""
    data = _zip({"level7.txt": f"innermost {NESTED_WORDS[depth - 1]}".encode()})
    for level in range(depth - 1, 0, -1):
        data = _zip({f"level{level}.txt": f"words {NESTED_WORDS[level - 1]}".encode(), f"level{level + 1}.zip": data})
    return data


def _sevenzip(members: dict[str, bytes], password: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w", password=password) as handle:
        for name, data in members.items():
            handle.writestr(data, name)
    return buffer.getvalue()


def _encrypted_zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as handle:
        handle.setpassword(b"letmein")
        handle.writestr(name, data)
    return buffer.getvalue()


def test_zip_members_are_children_of_the_archive_item(services, settings, ingest_files, tmp_path):
    path = tmp_path / "bundle.zip"
    path.write_bytes(_zip({
        "docs/report.docx": docx_bytes("the report covers mugwort"),
        "notes.txt": b"notes about tansy",
        "docs/": b"",
        "inner.zip": _zip({"deep.txt": b"deep text about yarrow"}),
    }))
    assert choose(path, path.read_bytes()[:4096]) is archive
    custodian = _custodian()
    summary, report = ingest_files([path], custodian=custodian)

    items = _items(services, settings, custodian)
    assert sorted(locator for _, locator in items) == [
        "", "docs/report.docx", "docs/report.docx!/thumbnail.jpeg", "inner.zip", "inner.zip!/deep.txt", "notes.txt"]
    top = items["bundle.zip", ""]
    assert (top["kind"], top["channel"], top["file_name"], top["content_type"]) == ("document", "file", "bundle.zip", "application/zip")
    assert top["body"].splitlines() == ["docs/report.docx", "notes.txt", "inner.zip"]
    report_docx, inner, deep = items["bundle.zip", "docs/report.docx"], items["bundle.zip", "inner.zip"], items["bundle.zip", "inner.zip!/deep.txt"]
    assert (report_docx["kind"], report_docx["file_name"], report_docx["parent_id"], report_docx["depth"]) == ("attachment", "report.docx", top["id"], 1)
    assert (inner["parent_id"], inner["depth"], inner["body"]) == (top["id"], 1, "deep.txt")
    assert (deep["parent_id"], deep["family_id"], deep["depth"]) == (inner["id"], top["id"], 2)
    assert {i["family_id"] for i in items.values()} == {top["id"]}
    for word, locator in [("mugwort", "docs/report.docx"), ("tansy", "notes.txt"), ("yarrow", "inner.zip!/deep.txt")]:
        assert [h["id"] for h in _search(services, settings, word, custodian)] == [items["bundle.zip", locator]["id"]]
    assert {e["code"] for e in report} <= {"no_text"}  # only the docx thumbnail, which has no text


def test_messages_in_a_zip_are_read_as_emails(services, settings, ingest_files, tmp_path):
    """An .eml (here with an mbox envelope line, as mail exported one message per file often has) and a
    .msg inside a zip go through the email readers: email items with fields and their own attachments."""
    message = EmailMessage()
    message["From"] = "Ann Official <ann@dept.gov.uk>"
    message["To"] = "bob@dept.gov.uk"
    message["Subject"] = "Zipped minutes"
    message["Date"] = "Tue, 03 Mar 2020 10:00:00 +0000"
    message["Message-ID"] = "<zipped-1@dept.gov.uk>"
    message.set_content("The zipped message mentions sorrelwick.")
    message.add_attachment(docx_bytes("the annex mentions burdockfen"), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename="annex.docx")
    path = tmp_path / "export.zip"
    path.write_bytes(_zip({"mail/minutes.eml": b"From ann@dept.gov.uk Tue Mar  3 10:00:00 2020\n" + message.as_bytes(),
                           "mail/test.msg": msg_bytes(Message(subject="MSG Test File", recipients=[
                               (TO, "Time2Talk", "time2talk@online-convert.com")]))}))
    custodian = _custodian()
    _, report = ingest_files([path], custodian=custodian)

    items = _items(services, settings, custodian)
    top, eml, msg = items["export.zip", ""], items["export.zip", "mail/minutes.eml"], items["export.zip", "mail/test.msg"]
    annex = items["export.zip", "mail/minutes.eml/attachment[1]"]
    assert (eml["kind"], eml["subject"], eml["from"]["address"], eml["date"]) == ("email", "Zipped minutes", "ann@dept.gov.uk", "2020-03-03T10:00:00Z")
    assert (eml["parent_id"], eml["family_id"], eml["file_name"], eml["message_id"]) == (top["id"], top["id"], "minutes.eml", "<zipped-1@dept.gov.uk>")
    assert eml["body"] == "The zipped message mentions sorrelwick."
    assert (annex["kind"], annex["parent_id"], annex["family_id"], annex["depth"]) == ("attachment", eml["id"], top["id"], 2)
    assert (msg["kind"], msg["subject"], msg["parent_id"]) == ("email", "MSG Test File", top["id"])
    assert [a["address"] for a in msg["to"]] == ["time2talk@online-convert.com"]
    assert [h["id"] for h in _search(services, settings, "burdockfen", custodian)] == [annex["id"]]
    assert not [e for e in report if e["code"] in ("corrupt", "reader_error")]


def test_a_zip_attached_to_an_email_is_opened_and_its_message_read(services, settings, ingest_files, tmp_path):
    """The registry reads an email's zip attachment as it reads a top-level zip, and the .eml inside it
    as an email: the same readers at every level, not Tika's text of the whole zip."""
    inner = EmailMessage()
    inner["From"] = "Carol Jones <carol@dhsc.gov.uk>"
    inner["To"] = "dan@dhsc.gov.uk"
    inner["Subject"] = "Archived thread"
    inner["Date"] = "Mon, 02 Mar 2020 09:00:00 +0000"
    inner.set_content("The archived message mentions thistlecombe.")
    outer = EmailMessage()
    outer["From"] = "Ann Official <ann@dept.gov.uk>"
    outer["To"] = "bob@dept.gov.uk"
    outer["Subject"] = "The old mail, zipped"
    outer["Date"] = "Tue, 03 Mar 2020 10:00:00 +0000"
    outer.set_content("Zipped as asked.")
    outer.add_attachment(_zip({"old/thread.eml": inner.as_bytes(), "old/notes.txt": b"notes mention brackenholt"}),
                         maintype="application", subtype="zip", filename="old-mail.zip")
    path = tmp_path / "outer.eml"
    path.write_bytes(outer.as_bytes())
    custodian = _custodian()
    _, report = ingest_files([path], custodian=custodian)

    items = _items(services, settings, custodian)
    email, zipped = items["outer.eml", ""], items["outer.eml", "/attachment[1]"]
    thread, notes = items["outer.eml", "/attachment[1]!/old/thread.eml"], items["outer.eml", "/attachment[1]!/old/notes.txt"]
    assert (zipped["kind"], zipped["file_name"], zipped["parent_id"], zipped["content_type"]) == (
        "attachment", "old-mail.zip", email["id"], "application/zip")
    assert zipped["body"].splitlines() == ["old/thread.eml", "old/notes.txt"]
    assert (thread["kind"], thread["subject"], thread["from"]["address"], thread["date"]) == (
        "email", "Archived thread", "carol@dhsc.gov.uk", "2020-03-02T09:00:00Z")
    assert (thread["parent_id"], thread["family_id"], thread["depth"]) == (zipped["id"], email["id"], 2)
    assert (notes["parent_id"], notes["family_id"]) == (zipped["id"], email["id"])
    assert [h["id"] for h in _search(services, settings, "thistlecombe", custodian)] == [thread["id"]]
    assert [h["id"] for h in _search(services, settings, "brackenholt", custodian)] == [notes["id"]]
    assert report == []


def test_zip_based_documents_are_not_archives(tmp_path):
    path = tmp_path / "letter.docx"
    path.write_bytes(docx_bytes("a letter"))
    assert choose(path, path.read_bytes()[:4096]) is document
    misnamed = tmp_path / "letter.zip"
    shutil.copy(path, misnamed)
    assert choose(misnamed, misnamed.read_bytes()[:4096]) is document


def test_hostile_batch_is_reported_and_good_content_stays_searchable(services, settings, ingest_files, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "bomb.zip").write_bytes(_zip({"zeros.bin": b"\0" * (50 * 1024 * 1024), "readme.txt": b"readme about comfrey"}))
    (batch / "nested.zip").write_bytes(_nested_zips(7))
    (batch / "traversal.zip").write_bytes(_zip({"../../evil.txt": b"escaped text about hemlock", "ok.txt": b"fine"}))
    (batch / "locked.zip").write_bytes(_encrypted_zip("secret.txt", b"secret text about foxglove"))
    whole = _zip({"first.txt": b"first member about sorrel", "second.txt": b"second member about chicory",
                  "third.txt": b"third member about borage " * 200})
    (batch / "truncated.zip").write_bytes(whole[: whole.index(b"PK\x03\x04", whole.index(b"second.txt")) + 40])
    (batch / "bundle.7z").write_bytes(_sevenzip({"annex.docx": docx_bytes("the annex mentions pennyroyal")}))
    (batch / "locked.pdf").write_bytes(encrypted_pdf_bytes("hidden pdf words"))
    (batch / "really-a-docx.pdf").write_bytes(docx_bytes("mislabelled file about vervain"))
    (batch / "empty.zip").write_bytes(b"")
    (batch / "good.txt").write_text("a good plain file about lovage")
    custodian = _custodian()
    summary, report = ingest_files([batch], custodian=custodian)
    problems = {}
    for entry in report:
        problems.setdefault(Path(entry["source_path"]).name, []).append((entry["code"], entry["locator"]))
    items = _items(services, settings, custodian)

    assert summary.files == 10
    # Zip bomb: the member is refused before reading, the archive's other member is indexed.
    assert problems["bomb.zip"] == [("too_large", "zeros.bin")]
    assert items["bomb.zip", "zeros.bin"]["extraction"] == "failed"
    assert items["bomb.zip", "zeros.bin"]["size"] == 50 * 1024 * 1024
    assert "ratio" in next(e["reason"] for e in report if e["locator"] == "zeros.bin")
    # Nesting: five archive levels are read, the sixth archive is an item but not opened.
    sixth = "level2.zip!/level3.zip!/level4.zip!/level5.zip!/level6.zip"
    assert problems["nested.zip"] == [("too_large", sixth)]
    assert items["nested.zip", sixth]["extraction"] == "failed"
    for level, word in enumerate(NESTED_WORDS[:5], start=1):
        assert len(_search(services, settings, word, custodian)) == 1, word
    assert _search(services, settings, NESTED_WORDS[5], custodian) == []
    # Traversal: reported, and the content (read in memory only) is searchable.
    assert problems["traversal.zip"] == [("unsafe_path", "../../evil.txt")]
    assert [h["file_name"] for h in _search(services, settings, "hemlock", custodian)] == ["evil.txt"]
    assert not (tmp_path / "evil.txt").exists() and not (batch.parent.parent / "evil.txt").exists()
    # Encrypted member: an item with its name, not its text.
    assert problems["locked.zip"] == [("encrypted", "secret.txt")]
    assert items["locked.zip", "secret.txt"]["extraction"] == "failed"
    assert _search(services, settings, "foxglove", custodian) == []
    # Truncated: the archive is reported corrupt; the complete member before the cut is indexed.
    assert ("corrupt", "") in problems["truncated.zip"]
    assert len(_search(services, settings, "sorrel", custodian)) == 1
    assert _search(services, settings, "borage", custodian) == []
    # 7z with a DOCX: the DOCX text is found, a child of the 7z item.
    annex = _search(services, settings, "pennyroyal", custodian)
    assert [(h["file_name"], h["parent_id"]) for h in annex] == [("annex.docx", items["bundle.7z", ""]["id"])]
    assert items["bundle.7z", ""]["content_type"] == "application/x-7z-compressed"
    # Encrypted PDF, mislabelled DOCX, empty file, good file.
    assert problems["locked.pdf"] == [("encrypted", "")]
    assert "really-a-docx.pdf" not in [name for name, codes in problems.items() if any(c != "no_text" for c, _ in codes)]
    assert [h["file_name"] for h in _search(services, settings, "vervain", custodian)] == ["really-a-docx.pdf"]
    assert problems["empty.zip"] == [("empty", "")]
    assert [h["file_name"] for h in _search(services, settings, "lovage", custodian)] == ["good.txt"]
    assert [h["file_name"] for h in _search(services, settings, "comfrey", custodian)] == ["readme.txt"]


def test_truncated_zip_reason_says_what_was_read(services, settings, ingest_files, tmp_path):
    noise = random.Random(4).randbytes(3000).hex().encode()  # does not compress away: the cut lands in it
    whole = _zip({"a.txt": b"alpha text about rue", "b.txt": b"bravo text about woad " + noise})
    path = tmp_path / "cut.zip"
    path.write_bytes(whole[: whole.index(b"b.txt") + 60])
    custodian = _custodian()
    summary, report = ingest_files([path], custodian=custodian)

    assert [(e["code"], e["locator"]) for e in report] == [("corrupt", ""), ("corrupt", "")]
    assert "central directory" in report[0]["reason"]
    assert "after 1 complete member" in report[1]["reason"]
    top = _items(services, settings, custodian)["cut.zip", ""]
    assert top["extraction"] == "partial" and top["body"] == "a.txt"
    assert len(top["problems"]) == 2


def test_encrypted_7z_is_reported(services, settings, ingest_files, tmp_path):
    path = tmp_path / "locked.7z"
    path.write_bytes(_sevenzip({"plan.txt": b"plan about agrimony"}, password="letmein"))
    custodian = _custodian()
    summary, report = ingest_files([path], custodian=custodian)

    assert [(e["code"], e["locator"]) for e in report] == [("encrypted", "plan.txt")]
    items = _items(services, settings, custodian)
    assert items["locked.7z", "plan.txt"]["extraction"] == "failed"
    assert _search(services, settings, "agrimony", custodian) == []


def test_archive_limits_come_from_settings(services, settings, tmp_path):
    path = tmp_path / "many.zip"
    path.write_bytes(_zip({f"file{n}.txt": f"member {n} about woodruff".encode() for n in range(5)}))
    big = tmp_path / "big.7z"
    big.write_bytes(_sevenzip({"small.txt": b"small about chervil", "large.txt": b"large about lovage " * 1000}))
    custodian = _custodian()
    strict = settings.model_copy(update={"max_archive_members": 3, "max_expanded_bytes": 5000})
    report_path = tmp_path / "report.jsonl"
    run_ingest(strict, [path, big], custody_for(strict, custodian, None, "private", "limits"), report_path)
    report = read_report(report_path)

    assert len(_search(services, settings, "woodruff", custodian)) == 3
    many = [e for e in report if e["source_path"].endswith("many.zip")]
    assert [(e["code"], e["locator"]) for e in many] == [("too_large", "")]
    assert "more than 3 members" in many[0]["reason"]
    sevenzip = [(e["code"], e["locator"]) for e in report if e["source_path"].endswith("big.7z")]
    assert sevenzip == [("too_large", "large.txt")]
    assert len(_search(services, settings, "chervil", custodian)) == 1


def test_member_with_an_empty_name_is_indexed_not_a_crash(services, settings, ingest_files, tmp_path):
    from bench.hostile.archives import raw_zip, stored  # zipfile cannot write an empty member name

    path = tmp_path / "empty-name.zip"
    path.write_bytes(raw_zip([stored(b"readme.txt", b"a note about juniper\n"), stored(b"", b"nameless text about tamarisk\n")]))
    custodian = _custodian()
    summary, report = ingest_files([path], custodian=custodian)

    assert [e for e in report if e["code"] == "reader_error"] == []
    assert {locator for _, locator in _items(services, settings, custodian)} == {"", "readme.txt", "(unnamed member)"}
    assert len(_search(services, settings, "tamarisk", custodian)) == 1


def test_members_sharing_a_name_are_all_indexed(services, settings, ingest_files, tmp_path):
    from bench.hostile.archives import raw_zip, stored

    path = tmp_path / "twins.zip"
    path.write_bytes(raw_zip([stored(b"a.txt", b"first copy about quince\n"), stored(b"a.txt", b"second copy about medlar\n")]))
    custodian = _custodian()
    ingest_files([path], custodian=custodian)

    assert {locator for _, locator in _items(services, settings, custodian)} == {"", "a.txt", "a.txt (2)"}
    assert len(_search(services, settings, "quince", custodian)) == 1 and len(_search(services, settings, "medlar", custodian)) == 1


def test_archives_inside_emails_inside_an_archive_share_one_budget(tmp_path, source_context):
    """zip → eml → zip: the inner zip draws on the top-level zip's member limit, not a fresh one."""
    from indexer.model import Item, Problem
    from indexer.sources.base import Limits

    inner_zip = _zip({f"inner{n}.txt": f"inner note {n}".encode() for n in range(3)})
    message = EmailMessage()
    message["From"] = "Ann Official <ann@dept.gov.uk>"
    message["Subject"] = "Zipped notes"
    message.set_content("The notes, zipped.")
    message.add_attachment(inner_zip, maintype="application", subtype="zip", filename="notes.zip")
    path = tmp_path / "outer.zip"
    path.write_bytes(_zip({"mail.eml": message.as_bytes(), "a.txt": b"outer a", "b.txt": b"outer b"}))

    produced = list(archive.read(path, source_context(path, "Budget Tester", limits=Limits(max_archive_members=4))))
    names = [p.file_name for p in produced if isinstance(p, Item)]
    too_large = [p for p in produced if isinstance(p, Problem) and p.code == "too_large"]
    # mail.eml and its zip's three members use up the four; the outer zip's next members are refused
    assert [n for n in names if n and n.endswith(".txt")] == ["inner0.txt", "inner1.txt", "inner2.txt"]
    assert any("more than 4 members" in p.reason for p in too_large)
