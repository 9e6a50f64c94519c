"""The audit trail: what is recorded, who may read it, and that the API cannot change it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from fastapi.testclient import TestClient

from auth_corpus import ALPHA, ZED
from search_api import accounts
from search_api.app import create_app
from search_api.audit import read_audit
from search_api.scope import Restrictions

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def api(secured):
    with TestClient(create_app(secured)) as client:
        yield client


@pytest.fixture(scope="module")
def auditor(secured, services) -> dict[str, str]:
    return {"Authorization": "Bearer " + accounts.create_key(services, secured, "audit-reader", ["auditor"])[1]}


def _officer(secured, services, **restrictions) -> tuple[str, dict[str, str]]:
    """A fresh officer key: (its name in the audit trail, its headers)."""
    name = f"officer-{uuid.uuid4().hex[:8]}"
    token = accounts.create_key(services, secured, name, ["officer"], Restrictions(**restrictions))[1]
    return f"key:{name}", {"Authorization": f"Bearer {token}"}


def _entries(api, auditor, **params) -> list[dict]:
    response = api.get("/api/v1/audit", params={"size": 500, **params}, headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_search_view_and_export_are_audited_with_who_what_and_where(api, auditor, secured, services):
    who, headers = _officer(secured, services, custodians=(ALPHA,))
    total = api.get("/api/v1/search", params={"q": "zephyrine", "custodian": ALPHA}, headers=headers).json()["total"]
    assert api.get("/api/v1/items/au-a1", headers=headers).status_code == 200
    assert api.get("/api/v1/items/au-b1", headers=headers).status_code == 404
    assert api.get("/api/v1/exports/results.csv", params={"q": "budget"}, headers=headers).status_code == 200
    assert api.post("/api/v1/reports/terms", json={"queries": ["zephyrine"]}, headers=headers).status_code == 200
    entries = {(e["action"], e.get("target") or e.get("query")): e for e in _entries(api, auditor, user=who)}
    search = entries[("search", "zephyrine")]
    assert search["total"] == total > 0
    assert search["details"]["filters"] == {"custodian": [ALPHA]}
    assert search["route"] == "/api/v1/search" and search["method"] == "GET"
    assert search["client"] and search["via"] == "key" and search["roles"] == ["officer"]
    assert entries[("view", "au-a1")]["outcome"] == "ok"
    assert entries[("view", "au-b1")]["outcome"] == "not_found"  # probing outside the scope is on record
    assert entries[("export", "budget")]["details"]["format"] == "csv"
    assert entries[("report", "zephyrine")]["total"] > 0


def test_logins_ok_and_failed_and_denials_are_audited(api, auditor, secured, services):
    name = f"u-{uuid.uuid4().hex[:8]}"
    accounts.add_user(services, secured, name, PASSWORD, ["reviewer"])
    assert api.post("/api/v1/session", json={"name": name, "password": "not the password"}).status_code == 401
    assert api.post("/api/v1/session", json={"name": name, "password": PASSWORD}).status_code == 200
    assert api.get("/api/v1/exports/results.csv").status_code == 403  # the session cookie; reviewers may not export
    assert api.delete("/api/v1/session", headers={"Origin": "http://testserver"}).status_code == 200
    entries = _entries(api, auditor, user=name)
    outcomes = sorted((e["action"], e["outcome"]) for e in entries)
    assert outcomes == [("denied", "denied"), ("login", "failed"), ("login", "ok"), ("logout", "ok")]
    failed = next(e for e in entries if e["outcome"] == "failed")
    assert failed["reason"] == "wrong name or password" and "password" not in json.dumps(failed.get("details", {}))
    assert PASSWORD not in json.dumps(entries)


def test_admin_actions_over_http_are_audited(api, auditor, secured, services):
    admin = {"Authorization": "Bearer " + accounts.create_key(services, secured, f"admin-{uuid.uuid4().hex[:6]}", ["admin"])[1]}
    name = f"h-{uuid.uuid4().hex[:8]}"
    assert api.post("/api/v1/users", json={"name": name, "password": PASSWORD, "roles": ["officer"]}, headers=admin).status_code == 201
    assert api.post(f"/api/v1/users/{name}/disable", headers=admin).status_code == 200
    key = api.post("/api/v1/keys", json={"name": "audited-key", "roles": ["reviewer"]}, headers=admin).json()
    assert api.delete(f"/api/v1/keys/{key['id']}", headers=admin).status_code == 200
    targets = {(e["action"], e["target"]) for e in _entries(api, auditor, action="user_add")}
    assert ("user_add", name) in targets
    assert ("user_disable", name) in {(e["action"], e["target"]) for e in _entries(api, auditor, action="user_disable")}
    revoked = [e for e in _entries(api, auditor, action="key_revoke") if e["target"] == key["id"]]
    assert len(revoked) == 1 and revoked[0]["user"].startswith("key:admin-")
    assert key["token"] not in json.dumps(_entries(api, auditor, action="key_create"))


def test_refused_admin_actions_are_audited_as_failed(api, auditor, secured, services):
    """An admin change that fails (unknown user or key, a bad role) leaves its entry too, outcome failed."""
    admin_name = f"admin-{uuid.uuid4().hex[:6]}"
    admin = {"Authorization": "Bearer " + accounts.create_key(services, secured, admin_name, ["admin"])[1]}
    ghost, missing_key = f"ghost-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:16]
    bad = f"bad-{uuid.uuid4().hex[:8]}"
    assert api.post("/api/v1/users", json={"name": bad, "password": PASSWORD, "roles": ["emperor"]}, headers=admin).status_code == 400
    assert api.post(f"/api/v1/users/{ghost}/disable", headers=admin).status_code == 404
    assert api.post("/api/v1/keys", json={"name": bad, "roles": ["emperor"]}, headers=admin).status_code == 400
    assert api.delete(f"/api/v1/keys/{missing_key}", headers=admin).status_code == 404
    failed = {(e["action"], e.get("target"), e["details"]["status"]) for e in _entries(api, auditor, user=f"key:{admin_name}")
              if e["outcome"] == "failed"}
    assert {("user_add", bad, 400), ("user_disable", ghost, 404), ("key_revoke", missing_key, 404)} <= failed
    assert any(action == "key_create" and status == 400 for action, _, status in failed)


def test_audit_filters_by_action_and_time_and_pages(api, auditor, secured, services):
    who, headers = _officer(secured, services)
    for word in ("one", "two", "three"):
        api.get("/api/v1/search", params={"q": word}, headers=headers)
    searches = _entries(api, auditor, user=who, action="search")
    assert [e["query"] for e in searches] == ["three", "two", "one"]  # newest first
    first_page = api.get("/api/v1/audit", params={"user": who, "size": 2}, headers=auditor).json()
    second_page = api.get("/api/v1/audit", params={"user": who, "size": 2, "from": 2}, headers=auditor).json()
    assert first_page["total"] == 3 and len(first_page["entries"]) == 2 and len(second_page["entries"]) == 1
    assert _entries(api, auditor, user=who, since="2999-01-01T00:00:00Z") == []


def test_only_auditors_read_the_trail_and_nobody_can_change_it(api, auditor, secured, services):
    _, officer = _officer(secured, services)
    assert api.get("/api/v1/audit", headers=officer).status_code == 403
    assert api.get("/api/v1/audit").status_code == 401
    for method in ("PUT", "POST", "PATCH", "DELETE"):
        assert api.request(method, "/api/v1/audit", headers=auditor).status_code == 405
    reads = _entries(api, auditor, action="audit_read", user="key:audit-reader")  # reading is on record too
    assert reads and all(e["route"] == "/api/v1/audit" and e["roles"] == ["auditor"] for e in reads)


def test_entries_queued_at_shutdown_are_written(secured, services):
    who, headers = _officer(secured, services)
    with TestClient(create_app(secured)) as client:
        assert client.get("/api/v1/search", params={"q": "shutdown"}, headers=headers).status_code == 200
    # The app is gone; its lifespan flushed the writer.
    assert [e["query"] for e in read_audit(services, secured, user=who)["entries"]] == ["shutdown"]


def test_with_auth_off_requests_are_audited_as_anonymous(settings, services):
    marker = f"anon{uuid.uuid4().hex[:8]}"
    with TestClient(create_app(settings)) as local:
        assert local.get("/api/v1/search", params={"q": marker}).status_code == 200
        entries = local.get("/api/v1/audit", params={"action": "search", "size": 500}).json()["entries"]
    mine = [e for e in entries if e.get("query") == marker]
    assert len(mine) == 1 and mine[0]["user"] == "anonymous (auth off)" and mine[0]["via"] == "anonymous"


def test_cli_admin_actions_and_searches_are_audited(settings, services):
    env = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix}
    lantern = [sys.executable, "-m", "lantern.cli"]
    name = f"c-{uuid.uuid4().hex[:8]}"
    made = subprocess.run([*lantern, "users", "add", name, "--role", "officer", "--custodian", ALPHA, "--password-stdin"],
                          input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=300)
    assert made.returncode == 0, made.stderr
    user = accounts.get_user(services, settings, name)
    assert user and user.roles == ("officer",) and user.restrictions.custodians == (ALPHA,)
    shown = subprocess.run([*lantern, "audit", "--action", "user_add", "--json", "--limit", "500"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert shown.returncode == 0, shown.stderr
    entries = [json.loads(line) for line in shown.stdout.splitlines()]
    mine = [e for e in entries if e["target"] == name]
    assert len(mine) == 1 and mine[0]["user"].startswith("cli:") and mine[0]["via"] == "cli"


def test_entries_wait_while_opensearch_is_unreachable_and_are_written_when_it_is_back(settings, services):
    from search_api.audit import AuditWriter, make_entry
    from services.clients import opensearch_client

    dead = opensearch_client(settings.model_copy(update={"opensearch_url": "http://127.0.0.1:9"}), timeout=1)
    writer = AuditWriter(dead, settings)
    marker = f"retry-{uuid.uuid4().hex[:8]}"
    writer.record(make_entry("search", marker, "anonymous", query=marker))
    assert writer.flush(timeout=3) is False  # nothing could be written, nothing was dropped
    writer.client = services  # OpenSearch is back
    assert writer.flush(timeout=60) is True
    writer.close()
    assert [e["query"] for e in read_audit(services, settings, user=marker)["entries"]] == [marker]


# --- every route that shows archive content is audited ---------------------------------------------
# Keyed by (method, path) as the app declares them, so a new route fails
# `test_every_route_is_listed_as_audited_or_showing_no_content` until it is put in one table.

AUDITED_VIEWS: dict[tuple[str, str], tuple[str, dict, dict]] = {
    # (method, path): (the URL called, its query or JSON body, fields the audit entry must have)
    ("GET", "/api/v1/search"): ("/api/v1/search", {"q": "zephyrine"}, {"action": "search", "query": "zephyrine"}),
    ("GET", "/api/v1/items/{item_id}"): ("/api/v1/items/au-a1", {}, {"action": "view", "target": "au-a1"}),
    ("GET", "/api/v1/conversations/{conversation_id}"): (
        "/api/v1/conversations/au-conv", {}, {"action": "view", "target": "conversation:au-conv"}),
    ("GET", "/api/v1/threads/{thread_id}"): ("/api/v1/threads/au-thread", {}, {"action": "view", "target": "thread:au-thread"}),
    ("GET", "/api/v1/people/{key}"): (f"/api/v1/people/{ZED}", {}, {"action": "view", "target": ZED}),
    ("POST", "/api/v1/reports/terms"): ("/api/v1/reports/terms", {"queries": ["zephyrine"]}, {"action": "report", "query": "zephyrine"}),
    ("GET", "/api/v1/reports/record-gaps"): ("/api/v1/reports/record-gaps", {}, {"action": "report"}),
    ("POST", "/api/v1/reports/record-gaps/transfer"): (
        "/api/v1/reports/record-gaps/transfer", {"include_transferred": True}, {"action": "export"}),
    ("GET", "/api/v1/exports/results.csv"): ("/api/v1/exports/results.csv", {"q": "zephyrine"}, {"action": "export", "query": "zephyrine"}),
    ("GET", "/api/v1/exports/results.jsonl"): ("/api/v1/exports/results.jsonl", {"q": "zephyrine"}, {"action": "export", "query": "zephyrine"}),
    ("GET", "/api/v1/exports/production.zip"): (
        "/api/v1/exports/production.zip", {"q": "zephyrine"}, {"action": "export", "query": "zephyrine"}),
}
SHOWS_NO_ARCHIVE_CONTENT = {
    ("GET", "/api/v1/health"): "service status only",
    ("GET", "/api/v1/session"): "who is logged in",
    ("POST", "/api/v1/session"): "logging in (audited as login, tested above)",
    ("DELETE", "/api/v1/session"): "logging out (audited as logout, tested above)",
    ("GET", "/api/v1/audit"): "the audit trail itself (audited as audit_read, tested above)",
    ("GET", "/api/v1/users"): "accounts, not archive content",
    ("POST", "/api/v1/users"): "accounts (audited as user_add, tested above)",
    ("POST", "/api/v1/users/{name}/disable"): "accounts (audited as user_disable, tested above)",
    ("GET", "/api/v1/keys"): "API keys, not archive content",
    ("POST", "/api/v1/keys"): "API keys (audited as key_create, tested above)",
    ("DELETE", "/api/v1/keys/{key_id}"): "API keys (audited as key_revoke, tested above)",
    ("GET", "/api/v1/audit/verify"): "the audit chain's integrity, no entry's content (tested in test_audit_chain.py)",
}


def test_every_route_is_listed_as_audited_or_showing_no_content(secured):
    declared = {(method.upper(), path) for path, operations in create_app(secured).openapi()["paths"].items()
                for method in operations}
    assert not set(AUDITED_VIEWS) & set(SHOWS_NO_ARCHIVE_CONTENT)
    assert declared == set(AUDITED_VIEWS) | set(SHOWS_NO_ARCHIVE_CONTENT), (
        "a route was added or removed: put it in AUDITED_VIEWS (with a call) or SHOWS_NO_ARCHIVE_CONTENT (with why)")


@pytest.mark.parametrize("route", sorted(AUDITED_VIEWS), ids=lambda route: f"{route[0]} {route[1]}")
def test_each_view_of_archive_content_is_audited(api, auditor, secured, services, route):
    method, _ = route
    url, arguments, expected = AUDITED_VIEWS[route]
    who, headers = _officer(secured, services)
    sent = {"json": arguments} if method == "POST" else {"params": arguments}
    response = api.request(method, url, headers=headers, **sent)
    assert response.status_code == 200, response.text
    entries = [e for e in _entries(api, auditor, user=who) if e["route"] == url and e["method"] == method]
    assert len(entries) == 1, entries
    assert {name: entries[0].get(name) for name in expected} == expected
    assert entries[0]["outcome"] == "ok" and entries[0]["roles"] == ["officer"]


def test_the_trail_these_tests_wrote_through_the_api_and_the_cli_verifies(api, secured, services):
    from search_api.audit_chain import verify

    assert api.app.state.audit.flush(timeout=60)  # the entries of this module's last requests are written
    result = verify(services, secured)
    assert result.entries > 10 and result.problems == []


def test_entries_wait_while_other_writers_win_the_chain_head_and_are_written_after(settings, services, monkeypatch):
    """ChainBusy (the head moved MAX_CLAIM_ATTEMPTS times) is a reason to try again, never to drop the batch."""
    from search_api import audit
    from search_api.audit_chain import ChainBusy, verify

    real_claim, lost = audit.claim, []

    def contended(*args, **kwargs):
        if len(lost) < 2:  # the first two claims lose every race to other writers
            lost.append(1)
            raise ChainBusy("the audit head moved 100 times while claiming; entries not written")
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(audit, "claim", contended)
    writer = audit.AuditWriter(services, settings)
    marker = f"busy-{uuid.uuid4().hex[:8]}"
    writer.record(audit.make_entry("search", marker, "anonymous", query=marker))
    assert writer.flush(timeout=60) is True
    writer.close()
    assert len(lost) == 2
    assert [e["query"] for e in read_audit(services, settings, user=marker)["entries"]] == [marker]
    assert verify(services, settings).intact


class _HeadWriteLandsThenTimesOut:
    """OpenSearch, except that the first write of the chain's head goes through and then times out."""

    def __init__(self, client) -> None:
        self.client, self.timed_out = client, 0

    def __getattr__(self, name):
        return getattr(self.client, name)

    def index(self, **kwargs):
        result = self.client.index(**kwargs)
        if kwargs.get("id") == "head" and not self.timed_out:
            from opensearchpy.exceptions import ConnectionTimeout

            self.timed_out += 1
            raise ConnectionTimeout("TIMEOUT", "read timed out after the head was written", None)
        return result


def test_a_head_write_that_timed_out_but_landed_keeps_its_numbers(settings, services):
    """Retrying the claim finds its own chain at the head and keeps it: no sequence numbers skipped."""
    from search_api.audit import AuditWriter, make_entry
    from search_api.audit_chain import verify

    fresh = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}lands-{uuid.uuid4().hex[:6]}-"})
    flaky = _HeadWriteLandsThenTimesOut(services)
    writer = AuditWriter(flaky, fresh)
    for n in range(3):
        writer.record(make_entry("search", "lands", "anonymous", query=f"q{n}"))
    assert writer.flush(timeout=60) is True
    writer.close()
    assert flaky.timed_out == 1
    result = verify(services, fresh)
    assert result.intact, result.problems
    assert result.entries == 3 and result.head is not None and result.head.seq == 3
