"""Ingest against the real OpenSearch and Tika: attachments, idempotence, bad input."""

from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path

import pytest
import docx

from builders.outlook import Message, msg_bytes
from indexer.pipeline import custody_for, run_ingest
from indexer.report import read_report
from sample_corpora import corpora_params
from search_api.search import SearchRequest, run_search


def _search(client, settings, q, **filters):
    return run_search(client, settings.items_alias, SearchRequest(q=q, size=50, **filters))


def test_word_only_in_pdf_attachment_is_found_and_links_to_parent_email(services, settings, sample):
    archive, _, _ = sample
    planted = archive.planted["zanzibarquill"]
    result = _search(services, settings, "zanzibarquill")
    assert result["total"] == 1
    hit = result["hits"][0]
    assert hit["kind"] == "attachment"
    assert hit["file_name"] == planted["attachment"]
    assert "<mark>zanzibarquill</mark>" in hit["snippet"].lower()
    parent = services.get(index=settings.items_alias, id=hit["parent_id"])["_source"]
    assert parent["kind"] == "email"
    assert parent["subject"] == planted["subject"]
    assert hit["family_id"] == parent["id"]
    assert planted["attachment"] in parent["attachment_names"]


def test_word_only_in_docx_attachment_is_found(services, settings, sample):
    archive, _, _ = sample
    result = _search(services, settings, "marrowfinch")
    assert [h["kind"] for h in result["hits"]] == ["attachment"]
    assert result["hits"][0]["custodian"] == "Ben Okafor"
    assert result["hits"][0]["record"] == "private"
    assert result["hits"][0]["file_name"] == archive.planted["marrowfinch"]["attachment"]


def test_every_sample_message_is_indexed_with_custody(services, settings, sample):
    archive, summaries, report = sample
    expected_emails = sum(archive.counts.values()) + len(archive.loose)
    assert sum(s.items_by_kind["email"] for s in summaries) == expected_emails
    sample_emails = {"bool": {"filter": [{"term": {"collection": "sample"}}, {"term": {"kind": "email"}}]}}
    assert services.count(index=settings.items_alias, body={"query": sample_emails})["count"] == expected_emails
    records = services.search(index=settings.items_alias, body={
        "query": sample_emails, "size": 0, "aggs": {"record": {"terms": {"field": "record"}}}})
    assert {b["key"] for b in records["aggregations"]["record"]["buckets"]} == {"official", "private"}
    assert report == [], f"the sample archive should read cleanly, got {report}"


def test_reingesting_the_same_mbox_changes_nothing(services, settings, sample, tmp_path):
    archive, _, _ = sample
    box = archive.mailboxes[0]
    before = services.count(index=settings.items_alias)["count"]
    ids_before = {h["_id"] for h in services.search(index=settings.items_alias, body={
        "query": {"term": {"source_path": str(box.path.resolve())}}, "size": 1000, "_source": False})["hits"]["hits"]}
    custody = custody_for(settings, box.custodian, box.account, box.record, "sample")
    summary = run_ingest(settings, [box.path], custody, tmp_path / "again.jsonl")
    assert summary.items == len(ids_before)
    assert services.count(index=settings.items_alias)["count"] == before
    ids_after = {h["_id"] for h in services.search(index=settings.items_alias, body={
        "query": {"term": {"source_path": str(box.path.resolve())}}, "size": 1000, "_source": False})["hits"]["hits"]}
    assert ids_after == ids_before


def test_the_same_file_held_by_two_custodians_is_two_items_in_one_dup_group(services, settings, tmp_path):
    path = _email_with_docx(tmp_path / "shared-briefing.eml", "Briefing on the quillmarsh supplier.", _docx_bytes("quillmarsh annex"))
    for custodian, record in (("Carol Official", "official"), ("Carol Private", "private")):
        run_ingest(settings, [path], custody_for(settings, custodian, None, record, "dup-custody"), tmp_path / f"{record}.jsonl")
    emails = _search(services, settings, "quillmarsh", kind=["email"])
    assert emails["total"] == 2  # custody is evidence: one item per holder, not one overwritten by the other
    assert {h["custodian"] for h in emails["hits"]} == {"Carol Official", "Carol Private"}
    assert len({h["id"] for h in emails["hits"]}) == 2
    assert len({h["dup_group"] for h in emails["hits"]}) == 1
    attachments = _search(services, settings, "quillmarsh", kind=["attachment"])
    assert attachments["total"] == 2 and {h["record"] for h in attachments["hits"]} == {"official", "private"}
    # Re-ingesting for one of them still changes nothing.
    run_ingest(settings, [path], custody_for(settings, "Carol Private", None, "private", "dup-custody"), tmp_path / "again.jsonl")
    assert _search(services, settings, "quillmarsh")["total"] == 4


def _docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _email_with_docx(path: Path, body: str, attachment: bytes) -> Path:
    message = EmailMessage()
    message["From"] = "Carol <carol@dhsc.gov.uk>"
    message["To"] = "dan@dhsc.gov.uk"
    message["Subject"] = f"Budget annex ({path.stem})"
    message["Date"] = "Tue, 03 Mar 2020 10:00:00 +0000"
    message.set_content(body)
    message.add_attachment(attachment, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename="annex.docx")
    path.write_bytes(message.as_bytes())
    return path


def test_bad_files_are_reported_and_the_rest_of_the_batch_is_indexed(services, settings, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    _email_with_docx(batch / "good.eml", "Annex attached.", _docx_bytes("the annex mentions hydrangea funding"))
    (batch / "really-a-msg.eml").write_bytes(msg_bytes(Message(subject="Newsletter Prüfung Eröffnungsbilanz")))
    (batch / "empty.eml").write_bytes(b"")
    (batch / "notes.xyz").write_bytes(b"\x00\x01\x02 binary junk")
    truncated = _email_with_docx(batch / "truncated-attachment.eml", "keyword plumbago", _docx_bytes("budget annex " * 50)[:3000])
    custody = custody_for(settings, "Batch Tester", "tester@example.com", None, "bad-input")
    assert custody.record == "private"

    report_path = tmp_path / "report.jsonl"
    summary = run_ingest(settings, [batch], custody, report_path)
    report = read_report(report_path)
    by_file = {}
    for entry in report:
        by_file.setdefault(Path(entry["source_path"]).name, []).append(entry)

    # An Outlook .msg saved as .eml is read by the msg reader, not reported as unsupported.
    assert "unsupported" not in {e["code"] for e in by_file.get("really-a-msg.eml", [])}
    assert _search(services, settings, "Eröffnungsbilanz", custodian=["Batch Tester"], kind=["email"])["total"] == 1
    assert by_file["empty.eml"][0]["code"] == "empty"
    assert by_file["notes.xyz"][0]["code"] == "no_text"  # the `document` fallback indexes it by name; Tika finds no text
    truncated_problems = by_file[truncated.name]
    assert truncated_problems[0]["locator"] == "/attachment[1]"
    assert truncated_problems[0]["item_id"]
    assert "good.eml" not in by_file
    assert summary.files == 5

    # The good file and the email around the broken attachment are searchable.
    assert _search(services, settings, "plumbago", custodian=["Batch Tester"])["total"] == 1
    broken = services.get(index=settings.items_alias, id=truncated_problems[0]["item_id"])["_source"]
    assert broken["extraction"] in ("failed", "partial")
    assert broken["problems"]
    annex = _search(services, settings, "hydrangea", custodian=["Batch Tester"])["hits"]
    assert [(h["kind"], h["file_name"]) for h in annex] == [("attachment", "annex.docx")]


@pytest.mark.corpora(sibling=["test_bad_files_are_reported_and_the_rest_of_the_batch_is_indexed",
                              "tests/indexer/test_hostile_corpus.py::test_hostile_corpus_is_reported_without_crashes_in_bounded_memory"])
@pytest.mark.parametrize("name", corpora_params("eml", "*.eml"))
def test_every_real_world_eml_is_indexed_or_reported(services, settings, corpora, tmp_path, name):
    path = corpora / "eml" / name
    custody = custody_for(settings, "Spam Corpus", None, "private", "corpus")
    report_path = tmp_path / "report.jsonl"
    summary = run_ingest(settings, [path], custody, report_path)
    report = read_report(report_path)
    assert summary.files == 1
    assert summary.items > 0 or any(e["source_path"] == str(path.resolve()) and e["locator"] == "" for e in report)
