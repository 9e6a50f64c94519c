"""Threads across custodians and exact duplicates ("also held by"), on the ingested sample archive."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app


@pytest.fixture(scope="module")
def api(sample, settings):
    with TestClient(create_app(settings)) as client:
        yield client


def _by_message_id(services, settings, message_id):
    hits = services.search(index=settings.items_alias, body={"query": {"term": {"message_id": message_id}}, "size": 10})
    return [h["_source"] for h in hits["hits"]["hits"]]


def test_a_message_held_by_two_custodians_is_two_items_in_one_dup_group(services, settings, sample):
    archive, _, _ = sample
    copies = _by_message_id(services, settings, archive.duplicate_message_id)
    assert sorted(c["custodian"] for c in copies) == ["Alice Hart", "Ben Okafor"]
    assert len({c["id"] for c in copies}) == 2
    assert len({c["dup_group"] for c in copies}) == 1
    # Their attachments are byte-identical files: one group too, with one copy per custodian.
    attachments = services.search(index=settings.items_alias, body={"query": {"terms": {"parent_id": [c["id"] for c in copies]}}})
    groups = {h["_source"]["dup_group"] for h in attachments["hits"]["hits"]}
    assert len(groups) == 1 and attachments["hits"]["total"]["value"] == 2


def test_item_view_says_who_else_holds_a_copy(api, services, settings, sample):
    archive, _, _ = sample
    alice = next(c for c in _by_message_id(services, settings, archive.duplicate_message_id) if c["custodian"] == "Alice Hart")
    item = api.get(f"/api/v1/items/{alice['id']}").json()
    assert [(c["custodian"], c["record"]) for c in item["also_held_by"]] == [("Ben Okafor", "official")]


def test_collapsing_duplicates_shows_each_message_once(api, sample):
    plain = api.get("/api/v1/search", params={"q": "Northgate visit", "size": 100}).json()
    collapsed = api.get("/api/v1/search", params={"q": "Northgate visit", "size": 100, "collapse_duplicates": True}).json()
    groups = [h["dup_group"] for h in collapsed["hits"]]
    assert len(groups) == len(set(groups))
    assert len(collapsed["hits"]) < len(plain["hits"])
    assert collapsed["total_unique"] == len(set(h["dup_group"] for h in plain["hits"]))


def test_thread_spans_custodians_in_date_order(api, services, settings, sample):
    archive, _, _ = sample
    root = _by_message_id(services, settings, archive.duplicate_message_id)[0]
    thread = api.get(f"/api/v1/threads/{root['thread_id']}").json()
    subjects = [m["subject"] for m in thread["messages"]]
    assert subjects[0] == "Minister's visit to Northgate - 14 May"
    assert all(s.lower().endswith("minister's visit to northgate - 14 may") for s in subjects)
    assert len(subjects) == 4  # the visit email (held twice, shown once), Alice's reply, Ben's reply, Priya's answer
    dates = [m["date"] for m in thread["messages"]]
    assert dates == sorted(dates)
    assert sorted(h["custodian"] for h in thread["messages"][0]["held_by"]) == ["Alice Hart", "Ben Okafor"]
    assert {m["custodian"] for m in thread["messages"]} == {"Alice Hart", "Ben Okafor"}


def test_every_email_has_a_thread_id(services, settings, sample):
    missing = services.count(index=settings.items_alias, body={"query": {"bool": {
        "filter": [{"term": {"kind": "email"}}], "must_not": [{"exists": {"field": "thread_id"}}]}}})["count"]
    assert missing == 0


def test_unknown_thread_is_404(api):
    assert api.get("/api/v1/threads/thread:nope").status_code == 404
