"""Exact duplicates of emails through the real ingest (EML, MBOX, Maildir): the same message is one
`dup_group` wherever it was held; the same text with another attachment, or another text under the
same headers, is not. Outlook .msg is tested in tests/indexer/sources/test_msg.py."""

from __future__ import annotations

import email
import email.policy
import uuid
from email.message import EmailMessage
from pathlib import Path

from indexer.digests import email_dup_key
from indexer.model import Address, Custody, Item
from search_api.search import SearchRequest, run_search


def _message(body: str = "The grebemoor contract is attached.", attachment: bytes | None = b"annex: grebemoor costs",
             name: str = "annex.txt") -> bytes:
    message = EmailMessage()
    message["From"] = "Dana Official <dana@dept.gov.uk>"
    message["To"] = "eli@dept.gov.uk"
    message["Subject"] = "Grebemoor contract"
    message["Date"] = "Tue, 03 Mar 2020 09:15:00 +0000"
    message["Message-ID"] = "<grebemoor-1@dept.gov.uk>"
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment, maintype="text", subtype="plain", filename=name)
    return message.as_bytes()


def _emails(services, settings, custodian: str) -> dict[str, dict]:
    """The custodian's emails by file name of their source (a maildir message by its folder's name)."""
    response = services.search(index=settings.items_alias, body={
        "query": {"bool": {"filter": [{"term": {"custodian": custodian}}, {"term": {"kind": "email"}}]}}, "size": 50})
    return {Path(h["_source"]["source_path"]).name: h["_source"] for h in response["hits"]["hits"]}


def _ingest(ingest_files, paths: list[Path]) -> str:
    custodian = f"Dup Tester {uuid.uuid4().hex[:8]}"
    _, report = ingest_files(paths, custodian=custodian)
    assert report == []
    return custodian


def test_the_same_message_as_eml_in_an_mbox_and_in_a_maildir_is_one_dup_group(services, settings, ingest_files, tmp_path):
    data = _message()
    (tmp_path / "copy.eml").write_bytes(data)
    (tmp_path / "copy.mbox").write_bytes(b"From dana@dept.gov.uk Tue Mar  3 09:15:00 2020\n" + data + b"\n")
    for folder in ("cur", "new", "tmp"):
        (tmp_path / "copy-maildir" / folder).mkdir(parents=True)
    (tmp_path / "copy-maildir" / "cur" / "1583226900.M1P1.host:2,S").write_bytes(data)
    custodian = _ingest(ingest_files, [tmp_path / "copy.eml", tmp_path / "copy.mbox", tmp_path / "copy-maildir"])
    emails = _emails(services, settings, custodian)
    assert sorted(emails) == ["copy-maildir", "copy.eml", "copy.mbox"]
    groups = {e["dup_group"] for e in emails.values()}
    assert len(groups) == 1 and groups.pop().startswith("email:")


def test_the_same_text_with_another_attachment_is_another_dup_group(services, settings, ingest_files, tmp_path):
    variants = {"first.eml": _message(), "again.eml": _message(), "other-annex.eml": _message(attachment=b"annex: other costs"),
                "renamed-annex.eml": _message(name="annex-v2.txt"), "no-annex.eml": _message(attachment=None)}
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
    custodian = _ingest(ingest_files, [tmp_path / name for name in variants])
    groups = {name: email["dup_group"] for name, email in _emails(services, settings, custodian).items()}
    assert groups["first.eml"] == groups["again.eml"]
    assert len({groups[name] for name in ("first.eml", "other-annex.eml", "renamed-annex.eml", "no-annex.eml")}) == 4
    # "Show each duplicate once" hides the second copy only, never a message whose attachment differs.
    collapsed = run_search(services, settings.items_alias, SearchRequest(
        q="grebemoor", custodian=[custodian], kind=["email"], collapse_duplicates=True, size=50))
    assert len(collapsed["hits"]) == 4 and collapsed["total"] == 5


def test_the_same_headers_with_another_body_is_another_dup_group(services, settings, ingest_files, tmp_path):
    (tmp_path / "a.eml").write_bytes(_message(body="The grebemoor contract is attached."))
    (tmp_path / "b.eml").write_bytes(_message(body="The grebemoor contract is withdrawn."))
    custodian = _ingest(ingest_files, [tmp_path / "a.eml", tmp_path / "b.eml"])
    emails = _emails(services, settings, custodian)
    assert emails["a.eml"]["subject"] == emails["b.eml"]["subject"] and emails["a.eml"]["date"] == emails["b.eml"]["date"]
    assert emails["a.eml"]["dup_group"] != emails["b.eml"]["dup_group"]


def _item(item_id: str, kind: str, parent_id: str | None = None, **fields) -> Item:
    return Item(id=item_id, kind=kind, channel="email", source_path="x.eml", locator=item_id, source_sha256="0" * 64,
                custody=Custody("Dup Tester", "private"), family_id="e1", parent_id=parent_id, **fields)


def test_only_the_emails_own_attachments_count_in_its_key():
    """Files Tika finds inside an attachment follow from the attachment's bytes, already counted."""
    email = _item("e1", "email", sender=Address("dana@dept.gov.uk", None, "dana@dept.gov.uk"), subject="s", body="b")
    own = _item("a1", "attachment", "e1", content_sha256="1" * 64)
    embedded = _item("a2", "attachment", "a1", content_sha256="2" * 64)
    assert email_dup_key(email, [own, embedded]) == email_dup_key(email, [own])
    assert email_dup_key(email, [own]) != email_dup_key(email, [])


def _forwarding(inner: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = "Fay Official <fay@dept.gov.uk>"
    message["To"] = "gus@dept.gov.uk"
    message["Subject"] = "Fwd: Grebemoor contract"
    message["Date"] = "Wed, 04 Mar 2020 10:00:00 +0000"
    message.set_content("Forwarding the grebemoor message.")
    message.add_attachment(email.message_from_bytes(inner, policy=email.policy.default))  # message/rfc822
    return message.as_bytes()


def test_an_attached_message_counts_by_its_own_key_not_only_its_body(services, settings, ingest_files, tmp_path):
    """Two forwards of messages with the same body, one from another sender and one with another
    attachment, are not duplicates of the forward of the first: none is hidden behind another."""
    other_sender = _message().replace(b"Dana Official <dana@dept.gov.uk>", b"Hal Outsider <hal@example.org>")
    variants = {"first.eml": _forwarding(_message()), "again.eml": _forwarding(_message()),
                "other-sender.eml": _forwarding(other_sender),
                "other-annex.eml": _forwarding(_message(attachment=b"annex: other costs"))}
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
    custodian = _ingest(ingest_files, [tmp_path / name for name in variants])
    response = services.search(index=settings.items_alias, body={"query": {"bool": {"filter": [
        {"term": {"custodian": custodian}}, {"term": {"kind": "email"}}, {"term": {"depth": 0}}]}}, "size": 50})
    groups = {Path(h["_source"]["source_path"]).name: h["_source"]["dup_group"] for h in response["hits"]["hits"]}
    assert sorted(groups) == sorted(variants)
    assert groups["first.eml"] == groups["again.eml"]
    assert len({groups[name] for name in ("first.eml", "other-sender.eml", "other-annex.eml")}) == 3
