"""The enrichment stage over an existing index (`lantern enrich`), and its facets and filters in search."""

from __future__ import annotations

from email.message import EmailMessage

from fastapi.testclient import TestClient

from indexer.enrich.stage import run_enrich
from indexer.pipeline import custody_for, run_ingest
from search_api.app import create_app

CUSTODIAN = "Enrich Tester"
BODY = ("Matt Hancock met officials from the Department of Health and Social Care in Manchester. "
        "The patient's NHS number is 943 476 5919 and her postcode M1 1AE.")


def _eml(path, subject, body):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Carol <carol@enrich.example>", "Dan <dan@enrich.example>", subject
    message["Date"] = "Thu, 05 Mar 2020 10:00:00 +0000"
    message["Message-ID"] = f"<{path.stem}@enrich.test>"
    message.set_content(body)
    path.write_bytes(bytes(message))
    return path


def _facets(api, **params):
    body = api.get("/api/v1/search", params={"custodian": CUSTODIAN, "size": 5, **params}).json()
    return body, {name: {f["value"]: f["count"] for f in values} for name, values in body["facets"].items()}


def test_enrich_reruns_over_the_index_and_entities_become_facets(services, enrich_settings, tmp_path):
    emails = [_eml(tmp_path / "pii.eml", "Patient data", BODY), _eml(tmp_path / "plain.eml", "Lunch", "See you at noon for lunch.")]
    custody = custody_for(enrich_settings, CUSTODIAN, None, "official", "enrich-tests")
    run_ingest(enrich_settings.model_copy(update={"ner": False}), emails, custody, tmp_path / "ingest.jsonl")

    with TestClient(create_app(enrich_settings)) as api:
        body, facets = _facets(api)
        assert body["total"] == 2 and facets["entity_people"] == {}
        assert facets["pii_types"] == {"nhs_number": 1, "postcode": 1}  # the detectors run with NER off

        updated, failures = run_enrich(enrich_settings, tmp_path / "enrich.jsonl")
        assert updated >= 2 and failures == 0
        body, facets = _facets(api)
        assert facets["entity_people"]["Matt Hancock"] == 1
        assert facets["entity_orgs"]["Department of Health and Social Care"] == 1
        assert facets["entity_places"]["Manchester"] == 1
        assert facets["people"] == {"person:carol@enrich.example": 2, "person:dan@enrich.example": 2}

        hits = api.get("/api/v1/search", params={"custodian": CUSTODIAN, "has_pii": "true"}).json()["hits"]
        assert [h["subject"] for h in hits] == ["Patient data"] and hits[0]["pii_types"] == ["nhs_number", "postcode"]
        hits = api.get("/api/v1/search", params={"custodian": CUSTODIAN, "has_pii": "false"}).json()["hits"]
        assert [h["subject"] for h in hits] == ["Lunch"]
        hits = api.get("/api/v1/search", params={"custodian": CUSTODIAN, "entity_places": "Manchester"}).json()["hits"]
        assert [h["subject"] for h in hits] == ["Patient data"]
        hits = api.get("/api/v1/search", params={"custodian": CUSTODIAN, "pii_types": "nhs_number"}).json()["hits"]
        assert [h["subject"] for h in hits] == ["Patient data"]

        item = api.get(f"/api/v1/items/{hits[0]['id']}").json()
        assert "minhash" not in item and item["enrichment"] == {"status": "ok", "ner": True}
        assert {"type": "postcode", "text": "M1 1AE", "norm": "M1 1AE", "field": "body",
                "start": item["body"].index("M1 1AE"), "end": item["body"].index("M1 1AE") + 6} in item["entities"]
