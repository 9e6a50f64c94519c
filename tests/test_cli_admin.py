"""`lantern users`, `lantern keys` and the `serve` guard, run as the real command against the real index."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from fastapi.testclient import TestClient

from lantern.cli_admin import serving_refusal
from search_api import accounts
from search_api.app import create_app
from services.index import ensure_items_index

PASSWORD = "a long enough password"


def lantern(settings, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix, **env}
    return subprocess.run([sys.executable, "-m", "lantern.cli", *args], input=stdin, capture_output=True, text=True,
                          env=environment, timeout=300)


def test_serve_refuses_a_public_address_without_auth(settings, services):
    result = lantern(settings, "serve", "--host", "0.0.0.0", LANTERN_AUTH="off")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "refusing to serve on 0.0.0.0" in message
    assert "LANTERN_AUTH=on" in message and "lantern users add NAME --role admin" in message


def test_serve_refuses_a_public_address_with_auth_but_no_enabled_admin(settings, services):
    empty = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}noadmin-"})
    result = lantern(empty, "serve", "--host", "0.0.0.0", LANTERN_AUTH="on")
    assert result.returncode == 1
    assert "no enabled admin user exists" in " ".join(result.stderr.split())
    name = f"admin-{uuid.uuid4().hex[:6]}"
    accounts.add_user(services, empty, name, PASSWORD, ["admin"])
    secured = empty.model_copy(update={"auth": True})
    assert serving_refusal(secured, services, "0.0.0.0") is None
    accounts.disable_user(services, empty, name)
    assert "no enabled admin" in serving_refusal(secured, services, "0.0.0.0")


def test_users_add_list_and_disable(settings, services):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    added = lantern(settings, "users", "add", name, "--role", "reviewer", "--official-only", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    listed = lantern(settings, "users", "list", COLUMNS="200")
    assert name in listed.stdout and "official only" in listed.stdout and "argon2" not in listed.stdout
    assert lantern(settings, "users", "add", name, "--role", "reviewer", "--password-stdin", stdin=PASSWORD + "\n").returncode == 1
    short = lantern(settings, "users", "add", name + "x", "--role", "reviewer", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    assert lantern(settings, "users", "disable", name).returncode == 0
    assert accounts.get_user(services, settings, name).active is False
    assert lantern(settings, "users", "disable", "nobody-such").returncode == 1


def test_keys_create_prints_a_working_token_once_and_revoke_stops_it(settings, services):
    ensure_items_index(services, settings)
    created = lantern(settings, "keys", "create", "case-system", "--role", "officer", "--custodian", "Nobody Here")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("lantern_") and "\n" not in token
    key_id = accounts.key_id_of(token)
    listed = lantern(settings, "keys", "list", COLUMNS="200")
    assert key_id in listed.stdout and token not in listed.stdout and "Nobody Here" in listed.stdout
    secured = settings.model_copy(update={"auth": True, "auth_cache_seconds": 0.0})
    with TestClient(create_app(secured)) as api:
        answer = api.get("/api/v1/search", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json()["total"] == 0  # restricted to a custodian with no items
        assert lantern(settings, "keys", "revoke", key_id).returncode == 0
        assert api.get("/api/v1/search", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert lantern(settings, "keys", "revoke", "0000000000000000").returncode == 1


def test_unknown_role_is_refused(settings, services):
    result = lantern(settings, "keys", "create", "bad", "--role", "superuser")
    assert result.returncode == 1 and "superuser" in result.stderr
