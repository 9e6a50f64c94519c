"""The people registry: automatic merges on address and phone, the alias file, and applying it to the index."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from indexer import store
from indexer.enrich.people import AliasFileError, PeopleRegistry, identity, import_alias_file, person_key, read_alias_file
from indexer.enrich.stage import EnrichOptions, Enricher
from indexer.model import Custody
from indexer.sources.base import Limits, SourceContext
from indexer.sources.support.chat import conversation_key, message_item, sender_address
from search_api.app import create_app
from services.index import ensure_items_index

CUSTODIAN = "People Tester"


@pytest.mark.parametrize("value,expected", [
    ("Matt.H@Dept.gov.uk", "email:matt.h@dept.gov.uk"),
    ("+44 7700 900123", "phone:+447700900123"),
    ("07700 900123", "phone:+447700900123"),
    ("(07700) 900-123", "phone:+447700900123"),
    ("Matt  H", "name:matt h"),
    ("U024BE7LH", "name:u024be7lh"),
    ("user12345", "name:user12345"),
])
def test_identities_are_typed_and_normalised(value, expected):
    assert identity(value) == expected


def test_person_keys_read_like_the_name():
    assert person_key("Matt Hancock") == "person:matt-hancock"
    assert person_key("  O'Brien, Anne ") == "person:o-brien-anne"


def test_resolution_prefers_an_alias_then_a_name_alias_then_the_automatic_key():
    registry = PeopleRegistry(by_identity={"email:mh@gmail.com": "person:matt", "name:matt": "person:matt"})
    assert registry.resolve("Someone", "mh@gmail.com") == "person:matt"
    assert registry.resolve("Matt", "+447700900999") == "person:matt"
    assert registry.resolve("Other", "other@x.org") == "person:other@x.org"
    assert registry.resolve("Other", "+447700900999") == "person:+447700900999"
    assert registry.resolve("Unknown display name", None) is None
    assert registry.resolve(None, "U024BE7LH") is None  # a bare chat handle is nobody until an alias says so


def test_alias_file_with_header_comments_and_blank_lines(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("person,identity\n# Matt's identities\nMatt Hancock,matt.h@dept.gov.uk\n\nMatt Hancock,+44 7700 900123\n"
                    "Matt Hancock,Matt\nAlice Hart,alice.hart@dhsc.gov.uk\n", encoding="utf-8")
    registry = read_alias_file(path)
    assert registry.labels == {"person:matt-hancock": "Matt Hancock", "person:alice-hart": "Alice Hart"}
    assert registry.by_identity["phone:+447700900123"] == "person:matt-hancock"
    assert registry.written["person:matt-hancock"] == ["matt.h@dept.gov.uk", "+44 7700 900123", "Matt"]


@pytest.mark.parametrize("content,message", [
    ("Matt Hancock\n", "line 1: expected two values"),
    ("Matt Hancock,a@b.org,extra\n", "line 1: expected two values"),
    ("A,a@b.org\nB,A@B.org\n", "line 2: 'A@B.org' is already an identity of 'A'"),
    ("A,07700 900123\nB,+447700900123\n", "line 2"),
])
def test_alias_file_errors_name_the_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AliasFileError, match=message):
        read_alias_file(path)


def _eml(path, sender, subject, body):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "FOI Team <foi@dept.gov.uk>", subject
    message["Date"] = "Tue, 03 Mar 2020 10:00:00 +0000"
    message["Message-ID"] = f"<{path.stem}@people.test>"
    message.set_content(body)
    path.write_bytes(bytes(message))
    return path


@pytest.fixture(scope="module")
def people_sample(services, enrich_settings, tmp_path_factory):
    """Matt on official email, private email, WhatsApp (by number and by display name) and SMS."""
    from indexer.pipeline import custody_for, run_ingest

    ensure_items_index(services, enrich_settings)
    root = tmp_path_factory.mktemp("people")
    emails = [
        _eml(root / "official.eml", "Matt Hancock <matt.h@dept.gov.uk>", "Ventilator supply", "Please review the supply contract."),
        _eml(root / "private.eml", "Matt <mh@gmail.example>", "Ventilators", "Do not put this on the official system."),
    ]
    custody = custody_for(enrich_settings, CUSTODIAN, None, "private", "people-tests")
    run_ingest(enrich_settings, emails, custody, root / "report.jsonl")

    ctx = SourceContext("/evidence/people-chat.txt", "e" * 64, Custody(CUSTODIAN, "private", collection="people-tests"), None, Limits())  # type: ignore[arg-type]
    sms_ctx = SourceContext("/evidence/people-sms.xml", "d" * 64, Custody(CUSTODIAN, "private", collection="people-tests"), None, Limits())  # type: ignore[arg-type]
    when = datetime(2020, 3, 4, 9, 0)
    chat = conversation_key("whatsapp", ctx, "Ventilators")
    items = [
        message_item(ctx, channel="whatsapp", locator="line[1]", conversation_id=chat, conversation_name="Ventilators",
                     seq=0, sender=sender_address("+44 7700 900123"), when=when, date_original=None, body="Call me about the ventilators"),
        message_item(ctx, channel="whatsapp", locator="line[2]", conversation_id=chat, conversation_name="Ventilators",
                     seq=1, sender=sender_address("Matt"), when=when, date_original=None, body="Use my gmail"),
        message_item(sms_ctx, channel="sms", kind="sms", locator="sms[1]", conversation_id="sms:matt", conversation_name=None,
                     seq=0, sender=sender_address("07700 900123"), when=when, date_original=None, body="Ventilators sorted"),
    ]
    enriched = Enricher(EnrichOptions(ner=False)).enrich_items(items, record=lambda problem: None)
    assert list(store.write_items(services, enrich_settings.items_alias, enriched)) == []
    services.indices.refresh(index=enrich_settings.items_alias)
    return root


@pytest.fixture(scope="module")
def api(enrich_settings, people_sample):
    with TestClient(create_app(enrich_settings)) as client:
        yield client


def _people_facet(api, **params) -> dict[str, int]:
    body = api.get("/api/v1/search", params={"custodian": CUSTODIAN, "size": 0, **params}).json()
    return {f["value"]: f["count"] for f in body["facets"]["people"]}


def test_phone_numbers_merge_across_whatsapp_and_sms_automatically(api, people_sample):
    facet = _people_facet(api)
    assert facet["person:+447700900123"] == 2
    assert facet["person:matt.h@dept.gov.uk"] == 1 and facet["person:mh@gmail.example"] == 1
    body = api.get("/api/v1/search", params={"people": "person:+447700900123"}).json()
    assert {h["channel"] for h in body["hits"]} == {"whatsapp", "sms"}


def test_alias_import_merges_every_identity_into_one_person_and_changes_the_facets(api, services, enrich_settings, people_sample, enrich_ingest):
    aliases = people_sample / "aliases.csv"
    aliases.write_text("person,identity\nMatt Hancock,matt.h@dept.gov.uk\nMatt Hancock,mh@gmail.example\n"
                       "Matt Hancock,+44 7700 900123\nMatt Hancock,Matt\n", encoding="utf-8")
    registry, changed = import_alias_file(services, enrich_settings.people_index, enrich_settings.items_alias, aliases)
    assert changed == 5 and registry.labels == {"person:matt-hancock": "Matt Hancock"}
    facet = _people_facet(api)
    assert facet["person:matt-hancock"] == 5
    assert "person:+447700900123" not in facet and "person:mh@gmail.example" not in facet
    hits = api.get("/api/v1/search", params={"people": "person:matt-hancock", "size": 10}).json()["hits"]
    assert {h["channel"] for h in hits} == {"email", "whatsapp", "sms"}
    sender = {h["from"]["raw"]: h["from"].get("person") for h in hits}
    assert sender["Matt"] == "person:matt-hancock"

    person = api.get("/api/v1/people/person:matt-hancock").json()
    assert person["label"] == "Matt Hancock" and person["source"] == "alias" and person["total"] == 5
    assert {(i["kind"], i["value"]) for i in person["identities"]} >= {
        ("email", "matt.h@dept.gov.uk"), ("email", "mh@gmail.example"), ("phone", "+447700900123"), ("name", "Matt"),
    }
    assert {c["value"]: c["count"] for c in person["by_channel"]} == {"email": 2, "whatsapp": 2, "sms": 1}
    assert person["by_record"] == [{"value": "private", "count": 5}]
    assert {(c["channel"], c["count"]) for c in person["by_channel_and_record"]} == {("email", 2), ("whatsapp", 2), ("sms", 1)}

    # A new item from one of Matt's identities gets his key at ingest, from the stored registry.
    later = _eml(people_sample / "later.eml", "mh@gmail.example", "More ventilators", "Another private note.")
    enrich_ingest([later], custodian=CUSTODIAN)
    assert _people_facet(api)["person:matt-hancock"] == 6

    # Editing the file and importing again takes the display name back out.
    aliases.write_text("Matt Hancock,matt.h@dept.gov.uk\nMatt Hancock,mh@gmail.example\nMatt Hancock,+44 7700 900123\n", encoding="utf-8")
    _, changed = import_alias_file(services, enrich_settings.people_index, enrich_settings.items_alias, aliases)
    assert changed == 1
    assert _people_facet(api)["person:matt-hancock"] == 5
    hits = api.get("/api/v1/search", params={"custodian": CUSTODIAN, "channel": "whatsapp", "size": 10}).json()["hits"]
    assert {h["from"]["raw"]: h["from"].get("person") for h in hits} == {"Matt": None, "+44 7700 900123": "person:matt-hancock"}


def test_automatic_people_have_a_page_and_unknown_keys_are_404(api, people_sample):
    person = api.get("/api/v1/people/person:foi@dept.gov.uk").json()
    assert person["source"] == "automatic" and person["total"] >= 2
    assert person["identities"] == [{"kind": "email", "value": "foi@dept.gov.uk", "items": person["total"]},
                                    {"kind": "name", "value": "FOI Team", "items": person["total"]}]
    assert api.get("/api/v1/people/person:nobody@nowhere.example").status_code == 404
    assert api.get("/api/v1/people/not-a-key").status_code == 422
