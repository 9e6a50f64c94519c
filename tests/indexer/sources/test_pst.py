"""Outlook PST stores through readpst: the real java-libpst samples kept in tests/data (contacts, an appointment, a
distribution list, a password), a truncated copy, a file that only claims to be a PST, and the
conversion of readpst's email output (RFC 822 files) into email items."""

from __future__ import annotations

import base64
import io
import shutil
import uuid
from email.message import EmailMessage
from pathlib import Path

import docx

from indexer.digests import file_sha256
from indexer.extract import TikaExtractor
from indexer.model import Custody, Item, Problem
from indexer.sources import choose, pst
from indexer.sources.support.readpst_output import RTF_BODY_NAME
from indexer.sources.base import Limits, SourceContext
from search_api.search import SearchRequest, run_search

# No library writes PST files, so two small real stores are kept in the repository (tests/data/MANIFEST.md).
DATA = Path(__file__).resolve().parents[2] / "data"
DIST_LIST = "pst/javalibpst-dist-list.pst"
PASSWORDED = "pst/javalibpst-passworded.pst"


def _custodian() -> str:
    return f"PST Tester {uuid.uuid4().hex[:8]}"


def _items(services, settings, custodian: str) -> dict[str, dict]:
    """Every indexed item of `custodian`, by locator."""
    hits = services.search(index=settings.items_alias, body={
        "query": {"term": {"custodian": custodian}}, "size": 500})["hits"]["hits"]
    return {hit["_source"]["locator"]: hit["_source"] for hit in hits}


def _search(services, settings, q: str, custodian: str) -> list[dict]:
    return run_search(services, settings.items_alias, SearchRequest(q=q, custodian=[custodian], size=50))["hits"]


def _read_output(settings, out: Path, store: Path, digest_of: Path) -> tuple[dict[str, Item], list[Problem]]:
    """readpst's output folder `out` read as the store `store` would be: (items by locator, problems)."""
    extractor = TikaExtractor(settings.effective_tika_url)
    ctx = SourceContext(str(store), file_sha256(digest_of), Custody("PST Tester", "official"), extractor, Limits())
    try:
        produced = list(pst.output_items(out, ctx))
    finally:
        extractor.close()
    return {i.locator: i for i in produced if isinstance(i, Item)}, [p for p in produced if isinstance(p, Problem)]


def test_pst_is_chosen_by_its_signature(tmp_path):
    renamed = tmp_path / "mailbox.bin"
    shutil.copy(DATA / DIST_LIST, renamed)
    assert choose(renamed, renamed.read_bytes()[:4096]) is pst


def test_contact_and_appointment_are_indexed_with_folder_locators(services, settings, ingest_files):
    custodian = _custodian()
    summary, report = ingest_files([DATA / DIST_LIST], custodian=custodian)

    assert summary.files == 1
    assert dict(summary.items_by_kind) == {"document": 2}
    items = _items(services, settings, custodian)
    assert set(items) == {"Personal Folders/Calendar/1", "Personal Folders/Contacts/1"}

    appointment = items["Personal Folders/Calendar/1"]
    assert appointment["subject"] == "Test appointment"
    assert appointment["date"] == "2016-08-02T15:00:00Z"
    assert appointment["channel"] == "email"
    assert appointment["content_type"] == "text/calendar"
    assert "This is a complete test" in appointment["body"]
    assert "DTSTAMP" not in appointment["body"]  # readpst's run time, not evidence

    contact = items["Personal Folders/Contacts/1"]
    assert contact["subject"] == "1, contact name"
    assert contact["content_type"] == "text/vcard"
    assert "contact1@rjohnson.id.au" in contact["body"]
    assert [h["id"] for h in _search(services, settings, "contact1@rjohnson.id.au", custodian)] == [contact["id"]]

    # The distribution list is the one item readpst cannot convert: reported against its folder.
    assert [(e["code"], e["locator"]) for e in report] == [("unsupported", "Personal Folders/Contacts")]
    assert "skipped 1 item" in report[0]["reason"]
    assert report[0]["source_path"] == str((DATA / DIST_LIST).resolve())


def test_password_protected_pst_is_read_not_skipped(services, settings, ingest_files):
    custodian = _custodian()
    summary, report = ingest_files([DATA / PASSWORDED], custodian=custodian)

    # A PST password is a checksum readpst ignores: the store's contact is indexed.
    assert dict(summary.items_by_kind) == {"document": 1}
    items = _items(services, settings, custodian)
    assert list(items) == ["Personal Folders/Contacts/1"]
    assert items["Personal Folders/Contacts/1"]["subject"] == "1, contact name"
    assert not [e for e in report if e["code"] == "encrypted"]
    # Hidden folder settings (Inbox, Calendar) and the distribution list are counted, not dropped.
    skipped = {e["locator"]: e["reason"] for e in report if e["code"] == "unsupported"}
    assert set(skipped) == {"Personal Folders/Inbox", "Personal Folders/Calendar", "Personal Folders/Contacts"}
    assert "skipped 4 item" in skipped["Personal Folders/Inbox"]
    assert "skipped 4 item" in skipped["Personal Folders/Calendar"]
    assert len(report) == 3


def test_truncated_pst_is_reported_and_what_remains_is_indexed(services, settings, ingest_files, tmp_path):
    cut = tmp_path / "cut.pst"
    cut.write_bytes((DATA / DIST_LIST).read_bytes()[:131072])
    custodian = _custodian()
    summary, report = ingest_files([cut], custodian=custodian)

    assert list(_items(services, settings, custodian)) == ["Personal Folders/Contacts/1"]
    truncated = [e for e in report if e["locator"] == ""]
    assert [e["code"] for e in truncated] == ["corrupt"]
    assert "truncated" in truncated[0]["reason"]
    assert "271360 bytes" in truncated[0]["reason"] and "131072" in truncated[0]["reason"]


def test_pst_cut_before_its_folders_is_reported_as_corrupt(services, settings, ingest_files, tmp_path):
    cut = tmp_path / "header-only.pst"
    cut.write_bytes((DATA / DIST_LIST).read_bytes()[:4096])
    custodian = _custodian()
    summary, report = ingest_files([cut], custodian=custodian)

    assert summary.items == 0
    assert sorted(e["code"] for e in report) == ["corrupt", "corrupt"]
    assert all(e["locator"] == "" for e in report)
    reasons = " ".join(e["reason"] for e in report)
    assert "truncated" in reasons and "readpst failed" in reasons


def test_file_that_only_claims_to_be_a_pst_is_reported(services, settings, ingest_files, tmp_path):
    fake = tmp_path / "mailbox.pst"
    fake.write_text("not a store at all")
    summary, report = ingest_files([fake], custodian=_custodian())

    assert summary.items == 0
    assert [(e["code"], e["locator"]) for e in report] == [("corrupt", "")]
    assert "'!BDN' header" in report[0]["reason"]


def _readpst_email(subject: str, body: str | None, rtf: bytes) -> bytes:
    """An email as `readpst -e` writes one: the RTF body attached as rtf-body.rtf."""
    message = EmailMessage()
    message["From"] = "Ann Official <ann@dept.gov.uk>"
    message["To"] = "bob@dept.gov.uk"
    message["Subject"] = subject
    message["Date"] = "Wed, 04 Mar 2020 09:30:00 +0000"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@dept.gov.uk>"
    if body is not None:
        message.set_content(body)
    else:
        message.make_mixed()
    message.add_attachment(rtf, maintype="application", subtype="rtf", filename=RTF_BODY_NAME)
    message.add_attachment(b"minutes mention heronsbill", maintype="text", subtype="plain", filename="minutes.txt")
    return message.as_bytes()


def test_readpst_email_output_becomes_email_items(services, settings, tmp_path):
    """The stores in the corpus hold no email, so readpst's email output is laid out here as it writes it."""
    out = tmp_path / "out"
    inbox = out / "Personal Folders" / "Inbox"
    inbox.mkdir(parents=True)
    rtf = rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard budget from the rtf body marshwort\par}"
    (inbox / "1.eml").write_bytes(_readpst_email("Plain and RTF", "the plain body says fenugreek", rtf))
    (inbox / "2.eml").write_bytes(_readpst_email("RTF only", None, rtf))
    (out / "Personal Folders" / "Inbox" / "Sub").mkdir()
    (out / "Personal Folders" / "Inbox" / "Sub" / "10.eml").write_bytes(_readpst_email("Deeper", "nested folder text", rtf))
    (inbox / "3.msg").write_bytes(b"\xd0\xcf\x11\xe0")
    items, problems = _read_output(settings, out, tmp_path / "store.pst", inbox / "1.eml")

    assert sorted(items) == ["Personal Folders/Inbox/1", "Personal Folders/Inbox/1/attachment[1]",
                             "Personal Folders/Inbox/2", "Personal Folders/Inbox/2/attachment[1]",
                             "Personal Folders/Inbox/Sub/10", "Personal Folders/Inbox/Sub/10/attachment[1]"]
    plain, rtf_only = items["Personal Folders/Inbox/1"], items["Personal Folders/Inbox/2"]
    assert plain.kind == "email" and plain.subject == "Plain and RTF"
    assert plain.body == "the plain body says fenugreek"
    assert plain.attachment_names == ["minutes.txt"]  # the RTF rendering of the same body is not an attachment
    assert "marshwort" in rtf_only.body  # with no other body, the RTF one is read
    assert rtf_only.attachment_names == ["minutes.txt"]
    attachment = items["Personal Folders/Inbox/2/attachment[1]"]
    assert attachment.parent_id == rtf_only.id and attachment.family_id == rtf_only.id
    assert "heronsbill" in attachment.body
    assert [(p.code, p.locator) for p in problems] == [("unsupported", "Personal Folders/Inbox/3")]


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


X500 = "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP (FYDIBOHF23SPDLT)/CN=RECIPIENTS/CN=JSMITH"


def _readpst_forward(figures_docx: bytes) -> bytes:
    """A forwarded-as-attachment message laid out byte for byte as readpst 0.6.76 writes it with -e
    (libpst src/readpst.c: write_normal_email, write_embedded_message, write_body_part,
    write_inline_attachment): LF line ends, LibPST boundaries, no envelope line on the item itself,
    and the embedded message opening with `>From "MAILER-DAEMON" <ctime>`. The embedded message has no
    transport headers, so readpst made its headers up: the sender's Exchange (X500) address is not
    SMTP, so `From:` says `<MAILER-DAEMON>` and the address goes to X-libpst-forensic-sender; `To:` is
    Outlook's display list (PR_DISPLAY_TO: names, and bare addresses in quotes, separated by ";"), and
    the Bcc names go to X-libpst-forensic-bcc. A second message/rfc822 part
    holds no message at all (damaged)."""
    outer, inner = "--boundary-LibPST-iamunique-1804289383_-_-", "--boundary-LibPST-iamunique-846930886_-_-"
    encoded = base64.encodebytes(figures_docx).decode()
    return (
        "Status: RO\n"
        "From: Ann Official <ann@dept.gov.uk>\n"
        "Subject: FW: Budget figures\n"
        "To: bob@dept.gov.uk\n"
        "Date: Thu, 26 Nov 2020 10:15:00 +0000\n"
        "Message-Id: <outer-1@dept.gov.uk>\n"
        "MIME-Version: 1.0\n"
        f"Content-Type: multipart/mixed;\n\tboundary=\"{outer}\"\n\n"
        f"\n--{outer}\n"
        "Content-Type: text/plain; charset=\"utf-8\"\n\n"
        "See the message below.\n\n"
        f"\n--{outer}\n"
        "Content-Type: message/rfc822\n\n"
        ">From \"MAILER-DAEMON\" Thu Nov 26 09:00:00 2020\n"
        "Status: RO\n"
        "From: Jane Smith <MAILER-DAEMON>\n"
        "Subject: Budget figures\n"
        "To: 'bob@dept.gov.uk'; Carol Smith\n"
        "Date: Thu, 26 Nov 2020 09:00:00 +0000\n"
        "Message-Id: <inner-1@dept.gov.uk>\n"
        f"X-libpst-forensic-sender: {X500}\n"
        "X-libpst-forensic-bcc: Dan Brown\n"
        "MIME-Version: 1.0\n"
        f"Content-Type: multipart/mixed;\n\tboundary=\"{inner}\"\n\n"
        f"\n--{inner}\n"
        "Content-Type: text/plain; charset=\"utf-8\"\n\n"
        "The figures are attached; the inner body mentions larchmere.\n\n"
        f"\n--{inner}\n"
        "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; \n        filename*=utf-8''figures.docx;\n        filename=\"figures.docx\"\n\n"
        f"{encoded}\n\n"
        f"\n--{inner}--\n\n"
        f"\n--{outer}\n"
        "Content-Type: message/rfc822\n\n"
        "\x00\x01\x02 not a message at all\n"
        f"\n--{outer}--\n\n"
    ).encode()


def test_readpst_embedded_message_becomes_an_email_with_its_own_attachments(services, settings, tmp_path):
    out = tmp_path / "out"
    inbox = out / "Personal Folders" / "Inbox"
    inbox.mkdir(parents=True)
    (inbox / "1.eml").write_bytes(_readpst_forward(docx_bytes("The spreadsheet total mentions quillmarsh.")))
    items, problems = _read_output(settings, out, tmp_path / "store.pst", inbox / "1.eml")

    outer = items["Personal Folders/Inbox/1"]
    embedded = items["Personal Folders/Inbox/1/attachment[1]"]
    figures = items["Personal Folders/Inbox/1/attachment[1]/attachment[1]"]
    assert (embedded.kind, embedded.parent_id, embedded.family_id, embedded.depth) == ("email", outer.id, outer.id, 1)
    assert embedded.subject == "Budget figures"
    assert embedded.body == "The figures are attached; the inner body mentions larchmere."
    assert embedded.sender is not None and embedded.sender.raw == f"Jane Smith <{X500}>"
    assert (embedded.sender.name, embedded.sender.address) == ("Jane Smith", None)  # never readpst's mailer-daemon
    assert [(a.raw, a.name, a.address) for a in embedded.to] == [("bob@dept.gov.uk", None, "bob@dept.gov.uk"),
                                                                 ("Carol Smith", "Carol Smith", None)]
    assert [(a.name, a.address) for a in embedded.bcc] == [("Dan Brown", None)]
    assert (embedded.date, embedded.message_id) == ("2020-11-26T09:00:00Z", "<inner-1@dept.gov.uk>")
    assert embedded.attachment_names == ["figures.docx"]
    assert (figures.kind, figures.parent_id, figures.family_id, figures.depth) == ("attachment", embedded.id, outer.id, 2)
    assert "quillmarsh" in figures.body
    assert "larchmere" not in outer.body and "From: Jane Smith" not in outer.body
    # The part that holds no message is still indexed (as a file) and reported.
    damaged = items["Personal Folders/Inbox/1/attachment[2]"]
    assert damaged.kind == "attachment" and damaged.extraction != "ok"
    reported = {p.code: p for p in problems if p.item_id == damaged.id}
    assert reported["corrupt"].locator == "Personal Folders/Inbox/1/attachment[2]"
    assert "no email headers" in reported["corrupt"].reason
    assert not [p for p in problems if p.item_id != damaged.id]
