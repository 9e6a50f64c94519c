"""Named entities with the packaged spaCy model, and the enrichment stage around them."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from indexer.enrich import entities as ner
from indexer.enrich.entities import chunks, facet_value, load_model, recognise
from indexer.enrich.stage import EnrichOptions, Enricher

TEXT = "Matt Hancock met officials from the Department of Health and Social Care in London on Tuesday."


def _spans(text: str, found) -> set[tuple[str, str]]:
    for entity in found:
        assert text[entity.start:entity.end] == entity.text
    return {(e.type, e.text) for e in found}


def test_the_model_loads_offline_with_only_what_ner_needs():
    nlp = load_model()
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert load_model() is nlp  # once per process


def test_people_organisations_and_places_with_exact_spans():
    (found,) = recognise([TEXT])
    assert _spans(TEXT, found) >= {
        ("person", "Matt Hancock"), ("org", "the Department of Health and Social Care"), ("place", "London"),
    }
    assert {e.type for e in found} <= {"person", "org", "place"}  # no dates, no cardinals
    org = next(e for e in found if e.type == "org")
    assert org.norm == "Department of Health and Social Care"


def test_long_texts_are_chunked_and_offsets_stay_relative_to_the_whole_text():
    filler = "The committee reviewed the minutes and agreed the actions. " * 400  # ~24,000 chars
    text = filler + TEXT + " " + filler
    assert len(chunks(text)) >= 5
    (found,) = recognise([text])
    hancock = [e for e in found if e.text == "Matt Hancock"]
    assert [e.start for e in hancock] == [len(filler)]


def test_chunks_cover_the_text_exactly_and_cut_at_whitespace():
    text = ("word " * 5000).strip()
    pieces = chunks(text, size=1000)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 for _, p in pieces)
    assert all(p.endswith(" ") for _, p in pieces[:-1])
    assert [o for o, _ in pieces] == [sum(len(p) for _, p in pieces[:n]) for n in range(len(pieces))]


@pytest.mark.parametrize("kind,text,expected", [
    ("person", "Matt  Hancock's", "Matt Hancock"),
    ("org", "the NHS", "NHS"),
    ("person", "  \"Alice Hart\",", "Alice Hart"),
    ("org", "DOB", None),
    ("person", "2021", None),
])
def test_facet_values_are_tidied(kind, text, expected):
    assert facet_value(kind, text) == expected


def test_stage_sets_entity_and_pii_fields_and_drops_names_inside_addresses():
    enricher = Enricher(EnrichOptions(ner=True))
    subject = "Meeting with Pfizer"
    body = TEXT + " Contact alice.hart@dhsc.gov.uk or 07700 900123. NI AB123456C."
    (result,) = enricher.enrich_texts([(subject, body)])
    fields = result.fields()
    assert "Matt Hancock" in fields["entity_people"] and "London" in fields["entity_places"]
    assert fields["pii_types"] == ["email", "ni_number", "phone"] and fields["has_pii"] is True
    assert fields["enrichment"] == {"status": "ok", "ner": True}
    email_span = body.index("alice.hart@dhsc.gov.uk")
    overlapping = [e for e in result.entities if e.field == "body" and e.start < email_span + 22 and e.end > email_span]
    assert [e.type for e in overlapping] == ["email"]
    assert all(e.field in ("subject", "body") for e in result.entities)


def test_ner_can_be_switched_off():
    (result,) = Enricher(EnrichOptions(ner=False)).enrich_texts([(None, TEXT + " Call 07700 900123.")])
    assert result.fields()["entity_people"] == [] and result.fields()["pii_types"] == ["phone"]
    assert result.fields()["enrichment"] == {"status": "ok", "ner": False}


def test_text_beyond_the_cap_is_not_read_by_ner_and_the_item_says_so():
    enricher = Enricher(EnrichOptions(ner_max_chars=200))
    body = "x " * 200 + TEXT
    (result,) = enricher.enrich_texts([(None, body)])
    assert result.status == "capped" and result.fields()["entity_people"] == []


def test_a_model_failure_on_one_item_fails_only_that_item(monkeypatch):
    real = ner.recognise

    def fragile(texts):
        if any("EXPLODE" in t for t in texts):
            raise RuntimeError("model fell over")
        return real(texts)

    monkeypatch.setattr(ner, "recognise", fragile)
    results = Enricher().enrich_texts([(None, TEXT), (None, "EXPLODE near 07700 900123"), (None, TEXT)])
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert "Matt Hancock" in results[2].fields()["entity_people"]
    assert results[1].fields()["pii_types"] == ["phone"]  # the detectors still ran
    assert "model fell over" in results[1].failures[0]


def test_the_same_text_is_enriched_once_and_each_item_gets_its_own_result(monkeypatch):
    calls = []
    real = ner.recognise
    monkeypatch.setattr(ner, "recognise", lambda texts: calls.append(list(texts)) or real(texts))
    enricher = Enricher()
    first = enricher.enrich_texts([(None, TEXT), ("Call with Priya Shah", TEXT), (None, TEXT)])
    again = enricher.enrich_texts([(None, TEXT)])

    assert sum(t.count(TEXT) for t in calls) == 2  # once bare, once beside a subject; never again
    assert enricher.memo_hits == 1  # the later batch; the in-batch copy was never sent to the model
    assert first[0].fields() == first[2].fields() == again[0].fields()
    assert "Matt Hancock" in again[0].fields()["entity_people"]
    assert first[1].fields()["entities"] != first[0].fields()["entities"]  # the subject is part of the text
    first[0].entities.clear()  # results are separate objects: one item's list is not another's
    assert again[0].entities and first[2].entities


def test_ner_in_worker_processes_gives_the_same_results_in_the_same_order():
    texts = [(f"Call {n}", f"{TEXT} Item {n}, phone 07700 900{n:03d}.") for n in range(150)] + [(None, "")] * 3
    batches = [(n, texts[n:n + 20]) for n in range(0, len(texts), 20)]
    here = [r.fields() for _, results in Enricher().enrich_batches(batches) for r in results]
    pooled = Enricher(EnrichOptions(ner_workers=2))
    tags, there = [], []
    for tag, results in pooled.enrich_batches(batches):
        tags.append(tag)
        there += [r.fields() for r in results]
    assert tags == [tag for tag, _ in batches]
    assert there == here
    assert "Matt Hancock" in there[0]["entity_people"] and there[0]["pii_types"] == ["phone"]


def test_a_dead_ner_worker_costs_nothing_the_batch_is_redone_here_and_a_new_pool_starts():
    import os
    import signal

    enricher = Enricher(EnrichOptions(ner_workers=1))
    (before,) = enricher.enrich_texts([(None, TEXT)])
    pool = ner.worker_pool(1)
    for pid in list(pool._processes):  # what the kernel's OOM killer would do
        os.kill(pid, signal.SIGKILL)
    (during,) = enricher.enrich_texts([(None, TEXT + " Again.")])
    (after,) = enricher.enrich_texts([(None, TEXT + " Once more.")])
    assert before.status == during.status == after.status == "ok"
    assert "Matt Hancock" in during.fields()["entity_people"] and "Matt Hancock" in after.fields()["entity_people"]
    assert ner.worker_pool(1) is not pool


def test_workers_started_from_a_thread_outlive_it():
    """The ingest enriches on a background thread that ends with the run; the workers must not."""
    import threading

    ner.stop_worker_pool()
    breaks = ner._pool_breaks
    first = threading.Thread(target=lambda: Enricher(EnrichOptions(ner_workers=1)).enrich_texts([(None, TEXT)]))
    first.start()
    first.join()
    (later,) = Enricher(EnrichOptions(ner_workers=1)).enrich_texts([(None, TEXT + " Later.")])
    assert "Matt Hancock" in later.fields()["entity_people"]
    assert ner._pool_breaks == breaks


def test_a_failed_enrichment_is_not_reused(monkeypatch):
    real = ner.recognise
    broken = {"on": True}

    def flaky(texts):
        if broken["on"]:
            raise RuntimeError("model fell over")
        return real(texts)

    monkeypatch.setattr(ner, "recognise", flaky)
    enricher = Enricher()
    (failed,) = enricher.enrich_texts([(None, TEXT)])
    broken["on"] = False
    (later,) = enricher.enrich_texts([(None, TEXT)])
    assert (failed.status, later.status) == ("failed", "ok")
    assert enricher.memo_hits == 0


def _eml(path, subject, body, sender="Alice Hart <alice.hart@dhsc.gov.uk>", to="Bob Jones <bob@example.com>"):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = "Tue, 03 Mar 2020 10:00:00 +0000"
    message["Message-ID"] = f"<{path.stem}@lantern.test>"
    message.set_content(body)
    path.write_bytes(bytes(message))
    return path


def test_ingested_items_are_enriched_and_failures_are_reported_not_dropped(enrich_ingest, services, enrich_settings, tmp_path, monkeypatch):
    real = ner.recognise

    def fragile(texts):
        if any("EXPLODE" in t for t in texts):
            raise RuntimeError("model fell over")
        return real(texts)

    monkeypatch.setattr(ner, "recognise", fragile)
    good = _eml(tmp_path / "ner-good.eml", "Vaccine contract", TEXT + " Patient NHS number 943 476 5919.")
    bad = _eml(tmp_path / "ner-bad.eml", "EXPLODE", "EXPLODE this text; call 07700 900124.")
    in_process = enrich_settings.model_copy(update={"ner_workers": 0})  # the patched model lives in this process only
    summary, report = enrich_ingest([good, bad], custodian="NER Tester", settings=in_process)
    assert summary.items_by_kind["email"] == 2
    failures = [e for e in report if e["code"] == "enrichment_failed"]
    assert len(failures) == 1 and failures[0]["source_path"].endswith("ner-bad.eml") and failures[0]["item_id"]
    hits = services.search(index=enrich_settings.items_alias, body={
        "query": {"term": {"custodian": "NER Tester"}}, "size": 10})["hits"]["hits"]
    by_subject = {h["_source"]["subject"]: h["_source"] for h in hits}
    enriched = by_subject["Vaccine contract"]
    assert "Matt Hancock" in enriched["entity_people"] and enriched["pii_types"] == ["nhs_number"]
    assert enriched["has_pii"] is True and enriched["enrichment"] == {"status": "ok", "ner": True}
    nhs = next(e for e in enriched["entities"] if e["type"] == "nhs_number")
    assert enriched["body"][nhs["start"]:nhs["end"]] == "943 476 5919"
    failed = by_subject["EXPLODE"]
    assert failed["enrichment"]["status"] == "failed" and failed["pii_types"] == ["phone"]
    assert any(p.startswith("enrichment_failed") for p in failed["problems"])
    assert failed["people"] == ["person:alice.hart@dhsc.gov.uk", "person:bob@example.com"]


def test_entities_per_item_are_capped_and_the_item_says_so(monkeypatch):
    from indexer.enrich import stage

    monkeypatch.setattr(stage, "MAX_ENTITIES", 10)
    body = " ".join(f"contact{n}@example.org" for n in range(30))
    (result,) = Enricher(EnrichOptions(ner=False)).enrich_texts([(None, body)])
    assert len(result.entities) == 10 and result.status == "capped"
    assert [e.norm for e in result.entities][:2] == ["contact0@example.org", "contact1@example.org"]
