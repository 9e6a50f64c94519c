"""Each reader's last line of defence, forced: when reading one message, item or attachment raises
(a parser bug on hostile input), that one thing is in the exception report as `reader_error` with
its locator, and everything else in the file is still indexed. Real input does not make these
branches run (that would be a bug of its own), so the tests make one call fail on purpose.
Outlook .msg's branches are tested in test_msg.py."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from pathlib import Path

from indexer.sources import eml, maildir, mbox, pst
from indexer.sources.support import mime

DIST_LIST = Path(__file__).resolve().parents[2] / "data" / "pst" / "javalibpst-dist-list.pst"  # tests/data/MANIFEST.md


class ParserBug(Exception):
    """What a reader's parser raises in these tests."""


def _failing_at(real, locator_of, bad: str):
    """`real`, raising ParserBug when called for the message or item at locator `bad`."""
    def wrapper(*args, **kwargs):
        if locator_of(*args, **kwargs) == bad:
            raise ParserBug(f"forced failure at {bad}")
        return real(*args, **kwargs)
    return wrapper


def _message(subject: str, attachments: tuple[tuple[str, bytes], ...] = ()) -> bytes:
    message = EmailMessage()
    message["From"] = "Fay Official <fay@dept.gov.uk>"
    message["To"] = "gus@dept.gov.uk"
    message["Subject"] = subject
    message["Date"] = "Thu, 05 Mar 2020 11:00:00 +0000"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@dept.gov.uk>"
    message.set_content(f"{subject} mentions pipitvale.")
    for name, data in attachments:
        message.add_attachment(data, maintype="text", subtype="plain", filename=name)
    return message.as_bytes()


def _indexed(services, settings, custodian: str) -> dict[str, dict]:
    hits = services.search(index=settings.items_alias, body={"query": {"term": {"custodian": custodian}}, "size": 100})
    return {hit["_source"]["locator"]: hit["_source"] for hit in hits["hits"]["hits"]}


def _ingest(ingest_files, path: Path) -> tuple[str, list[dict]]:
    custodian = f"Failure Tester {uuid.uuid4().hex[:8]}"
    _, report = ingest_files([path], custodian=custodian)
    return custodian, report


def _reader_errors(report: list[dict]) -> list[tuple[str, str]]:
    return [(e["locator"], e["reason"]) for e in report if e["code"] == "reader_error"]


def test_a_message_that_breaks_the_mbox_reader_is_reported_and_the_rest_indexed(services, settings, ingest_files, tmp_path, monkeypatch):
    box = tmp_path / "inbox.mbox"
    box.write_bytes(b"".join(b"From fay@dept.gov.uk Thu Mar  5 11:00:00 2020\n" + _message(f"Message {n}") + b"\n"
                             for n in (1, 2, 3)))
    monkeypatch.setattr(mbox, "message_items", _failing_at(mbox.message_items, lambda msg, ctx, locator: locator, "message[2]"))
    custodian, report = _ingest(ingest_files, box)
    assert _reader_errors(report) == [("message[2]", "ParserBug: forced failure at message[2]")]
    assert len(report) == 1
    assert sorted(_indexed(services, settings, custodian)) == ["message[1]", "message[3]"]


def test_a_message_that_breaks_the_maildir_reader_is_reported_and_the_rest_indexed(services, settings, ingest_files, tmp_path, monkeypatch):
    folder = tmp_path / "Mail"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    for n in (1, 2, 3):
        (folder / "cur" / f"158340{n}.M{n}P1.host:2,S").write_bytes(_message(f"Message {n}"))
    monkeypatch.setattr(maildir, "message_items", _failing_at(maildir.message_items, lambda msg, ctx, locator: locator,
                                                              "Mail/1583402.M2P1.host"))
    custodian, report = _ingest(ingest_files, folder)
    assert _reader_errors(report) == [("Mail/1583402.M2P1.host", "ParserBug: forced failure at Mail/1583402.M2P1.host")]
    assert len(report) == 1
    assert sorted(_indexed(services, settings, custodian)) == ["Mail/1583401.M1P1.host", "Mail/1583403.M3P1.host"]


def test_an_item_that_breaks_the_pst_reader_is_reported_and_the_rest_indexed(services, settings, ingest_files, monkeypatch):
    monkeypatch.setattr(pst, "_card_item", _failing_at(pst._card_item, lambda text, suffix, locator, ctx: locator,
                                                       "Personal Folders/Calendar/1"))
    custodian, report = _ingest(ingest_files, DIST_LIST)
    assert _reader_errors(report) == [("Personal Folders/Calendar/1", "ParserBug: forced failure at Personal Folders/Calendar/1")]
    assert sorted(_indexed(services, settings, custodian)) == ["Personal Folders/Contacts/1"]


def test_an_attachment_that_breaks_the_mime_reader_is_reported_and_the_email_indexed(services, settings, ingest_files, tmp_path, monkeypatch):
    path = tmp_path / "two-annexes.eml"
    path.write_bytes(_message("Two annexes", (("first.txt", b"first annex"), ("second.txt", b"second annex"))))
    monkeypatch.setattr(mime, "member_items", _failing_at(mime.member_items, lambda member, *rest, **kw: member.name, "first.txt"))
    custodian, report = _ingest(ingest_files, path)
    assert _reader_errors(report) == [("/attachment[1]", "attachment 'first.txt' could not be read: ParserBug: forced failure at first.txt")]
    items = _indexed(services, settings, custodian)
    assert sorted(items) == ["", "/attachment[2]"]
    assert items[""]["attachment_names"] == ["first.txt", "second.txt"]  # the unread one is still named on the email
    assert any("'first.txt' could not be read" in p for p in items[""]["problems"])


def test_a_reader_that_raises_on_a_file_is_reported_and_the_run_goes_on(services, settings, ingest_files, tmp_path, monkeypatch):
    (tmp_path / "broken.eml").write_bytes(_message("Broken"))
    (tmp_path / "fine.mbox").write_bytes(b"From fay@dept.gov.uk Thu Mar  5 11:00:00 2020\n" + _message("Fine") + b"\n")

    def failing_read(path, ctx):
        raise ParserBug(f"forced failure reading {path.name}")
        yield  # a generator, as readers are

    monkeypatch.setattr(eml, "read", failing_read)
    custodian = f"Failure Tester {uuid.uuid4().hex[:8]}"
    _, report = ingest_files([tmp_path / "broken.eml", tmp_path / "fine.mbox"], custodian=custodian)
    assert [(Path(e["source_path"]).name, e["code"], e["locator"], e["reason"]) for e in report] == [
        ("broken.eml", "reader_error", "", "ParserBug: forced failure reading broken.eml")]
    assert [i["subject"] for i in _indexed(services, settings, custodian).values()] == ["Fine"]
