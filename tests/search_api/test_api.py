"""The HTTP API against the real index holding the sample archive."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app


@pytest.fixture(scope="module")
def api(sample, settings):
    with TestClient(create_app(settings)) as client:
        yield client


def test_search_finds_a_body_word_with_highlight_and_custody(api, sample):
    archive, _, _ = sample
    response = api.get("/api/v1/search", params={"q": "tellurian"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    hit = body["hits"][0]
    assert hit["custodian"] == "Alice Hart"
    assert hit["record"] == "private"
    assert hit["kind"] == "email"
    assert hit["subject"] == archive.planted["tellurian"]["subject"]
    assert "<mark>tellurian</mark>" in hit["highlights"]["body"][0].lower()


def test_subject_word_is_found_in_the_subject_field(api):
    hit = api.get("/api/v1/search", params={"q": "quorvex"}).json()["hits"][0]
    assert "quorvex" in hit["subject"].lower()
    assert hit["record"] == "official" and hit["custodian"] == "Ben Okafor"


def test_english_stemming_matches_other_word_forms(api):
    singular = api.get("/api/v1/search", params={"q": "contract"}).json()["total"]
    plural = api.get("/api/v1/search", params={"q": "contracts"}).json()["total"]
    assert singular > 0 and singular == plural


def test_filters_narrow_results_and_facets_count_them(api):
    everything = api.get("/api/v1/search", params={"size": 0}).json()
    facets = {f["value"]: f["count"] for f in everything["facets"]["custodian"]}
    assert set(facets) >= {"Alice Hart", "Ben Okafor"}
    alice = api.get("/api/v1/search", params={"custodian": "Alice Hart", "size": 100}).json()
    assert alice["total"] == facets["Alice Hart"]
    assert {h["custodian"] for h in alice["hits"]} == {"Alice Hart"}
    alice_private = api.get("/api/v1/search", params={"custodian": "Alice Hart", "record": "private", "size": 100}).json()
    assert 0 < alice_private["total"] < alice["total"]
    assert {h["record"] for h in alice_private["hits"]} == {"private"}
    both = api.get("/api/v1/search", params=[("custodian", "Alice Hart"), ("custodian", "Ben Okafor"), ("size", 0)]).json()
    assert both["total"] == facets["Alice Hart"] + facets["Ben Okafor"]


def test_date_filter_is_inclusive_and_respected(api):
    response = api.get("/api/v1/search", params={"date_from": "2020-04-01", "date_to": "2020-04-30", "size": 100}).json()
    assert response["total"] > 0
    assert all("2020-04-01" <= h["date"][:10] <= "2020-04-30" for h in response["hits"])


def test_item_view_has_text_parent_and_attachments(api):
    attachment = api.get("/api/v1/search", params={"q": "zanzibarquill"}).json()["hits"][0]
    item = api.get(f"/api/v1/items/{attachment['id']}").json()
    assert "zanzibarquill" in item["body"].lower()
    assert item["parent"]["id"] == attachment["parent_id"]
    parent = api.get(f"/api/v1/items/{attachment['parent_id']}").json()
    assert parent["parent"] is None
    assert attachment["id"] in [a["id"] for a in parent["attachments"]]
    assert parent["from"]["address"]


def test_unknown_item_is_404(api):
    response = api.get("/api/v1/items/0000000000000000000000000000000000000000")
    assert response.status_code == 404
    assert "no item" in response.json()["detail"]


@pytest.mark.parametrize("params, fragment", [
    ({"size": 1000}, "size"),
    ({"date_from": "not-a-date"}, "date_from"),
    ({"record": "secret"}, "official"),
    ({"date_from": "2021-01-01", "date_to": "2020-01-01"}, "after"),
    ({"from": 9990, "size": 50}, "at most"),
])
def test_bad_parameters_get_a_4xx_with_a_clear_message(api, params, fragment):
    response = api.get("/api/v1/search", params=params)
    assert 400 <= response.status_code < 500
    assert fragment in response.json()["detail"]


def test_odd_query_syntax_gets_a_400_with_position_never_a_500(api):
    for q in ['"unclosed phrase', "((", "a AND OR b", "-", "title:[x TO"]:
        response = api.get("/api/v1/search", params={"q": q})
        assert response.status_code == 400, q
        assert {"detail", "position", "hint"} <= set(response.json()), q
    for q in ["*", "\\", "a & b", "~"]:
        assert api.get("/api/v1/search", params={"q": q}).status_code == 200, q


def test_health_reports_both_services(api):
    body = api.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["opensearch"]["ok"] and body["tika"]["ok"]
    assert "Tika" in body["tika"]["detail"]


def test_ui_is_served_with_a_strict_content_security_policy(api):
    page = api.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert api.get("/static/app.js").status_code == 200


def test_api_responses_carry_the_security_headers_too(api):
    response = api.get("/api/v1/search", params={"q": "vaccine"})
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"  # personal data: never kept in a browser cache
    assert response.headers["x-content-type-options"] == "nosniff"


def test_request_bodies_over_the_limit_are_refused_with_413(api, settings):
    too_big = b"x" * (settings.max_request_bytes + 1)
    declared = api.post("/api/v1/reports/terms", content=too_big, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert "larger than" in declared.json()["detail"]

    def streamed():  # no Content-Length: counted as it arrives
        for _ in range(settings.max_request_bytes // 65536 + 2):
            yield b"y" * 65536

    assert api.post("/api/v1/reports/terms", content=streamed(), headers={"content-type": "application/json"}).status_code == 413
    small = api.post("/api/v1/reports/terms", json={"queries": ["vaccine"]})
    assert small.status_code == 200


def test_cli_search_json_prints_the_api_response_body(api, settings):
    from_api = api.get("/api/v1/search", params={"q": "vaccine", "custodian": "Alice Hart"}).json()
    env = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix}
    done = subprocess.run(
        [sys.executable, "-m", "lantern.cli", "search", "vaccine", "--custodian", "Alice Hart", "--json"],
        capture_output=True, text=True, env=env, check=True,
    )
    from_cli = json.loads(done.stdout)
    from_api.pop("took_ms")
    from_cli.pop("took_ms")
    assert from_cli == from_api
    assert from_cli["total"] > 0
