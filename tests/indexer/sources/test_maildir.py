"""Maildir and Maildir++ folders, generated (no public sample in the corpora): folders and
locators, an attachment, broken, empty, unfinished and stray files, links, and stable ids
when a message is read or flagged between two collections."""

from __future__ import annotations

import io
import os
import uuid
from email.message import EmailMessage
from pathlib import Path

import docx

from indexer.sources import choose, maildir
from search_api.search import SearchRequest, run_search


def _custodian(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


def _docs(services, settings, custodian: str) -> list[dict]:
    response = services.search(index=settings.items_alias, body={
        "query": {"term": {"custodian": custodian}}, "size": 500, "sort": [{"locator": "asc"}]})
    return [hit["_source"] for hit in response["hits"]["hits"]]


def _message(subject: str, body: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Carol Jones <carol@dhsc.gov.uk>"
    message["To"] = "dan@dhsc.gov.uk"
    message["Subject"] = subject
    message["Date"] = "Sun, 01 Mar 2020 10:00:00 +0000"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@dhsc.gov.uk>"
    message.set_content(body)
    if attachment:
        name, data = attachment
        message.add_attachment(data, maintype="application",
                               subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename=name)
    return message.as_bytes()


def _docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _maildir(folder: Path) -> Path:
    for name in ("cur", "new", "tmp"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return folder


def _put(folder: Path, sub: str, name: str, data: bytes) -> Path:
    path = folder / sub / name
    path.write_bytes(data)
    return path


def _mailbox(root: Path, outside: Path) -> Path:
    """A Maildir++ tree as Dovecot keeps it: INBOX at the root, .Sent and .Archive.2020 beside it."""
    inbox = _maildir(root)
    _put(inbox, "cur", "1583056800.M1P1.host:2,S", _message("Read in the inbox", "The inbox note mentions kingfisherlane."))
    _put(inbox, "new", "1583060400.M2P1.host", _message("Unread in the inbox", "Still unread."))
    _put(inbox, "cur", "1583064000.M3P1.host:2,S", b"\x00\x01 this is not an email at all \xff\xfe")
    _put(inbox, "cur", "1583064001.M4P1.host:2,", b"")
    _put(inbox, "tmp", "1583064002.M5P1.host", b"Subject: half deliv")
    (inbox / "dovecot-uidlist").write_text("3 V1583056800 N8\n")
    (inbox / "dovecot.index.log").write_bytes(b"\x01\x02")
    (inbox / "notes.txt").write_text("someone's notes left in the mail folder")
    os.symlink(outside, inbox / "cur" / "1583064003.M6P1.host:2,S")
    sent = _maildir(root / ".Sent")
    (sent / "maildirfolder").write_bytes(b"")
    _put(sent, "cur", "1583067600.M7P1.host:2,S",
         _message("Sent with the annex", "Annex attached.", ("annex.docx", _docx("The annex mentions hawfinchmoor."))))
    archive = _maildir(root / ".Archive.2020")
    _put(archive, "cur", "1583071200.M8P1.host:2,RS", _message("Archived reply", "Archived text mentions siskinford."))
    return root


def test_maildir_plus_tree_is_read_whole_with_folder_locators(services, settings, ingest_files, tmp_path):
    outside = tmp_path / "outside.eml"
    outside.write_bytes(_message("Outside the maildir", "must not be read"))
    root = _mailbox(tmp_path / "Maildir", outside)
    custodian = _custodian("Maildir Reader")
    summary, report = ingest_files([root], custodian=custodian)

    assert summary.files == 1
    docs = _docs(services, settings, custodian)
    emails = [d for d in docs if d["kind"] == "email"]
    assert sorted(e["locator"] for e in emails) == [
        "Archive/2020/1583071200.M8P1.host", "INBOX/1583056800.M1P1.host", "INBOX/1583060400.M2P1.host", "Sent/1583067600.M7P1.host"]
    assert {e["source_path"] for e in docs} == {str(root.resolve())}
    assert summary.items_by_kind["email"] == 4

    sent = next(e for e in emails if e["locator"].startswith("Sent/"))
    annex = [d for d in docs if d["kind"] == "attachment" and d["depth"] == 1]
    assert [(a["file_name"], a["parent_id"], a["locator"]) for a in annex] == [
        ("annex.docx", sent["id"], "Sent/1583067600.M7P1.host/attachment[1]")]
    hits = run_search(services, settings.items_alias, SearchRequest(q="hawfinchmoor", custodian=[custodian]))["hits"]
    assert [h["file_name"] for h in hits] == ["annex.docx"]
    hits = run_search(services, settings.items_alias, SearchRequest(q="siskinford", custodian=[custodian]))["hits"]
    assert [h["subject"] for h in hits] == ["Archived reply"]

    assert sorted((e["code"], e["locator"]) for e in report) == [
        ("corrupt", "INBOX/1583064000.M3P1.host"),
        ("empty", "INBOX/1583064001.M4P1.host"),
        ("unsupported", "INBOX/1583064003.M6P1.host"),
        ("unsupported", "loose:notes.txt"),
        ("unsupported", "loose:tmp/1583064002.M5P1.host"),
    ]
    reasons = {e["locator"]: e["reason"] for e in report}
    assert reasons["INBOX/1583064003.M6P1.host"] == "symbolic link not followed"
    assert "unfinished delivery" in reasons["loose:tmp/1583064002.M5P1.host"]
    assert run_search(services, settings.items_alias, SearchRequest(q="\"must not be read\"", custodian=[custodian]))["total"] == 0


def test_reading_or_flagging_a_message_keeps_its_locator(services, settings, ingest_files, tmp_path):
    root = _maildir(tmp_path / "Maildir")
    _put(root, "new", "1583060400.M2P1.host", _message("Unread", "Unread body wagtailcross."))
    first, second = _custodian("Maildir Flags"), _custodian("Maildir Flags")
    ingest_files([root], custodian=first)
    (root / "new" / "1583060400.M2P1.host").rename(root / "cur" / "1583060400.M2P1.host:2,ST")  # read, then trashed
    ingest_files([root], custodian=second)

    (before,), (after,) = _docs(services, settings, first), _docs(services, settings, second)
    # Ids follow the folder's digest (a changed folder is a new collection); the locator and the
    # content hash say it is the same message.
    assert before["locator"] == after["locator"] == "Maildir/1583060400.M2P1.host"
    assert before["content_sha256"] == after["content_sha256"]


def test_single_maildir_is_named_after_its_folder_and_nested_maildirs_are_read(services, settings, ingest_files, tmp_path):
    collection = tmp_path / "collection"
    sent = _maildir(collection / "Sent")
    _put(sent, "cur", "1.M1P1.host:2,S", _message("Top", "top message"))
    nested = _maildir(sent / "Projects")
    _put(nested, "cur", "2.M1P1.host:2,S", _message("Nested", "nested message"))
    (collection / "readme.eml").write_bytes(_message("Loose", "a loose email beside the maildir"))
    custodian = _custodian("Maildir Single")
    summary, report = ingest_files([collection], custodian=custodian)

    assert report == [] and summary.files == 2
    by_locator = {d["locator"]: d for d in _docs(services, settings, custodian)}
    assert sorted(by_locator) == ["", "Projects/2.M1P1.host", "Sent/1.M1P1.host"]
    assert by_locator["Projects/2.M1P1.host"]["subject"] == "Nested"


def test_only_maildir_folders_are_claimed(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "cur").mkdir()
    assert maildir.accepts(plain, b"") == 0
    (plain / "new").mkdir()
    assert maildir.accepts(plain, b"") == 100 and choose(plain, b"") is maildir
    plus_root = tmp_path / "plus"
    _maildir(plus_root / ".Drafts")
    assert maildir.accepts(plus_root, b"") == 100
    not_a_folder = tmp_path / "file"
    not_a_folder.write_bytes(b"From: x\n\n")
    assert maildir.accepts(not_a_folder, b"From: x") == 0


def _list_message(number: int, date: str) -> bytes:
    """A message as notmuch's test corpus holds them: a mailing-list post with a Gmail-style Date."""
    return (f"From: Carl Worth <cworth@cworth.org>\nTo: notmuch@notmuchmail.org\nSubject: [notmuch] patch {number}\n"
            f"Date: {date}\nMessage-ID: <{number}@notmuch.test>\n\nPatch number {number} for the mailing list.\n").encode()


def test_messages_beside_cur_and_new_are_read_as_mail_clients_leave_them(tmp_path, source_context):
    from indexer.model import Item

    root = _maildir(tmp_path / "mail")  # notmuch's layout: files in folders, beside maildirs
    _put(root, "cur", "1.M1P1.host:2,S", _message("In cur", "filed properly"))
    (root / "05:2,").write_bytes(_list_message(5, "Tue, 17 Nov 2009 11:36:14 -0800 (PST)"))
    (root / "lists" / "notmuch").mkdir(parents=True)
    (root / "lists" / "notmuch" / "12:2,").write_bytes(_list_message(12, "17 Nov 2009 19:36:14 +0000"))
    foo = _maildir(root / "foo")
    (foo / "06").write_bytes(_list_message(6, "Mon, 17 Nov 2009 11:36:14 -0800 (PST)"))  # the weekday is wrong
    (root / "lists" / "notes.txt").write_text("Note: these are the list archives\nkept since 2009\n")
    (root / ".notmuch" / "xapian").mkdir(parents=True)
    (root / ".notmuch" / "xapian" / "postlist.glass").write_bytes(b"\x00xapian")

    produced = list(maildir.read(root, source_context(root, "Maildir Loose")))
    items = {i.locator: i for i in produced if isinstance(i, Item)}
    problems = [(p.code, p.locator) for p in produced if not isinstance(p, Item)]
    assert sorted(items) == ["loose:05:2,", "loose:foo/06", "loose:lists/notmuch/12:2,", "mail/1.M1P1.host"]
    assert problems == [("unsupported", "loose:lists/notes.txt")]
    assert items["loose:lists/notmuch/12:2,"].subject == "[notmuch] patch 12"
    # date_original is the header as written; the UTC date is the same instant each time
    assert [(items[k].date_original, items[k].date) for k in ("loose:05:2,", "loose:foo/06", "loose:lists/notmuch/12:2,")] == [
        ("Tue, 17 Nov 2009 11:36:14 -0800 (PST)", "2009-11-17T19:36:14Z"),
        ("Mon, 17 Nov 2009 11:36:14 -0800 (PST)", "2009-11-17T19:36:14Z"),
        ("17 Nov 2009 19:36:14 +0000", "2009-11-17T19:36:14Z"),
    ]


def test_a_loose_copy_beside_cur_does_not_share_the_messages_locator(tmp_path, source_context):
    """`lists/cur/123.host:2,S` and a copy `lists/123.host` are two items with two locators, and each
    locator reads back its own file as the original."""
    from indexer.model import Item
    from indexer.digests import tree_sha256
    from indexer.sources.originals import original_email

    root = tmp_path / "mail"
    lists = _maildir(root / "lists")
    filed = _put(lists, "cur", "123.host:2,S", _message("Filed", "the filed message"))
    copy = lists / "123.host"
    copy.write_bytes(_message("Copy", "a different copy left beside cur"))

    produced = list(maildir.read(root, source_context(root, "Maildir Clash")))
    items = {i.locator: i for i in produced if isinstance(i, Item)}
    assert sorted(items) == ["lists/123.host", "loose:lists/123.host"]
    assert len({i.id for i in items.values()}) == 2
    assert items["lists/123.host"].subject == "Filed"
    assert items["loose:lists/123.host"].subject == "Copy"
    digest = tree_sha256(root)
    assert original_email(str(root), "lists/123.host", digest).data == filed.read_bytes()
    assert original_email(str(root), "loose:lists/123.host", digest).data == copy.read_bytes()
