"""Nothing outside a caller's scope leaks through any route or export format, nor through what the
responses let a scoped caller infer (README, Security: "What a scoped caller may know").

A key confined to Auth Alpha calls every route and format over the auth corpus, whose Alpha items
have every cross-item field pointing at Beta (tests/search_api/auth_corpus.py). No response may
contain any of Beta's canaries, and each cross-item field is checked by name. A route added to
the app without being listed here fails test_every_item_route_is_in_the_battery.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient

from auth_corpus import ALPHA, ALPHA_IDS, BETA_CANARIES, NEAR_GROUP, YAN, YAN_ALIASES
from search_api import accounts
from search_api.app import create_app
from search_api.scope import Restrictions

Q = {"q": "zephyrine"}
# Every route that returns item data, with the calls that exercise it (method, path, arguments).
BATTERY = {
    "/api/v1/search": [("GET", "/api/v1/search", {"params": {**Q, "size": 100}}),
                       ("GET", "/api/v1/search", {"params": {**Q, "size": 100, "expand": "families"}}),
                       ("GET", "/api/v1/search", {"params": {**Q, "size": 100, "cursor": "start", "sort": "date_asc"}}),
                       ("GET", "/api/v1/search", {"params": {"q": "zephyrine OR quillwort", "size": 100, "sort": "relevance"}})],
    "/api/v1/items/{item_id}": [("GET", f"/api/v1/items/{item_id}", {}) for item_id in sorted(ALPHA_IDS)],
    "/api/v1/threads/{thread_id}": [("GET", f"/api/v1/threads/{thread_id}", {})
                                    for thread_id in ("au-thread", "au-thread-2", "au-thread-3")],
    "/api/v1/conversations/{conversation_id}": [("GET", "/api/v1/conversations/au-conv", {})],
    "/api/v1/people/{key}": [("GET", f"/api/v1/people/{YAN}", {})],
    "/api/v1/exports/results.csv": [("GET", "/api/v1/exports/results.csv", {"params": Q})],
    "/api/v1/exports/results.jsonl": [("GET", "/api/v1/exports/results.jsonl", {"params": Q})],
    "/api/v1/exports/production.zip": [("GET", "/api/v1/exports/production.zip", {"params": Q})],
    "/api/v1/reports/terms": [("POST", "/api/v1/reports/terms", {"json": {"queries": ["zephyrine", "quillwort"]}}),
                              ("POST", "/api/v1/reports/terms?format=csv", {"json": {"queries": ["zephyrine", "quillwort"]}})],
    "/api/v1/reports/record-gaps": [("GET", "/api/v1/reports/record-gaps", {}),
                                    ("GET", "/api/v1/reports/record-gaps", {"params": {"format": "csv"}})],
    "/api/v1/reports/record-gaps/transfer": [
        ("POST", "/api/v1/reports/record-gaps/transfer", {"json": {"include_transferred": True}})],
}
# Routes that return no item data: health, the caller's session, accounts, the audit trail.
NO_ITEM_DATA = {"/api/v1/health", "/api/v1/session", "/api/v1/users", "/api/v1/users/{name}/disable", "/api/v1/keys",
                "/api/v1/keys/{key_id}", "/api/v1/audit", "/api/v1/audit/verify"}
CALLS = [call for calls in BATTERY.values() for call in calls]


@pytest.fixture(scope="module")
def api(secured):
    with TestClient(create_app(secured)) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(secured, services) -> dict[str, str]:
    return {"alpha": accounts.create_key(services, secured, "leak-alpha", ["officer"], Restrictions(custodians=(ALPHA,)))[1],
            "all": accounts.create_key(services, secured, "leak-all", ["officer"])[1]}


def _text(response) -> str:
    """Everything a response says, as text: a ZIP's entries are read one by one."""
    if response.headers.get("content-type", "").startswith("application/zip"):
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        return "\n".join(name + "\n" + archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return response.text


def _get(api, token, method, path, arguments):
    response = api.request(method, path, headers={"Authorization": f"Bearer {token}"}, **arguments)
    assert response.status_code == 200, (path, response.text)
    return response


def test_every_item_route_is_in_the_battery(secured):
    routes = {path for path in create_app(secured).openapi()["paths"] if path.startswith("/api/v1")}
    assert routes - NO_ITEM_DATA == set(BATTERY), "list the new route in BATTERY (or NO_ITEM_DATA) with its calls"


@pytest.mark.parametrize(("method", "path", "arguments"), CALLS, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(CALLS)])
def test_no_route_or_format_names_anything_outside_scope(api, tokens, method, path, arguments):
    text = _text(_get(api, tokens["alpha"], method, path, arguments))
    leaked = [canary for canary in BETA_CANARIES if canary in text]
    assert leaked == [], f"{path} told a caller confined to {ALPHA} about {leaked}"


def _jsonl(api, token) -> dict[str, dict]:
    lines = _get(api, token, "GET", "/api/v1/exports/results.jsonl", {"params": Q}).text.splitlines()
    return {item["id"]: item for item in map(json.loads, filter(None, lines))}


def test_jsonl_export_confines_links_copies_groups_and_families(api, tokens):
    mine = _jsonl(api, tokens["alpha"])
    assert [link["id"] for link in mine["au-a2"]["official_copy_links"]] == ["au-a1"]
    assert mine["au-a2"]["official_copy"] == "quoted"  # the strongest copy it may see
    assert mine["au-a3"]["official_copy_links"] == [] and mine["au-a3"]["official_copy"] == "none"
    assert mine["au-a3"]["near_dup_group"] is None
    assert mine["au-a3x"]["parent_id"] is None and mine["au-a3x"]["family_id"] is None
    everyone = _jsonl(api, tokens["all"])  # the same items, unconfined: the fields were there to leak
    assert [link["id"] for link in everyone["au-a3"]["official_copy_links"]] == ["au-b2"]
    assert everyone["au-a3"]["official_copy"] == "exact" and everyone["au-a3"]["near_dup_group"] == NEAR_GROUP
    assert everyone["au-a3x"]["parent_id"] == "au-b2"


def test_transfer_package_counts_a_copy_out_of_scope_as_no_copy_like_the_report(api, tokens):
    """au-a3's only official copy is Beta's: to a caller confined to Alpha it is uncopied business in the
    gap report, so it is in their transfer package too (leaving it out would tell them the copy exists)."""
    report = _get(api, tokens["alpha"], "GET", "/api/v1/reports/record-gaps", {}).json()
    assert {"au-a3", "au-a4"} <= {item["id"] for item in report["uncopied"]}
    package = _get(api, tokens["alpha"], "POST", "/api/v1/reports/record-gaps/transfer", {"json": {"include_transferred": True}})
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(package.content)).read("manifest.json"))
    rows = manifest["rows"]
    assert {"au-a3", "au-a4"} <= {row["item_id"] for row in rows}
    everyone = _get(api, tokens["all"], "POST", "/api/v1/reports/record-gaps/transfer", {"json": {"include_transferred": True}})
    rows = json.loads(zipfile.ZipFile(io.BytesIO(everyone.content)).read("manifest.json"))
    rows = rows["rows"]
    assert "au-a3" not in {row["item_id"] for row in rows} and "au-a4" in {row["item_id"] for row in rows}


def test_item_view_confines_official_copy_and_parent(api, tokens):
    item = _get(api, tokens["alpha"], "GET", "/api/v1/items/au-a3", {}).json()
    assert item["official_copy"] == "none" and item["official_copy_links"] == [] and item["near_dup_group"] is None
    attachment = _get(api, tokens["alpha"], "GET", "/api/v1/items/au-a3x", {}).json()
    assert attachment["parent"] is None and attachment["parent_id"] is None
    assert _get(api, tokens["all"], "GET", "/api/v1/items/au-a3", {}).json()["official_copy"] == "exact"


def test_csv_export_and_search_hits_confine_references(api, tokens):
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(
        _get(api, tokens["alpha"], "GET", "/api/v1/exports/results.csv", {"params": Q}).text))}
    assert rows["au-a3x"]["parent_id"] == "" and rows["au-a3x"]["family_id"] == ""
    hits = {hit["id"]: hit for hit in _get(api, tokens["alpha"], "GET", "/api/v1/search", {"params": {**Q, "size": 100}}).json()["hits"]}
    assert hits["au-a3"]["near_dup_group"] is None and hits["au-a3x"]["family_id"] is None
    everyone = {hit["id"]: hit for hit in _get(api, tokens["all"], "GET", "/api/v1/search", {"params": {**Q, "size": 100}}).json()["hits"]}
    assert everyone["au-a3"]["near_dup_group"] == NEAR_GROUP


def test_scoped_search_has_no_relevance_scores(api, tokens):
    """Scores use index-wide term statistics: a rare word out of scope would show in them."""
    params = {"params": {"q": "zephyrine OR quillwort", "size": 100, "sort": "relevance"}}
    mine = _get(api, tokens["alpha"], "GET", "/api/v1/search", params).json()["hits"]
    assert mine and all(hit["score"] is None for hit in mine)
    dates = [hit["date"] for hit in mine]
    assert dates == sorted(dates, reverse=True)  # relevance within a scope is newest first
    assert all(isinstance(hit["score"], float) for hit in _get(api, tokens["all"], "GET", "/api/v1/search", params).json()["hits"])


def test_person_view_lists_only_aliases_seen_in_scope(api, tokens):
    mine = _get(api, tokens["alpha"], "GET", f"/api/v1/people/{YAN}", {}).json()
    assert mine["aliases"] == ["yan@alpha.example"]
    assert {identity["value"] for identity in mine["identities"]} == {"Yan", "yan@alpha.example"}
    assert _get(api, tokens["all"], "GET", f"/api/v1/people/{YAN}", {}).json()["aliases"] == YAN_ALIASES


def test_record_gap_report_counts_only_copies_in_scope(api, tokens):
    mine = _get(api, tokens["alpha"], "GET", "/api/v1/reports/record-gaps", {}).json()
    assert "au-a3" in {item["id"] for item in mine["uncopied"]}
    assert mine["summary"]["copied"]["exact"] == 0
    everyone = _get(api, tokens["all"], "GET", "/api/v1/reports/record-gaps", {}).json()
    assert everyone["summary"]["copied"]["exact"] >= 1
    assert "au-a3" not in {item["id"] for item in everyone["uncopied"]}


def test_record_gap_rows_agree_with_the_items_awaiting_filing_in_scope(api, tokens):
    """au-a3, transferred by the Alpha-scoped caller, is listed as awaiting filing: its month's row must
    count it too (a row saying 0 would tell the caller that the item has a copy out of scope)."""
    _get(api, tokens["alpha"], "POST", "/api/v1/reports/record-gaps/transfer", {"json": {"include_transferred": True}})
    report = _get(api, tokens["alpha"], "GET", "/api/v1/reports/record-gaps", {}).json()
    [a3] = [item for item in report["uncopied"] if item["id"] == "au-a3"]
    assert a3["transfer"]["state"] == "transferred, awaiting filing"
    for row in report["months"]:
        listed = [item for item in report["uncopied"] if (item["custodian"], item["month"]) == (row["custodian"], row["month"])]
        assert (row["uncopied"], row["awaiting_filing"]) == (len(listed), sum(item["transfer"] is not None for item in listed)), row
    assert report["summary"]["awaiting_filing"] == sum(item["transfer"] is not None for item in report["uncopied"])
