"""Authentication, roles and scopes with LANTERN_AUTH on, against the real index.

Every role is tried on every route (allowed: the route's own answer, checked; denied: 403 with a
JSON detail); keys restricted to a custodian, a collection or the official record are checked on
every read path for hits, counts, facets and copies they must not see.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile

import pytest
from fastapi.testclient import TestClient

from auth_corpus import ALL, ALPHA, ALPHA_IDS, BETA, C2_IDS, OFFICIAL_IDS, ZED
from search_api import accounts
from search_api.app import create_app
from search_api.audit import read_audit
from search_api.scope import Restrictions

PASSWORD = "a long enough password"
SAME_ORIGIN = {"Origin": "http://testserver"}  # what a browser sends from Lantern's own page (TestClient's host)
# What each role may do, written out here rather than read from the code under test.
ALLOWED = {
    "officer": {"search", "view", "export"},
    "reviewer": {"search", "view"},
    "admin": {"users", "keys"},
    "auditor": {"audit"},
}
ROUTES = [  # (method, path, request arguments, permission)
    ("GET", "/api/v1/search", {"params": {"q": "zephyrine"}}, "search"),
    ("POST", "/api/v1/reports/terms", {"json": {"queries": ["zephyrine"]}}, "search"),
    ("GET", "/api/v1/items/au-a1", {}, "view"),
    ("GET", "/api/v1/threads/au-thread", {}, "view"),
    ("GET", "/api/v1/conversations/au-conv", {}, "view"),
    ("GET", f"/api/v1/people/{ZED}", {}, "view"),
    ("GET", "/api/v1/reports/record-gaps", {}, "search"),
    ("POST", "/api/v1/reports/record-gaps/transfer", {"json": {"include_transferred": True}}, "export"),
    ("GET", "/api/v1/exports/results.csv", {"params": {"q": "zephyrine"}}, "export"),
    ("GET", "/api/v1/exports/results.jsonl", {"params": {"q": "zephyrine"}}, "export"),
    ("GET", "/api/v1/exports/production.zip", {"params": {"q": "zephyrine"}}, "export"),
    ("GET", "/api/v1/audit", {}, "audit"),
    ("GET", "/api/v1/audit/verify", {}, "audit"),
    ("GET", "/api/v1/users", {}, "users"),
    ("POST", "/api/v1/users", {"json": {"name": "not-made", "password": PASSWORD, "roles": ["no-such-role"]}}, "users"),
    ("POST", "/api/v1/users/nobody-at-all/disable", {}, "users"),
    ("GET", "/api/v1/keys", {}, "keys"),
    ("POST", "/api/v1/keys", {"json": {"name": "not-made", "roles": ["no-such-role"]}}, "keys"),
    ("DELETE", "/api/v1/keys/0000000000000000", {}, "keys"),
]
ROUTE_IDS = [f"{method} {path.split('/api/v1/')[1].split('/')[0]} {i}" for i, (method, path, _, _) in enumerate(ROUTES)]


def _csv_ids(response) -> set[str]:
    return {row["id"] for row in csv.DictReader(io.StringIO(response.text))}


def _zip_names(response) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(response.content)).namelist()


# What an allowed, unrestricted caller gets from each route: (status, a check of the body).
ANSWERS = {
    ("GET", "/api/v1/search"): (200, lambda r: {h["id"] for h in r.json()["hits"]} == ALL),
    ("POST", "/api/v1/reports/terms"): (200, lambda r: r.json()["total"]["hits"] == len(ALL)),
    ("GET", "/api/v1/items/au-a1"): (200, lambda r: r.json()["id"] == "au-a1"),
    ("GET", "/api/v1/threads/au-thread"): (200, lambda r: {c["id"] for m in r.json()["messages"] for c in m["held_by"]} == {"au-a1", "au-b1"}),
    ("GET", "/api/v1/conversations/au-conv"): (200, lambda r: [m["id"] for m in r.json()["messages"]] == ["au-m1", "au-m2"]),
    ("GET", f"/api/v1/people/{ZED}"): (200, lambda r: r.json()["key"] == ZED),
    ("GET", "/api/v1/reports/record-gaps"): (200, lambda r: "summary" in r.json() and "months" in r.json()),
    ("GET", "/api/v1/exports/results.csv"): (200, lambda r: _csv_ids(r) == ALL),
    ("GET", "/api/v1/exports/results.jsonl"): (200, lambda r: {json.loads(line)["id"] for line in r.text.splitlines()} == ALL),
    ("GET", "/api/v1/exports/production.zip"): (200, lambda r: "manifest.csv" in _zip_names(r)),
    ("POST", "/api/v1/reports/record-gaps/transfer"): (200, lambda r: {"manifest.json", "README.txt"} <= set(_zip_names(r))),
    ("GET", "/api/v1/audit"): (200, lambda r: isinstance(r.json()["entries"], list)),
    ("GET", "/api/v1/audit/verify"): (200, lambda r: isinstance(r.json()["entries"], int) and "intact" in r.json()),
    ("GET", "/api/v1/users"): (200, lambda r: isinstance(r.json()["users"], list) and "hash" not in r.text),  # never a password hash
    ("POST", "/api/v1/users"): (400, lambda r: "no-such-role" in r.json()["detail"]),  # the role is checked, nothing made
    ("POST", "/api/v1/users/nobody-at-all/disable"): (404, lambda r: "nobody-at-all" in r.json()["detail"]),
    ("GET", "/api/v1/keys"): (200, lambda r: "test-admin" in {k["name"] for k in r.json()["keys"]}),
    ("POST", "/api/v1/keys"): (400, lambda r: "no-such-role" in r.json()["detail"]),
    ("DELETE", "/api/v1/keys/0000000000000000"): (404, lambda r: "0000000000000000" in r.json()["detail"]),
}


@pytest.fixture(scope="module")
def api(secured):
    with TestClient(create_app(secured)) as client:
        yield client


@pytest.fixture(scope="module")
def keys(secured, services) -> dict[str, str]:
    """A token per role (unrestricted) and per restriction (officer role)."""
    made = {role: accounts.create_key(services, secured, f"test-{role}", [role])[1] for role in ALLOWED}
    made["alpha"] = accounts.create_key(services, secured, "test-alpha", ["officer"], Restrictions(custodians=(ALPHA,)))[1]
    made["official"] = accounts.create_key(services, secured, "test-official", ["officer"], Restrictions(official_only=True))[1]
    made["c2"] = accounts.create_key(services, secured, "test-c2", ["officer"], Restrictions(collections=("au-c2",)))[1]
    return made


def _call(api, token: str | None, method: str, path: str, arguments: dict):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.request(method, path, headers=headers, **arguments)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize(("method", "path", "arguments", "permission"), ROUTES, ids=ROUTE_IDS)
def test_each_role_is_allowed_or_denied_on_each_route(api, keys, role, method, path, arguments, permission):
    response = _call(api, keys[role], method, path, arguments)
    if permission in ALLOWED[role]:
        status, answered = ANSWERS[(method, path)]
        assert response.status_code == status, response.text
        assert answered(response), response.text[:2000]
    else:
        assert response.status_code == 403, response.text
        assert permission in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "arguments", "permission"), ROUTES, ids=ROUTE_IDS)
def test_every_data_route_needs_credentials(api, method, path, arguments, permission):
    response = _call(api, None, method, path, arguments)
    assert response.status_code == 401
    assert "log in" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_or_unknown_key_is_rejected(api, keys):
    for token in ("not-a-key", "lantern_0123456789abcdef_" + "A" * 43, keys["officer"][:-1] + "x"):
        response = api.get("/api/v1/search", headers=_auth(token))
        assert response.status_code == 401, token
    assert api.get("/api/v1/search", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_health_and_the_page_stay_public_and_say_auth_is_on(api):
    assert api.get("/api/v1/health").json()["auth"] == "on"
    assert api.get("/").status_code == 200


def _search(api, token, **params):
    response = api.get("/api/v1/search", params={"q": "zephyrine", "size": 100, **params}, headers=_auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_unrestricted_officer_sees_the_whole_corpus(api, keys):
    body = _search(api, keys["officer"])
    assert {hit["id"] for hit in body["hits"]} >= ALPHA_IDS | C2_IDS
    custodians = {f["value"] for f in body["facets"]["custodian"]}
    assert {ALPHA, BETA} <= custodians


def test_custodian_restricted_key_cannot_see_count_or_facet_another_custodian(api, keys):
    body = _search(api, keys["alpha"])
    assert {hit["id"] for hit in body["hits"]} == ALPHA_IDS
    assert body["total"] == len(ALPHA_IDS)
    assert {f["value"] for f in body["facets"]["custodian"]} == {ALPHA}
    assert sum(f["count"] for f in body["facets"]["record"]) == len(ALPHA_IDS)
    assert sum(f["count"] for f in body["facets"]["month"]) == len(ALPHA_IDS)
    # Asking for the other custodian, by filter or by query, finds nothing and counts nothing.
    for params in ({"custodian": BETA}, {"q": f'custodian:"{BETA}"'}, {"q": "person:" + ZED.removeprefix("person:")}):
        other = _search(api, keys["alpha"], **params)
        assert other["total"] == 0 and other["hits"] == [], params
        assert all(not buckets for buckets in other["facets"].values()), params


def test_restricted_scope_holds_through_cursor_paging_and_families(api, keys):
    seen, cursor = [], "start"
    while cursor:
        page = _search(api, keys["alpha"], size=1, cursor=cursor)
        seen += [hit["id"] for hit in page["hits"]]
        cursor = page.get("next_cursor")
    assert set(seen) == ALPHA_IDS and len(seen) == len(ALPHA_IDS)
    families = _search(api, keys["alpha"], expand="families")
    members = {m["id"] for hit in families["hits"] if hit["family"] for m in hit["family"]["members"]}
    assert members <= ALPHA_IDS


def test_item_outside_scope_is_404_and_copies_outside_scope_are_not_revealed(api, keys):
    assert api.get("/api/v1/items/au-b1", headers=_auth(keys["alpha"])).status_code == 404
    mine = api.get("/api/v1/items/au-a1", headers=_auth(keys["alpha"])).json()
    assert mine["also_held_by"] == []
    assert [a["id"] for a in mine["attachments"]] == ["au-a1x"]
    everyone = api.get("/api/v1/items/au-a1", headers=_auth(keys["officer"])).json()
    assert [copy["id"] for copy in everyone["also_held_by"]] == ["au-b1"]


def test_links_to_official_copies_outside_scope_are_not_named(api, keys):
    mine = api.get("/api/v1/items/au-a2", headers=_auth(keys["alpha"])).json()
    assert [link["id"] for link in mine["official_copy_links"]] == ["au-a1"]
    everyone = api.get("/api/v1/items/au-a2", headers=_auth(keys["officer"])).json()
    assert [link["id"] for link in everyone["official_copy_links"]] == ["au-b1", "au-a1"]


def test_thread_conversation_and_person_are_confined_to_scope(api, keys):
    thread = api.get("/api/v1/threads/au-thread", headers=_auth(keys["alpha"])).json()
    assert [m["id"] for m in thread["messages"]] == ["au-a1"] and thread["total"] == 1
    assert [h["custodian"] for h in thread["messages"][0]["held_by"]] == [ALPHA]
    conversation = api.get("/api/v1/conversations/au-conv", headers=_auth(keys["alpha"])).json()
    assert conversation["total"] == 1 and [m["id"] for m in conversation["messages"]] == ["au-m1"]
    assert api.get("/api/v1/conversations/au-conv", headers=_auth(keys["officer"])).json()["total"] == 2
    assert api.get(f"/api/v1/people/{ZED}", headers=_auth(keys["alpha"])).status_code == 404
    assert api.get(f"/api/v1/people/{ZED}", headers=_auth(keys["officer"])).json()["total"] == 1


def test_exports_contain_only_items_in_scope(api, keys):
    params = {"q": "zephyrine"}
    rows = list(csv.DictReader(io.StringIO(api.get("/api/v1/exports/results.csv", params=params, headers=_auth(keys["alpha"])).text)))
    assert {row["id"] for row in rows} == ALPHA_IDS
    lines = api.get("/api/v1/exports/results.jsonl", params=params, headers=_auth(keys["alpha"])).text.splitlines()
    assert {json.loads(line)["id"] for line in lines if line} == ALPHA_IDS
    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/exports/production.zip", params=params, headers=_auth(keys["alpha"])).content))
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert {row["item_id"] for row in manifest if row["item_id"]} == ALPHA_IDS


def test_term_report_counts_only_items_in_scope(api, keys):
    def report(token):
        response = api.post("/api/v1/reports/terms", json={"queries": ["zephyrine", "budget"]}, headers=_auth(token))
        assert response.status_code == 200, response.text
        return response.json()

    mine = report(keys["alpha"])
    assert mine["queries"][0]["hits"] == len(ALPHA_IDS)
    assert mine["queries"][0]["by_custodian"] == {ALPHA: len(ALPHA_IDS)}
    assert mine["queries"][1]["hits"] == 1  # au-a1 only; Beta's copy au-b1 is not counted
    assert mine["queries"][1]["hits_with_families"] == 2  # au-a1 and its attachment
    assert mine["total"]["by_custodian"] == {ALPHA: len(ALPHA_IDS)}
    everyone = report(keys["officer"])
    assert everyone["queries"][1]["by_custodian"].get(BETA) == 1


def test_official_only_key_sees_only_the_official_record(api, keys):
    body = _search(api, keys["official"])
    ours = {hit["id"] for hit in body["hits"]} & (ALPHA_IDS | C2_IDS)
    assert ours == OFFICIAL_IDS
    assert {f["value"] for f in body["facets"]["record"]} == {"official"}
    assert _search(api, keys["official"], record="private")["total"] == 0
    assert api.get("/api/v1/items/au-a2", headers=_auth(keys["official"])).status_code == 404


def test_collection_restricted_key_sees_only_its_collection(api, keys):
    body = _search(api, keys["c2"])
    assert {hit["id"] for hit in body["hits"]} == C2_IDS
    assert api.get("/api/v1/items/au-a1", headers=_auth(keys["c2"])).status_code == 404


def test_revoked_key_is_rejected(api, secured, services):
    key, token = accounts.create_key(services, secured, "short-lived", ["reviewer"])
    assert api.get("/api/v1/search", headers=_auth(token)).status_code == 200
    accounts.revoke_key(services, secured, key.key_id)
    assert api.get("/api/v1/search", headers=_auth(token)).status_code == 401


def _user(services, secured, roles, **restrictions) -> str:
    name = f"u-{uuid.uuid4().hex[:8]}"
    accounts.add_user(services, secured, name, PASSWORD, roles, Restrictions(**restrictions))
    return name


def test_login_sets_a_strict_http_only_cookie_and_session_says_who(secured, services):
    name = _user(services, secured, ["reviewer"], custodians=(ALPHA,))
    with TestClient(create_app(secured)) as browser:
        assert browser.get("/api/v1/session").status_code == 401
        response = browser.post("/api/v1/session", json={"name": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        who = browser.get("/api/v1/session").json()
        assert who["name"] == name and who["roles"] == ["reviewer"] and who["auth"] == "on"
        assert who["restrictions"]["custodians"] == [ALPHA]
        assert {h["id"] for h in browser.get("/api/v1/search", params={"q": "zephyrine"}).json()["hits"]} == ALPHA_IDS
        assert browser.get("/api/v1/exports/results.csv").status_code == 403  # a reviewer does not export
        assert browser.delete("/api/v1/session", headers=SAME_ORIGIN).status_code == 200
        assert browser.get("/api/v1/search").status_code == 401


def test_wrong_password_unknown_user_and_disabled_user_cannot_log_in(api, secured, services):
    name = _user(services, secured, ["officer"])
    assert api.post("/api/v1/session", json={"name": name, "password": "wrong password!!"}).status_code == 401
    assert api.post("/api/v1/session", json={"name": "no-such-user", "password": PASSWORD}).status_code == 401
    accounts.disable_user(services, secured, name)
    response = api.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_disabling_a_user_ends_their_open_session(secured, services):
    name = _user(services, secured, ["officer"])
    with TestClient(create_app(secured)) as browser:
        assert browser.post("/api/v1/session", json={"name": name, "password": PASSWORD}).status_code == 200
        assert browser.get("/api/v1/search").status_code == 200
        accounts.disable_user(services, secured, name)
        assert browser.get("/api/v1/search").status_code == 401


def test_a_forged_session_cookie_is_rejected(api):
    api.cookies.set("lantern_session", "forged-token-value")
    try:
        assert api.get("/api/v1/search").status_code == 401
    finally:
        api.cookies.clear()


def test_admin_manages_users_and_keys_over_http(api, keys):
    admin = _auth(keys["admin"])
    name = f"h-{uuid.uuid4().hex[:8]}"
    made = api.post("/api/v1/users", json={"name": name, "password": PASSWORD, "roles": ["reviewer"]}, headers=admin)
    assert made.status_code == 201 and "password_hash" not in made.text
    assert api.post("/api/v1/users", json={"name": name, "password": PASSWORD, "roles": ["reviewer"]}, headers=admin).status_code == 400
    assert name in {u["name"] for u in api.get("/api/v1/users", headers=admin).json()["users"]}
    assert api.post(f"/api/v1/users/{name}/disable", headers=admin).json()["active"] is False
    key = api.post("/api/v1/keys", json={"name": "via-http", "roles": ["reviewer"], "custodians": [ALPHA]}, headers=admin).json()
    assert {h["id"] for h in _search(api, key["token"])["hits"]} == ALPHA_IDS
    assert "secret_sha256" not in api.get("/api/v1/keys", headers=admin).text
    assert api.delete(f"/api/v1/keys/{key['id']}", headers=admin).json()["active"] is False
    assert api.get("/api/v1/search", headers=_auth(key["token"])).status_code == 401


def test_passwords_are_stored_as_argon2_hashes(secured, services):
    name = _user(services, secured, ["auditor"])
    stored = services.get(index=secured.users_index, id=name)["_source"]
    assert stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in json.dumps(stored)


def test_auth_off_is_the_anonymous_user_with_every_role(settings, services):
    with TestClient(create_app(settings)) as local:
        who = local.get("/api/v1/session").json()
        assert who["auth"] == "off" and who["name"] == "anonymous (auth off)"
        assert set(who["roles"]) == set(ALLOWED)
        assert local.get("/api/v1/audit").status_code == 200


def test_cookie_authenticated_writes_must_come_from_lantern_s_own_origin(secured, services):
    admin, victim = _user(services, secured, ["admin"]), _user(services, secured, ["reviewer"])
    disable = f"/api/v1/users/{victim}/disable"
    with TestClient(create_app(secured)) as browser:
        assert browser.post("/api/v1/session", json={"name": admin, "password": PASSWORD}).status_code == 200
        for headers in ({"Origin": "http://127.0.0.1:9999"}, {"Origin": "https://evil.testserver"}, {"Origin": "null"},
                        {"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"}, {}):
            refused = browser.post(disable, headers=headers)
            assert refused.status_code == 403, headers
            assert "cross-origin request refused" in refused.json()["detail"]
        assert accounts.get_user(services, secured, victim).active
        assert browser.post(disable, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
        assert browser.post(disable, headers=SAME_ORIGIN).status_code == 200
        assert not accounts.get_user(services, secured, victim).active
        browser.app.state.audit.flush()
    refusals = [e for e in read_audit(services, secured, user=admin, action="denied", size=500)["entries"]]
    assert len(refusals) == 6 and all(e["reason"].startswith("cross-origin") and e["route"] == disable for e in refusals)


def test_a_login_from_another_site_is_refused_and_api_keys_need_no_origin(api, keys, secured, services):
    name = _user(services, secured, ["reviewer"])
    forged = api.post("/api/v1/session", json={"name": name, "password": PASSWORD}, headers={"Sec-Fetch-Site": "same-site"})
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    made = api.post("/api/v1/keys", json={"name": "no-origin", "roles": ["reviewer"]}, headers=_auth(keys["admin"]))
    assert made.status_code == 201  # a machine client with a key sends no Origin and needs none
