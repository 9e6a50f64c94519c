"""Failures a caller can cause, and what they cost: user input is never a 5xx, failed attempts are
audited, forwarding headers are believed only from configured proxies, and a caller's snapshots
and search time are bounded (search_api.errors, search_api.audited, search_api.limits)."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from auth_corpus import ALPHA, ALPHA_IDS
from search_api import accounts
from search_api.app import create_app
from search_api.paging import decode_cursor
from search_api.scope import Restrictions
from serving import serve_app

SLOW_SECONDS = 0.5
MANY_WORDS = " OR ".join(f"lexeme{n}" for n in range(200))


@pytest.fixture(scope="module")
def api(secured):
    with TestClient(create_app(secured), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def auditor(secured, services) -> dict[str, str]:
    return _headers(accounts.create_key(services, secured, "failure-auditor", ["auditor"])[1])


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _officer(secured, services, **restrictions) -> tuple[str, dict[str, str]]:
    name = f"officer-{uuid.uuid4().hex[:8]}"
    return f"key:{name}", _headers(accounts.create_key(services, secured, name, ["officer"], Restrictions(**restrictions))[1])


def _entries(api, auditor, who: str) -> list[dict]:
    response = api.get("/api/v1/audit", params={"user": who, "size": 500}, headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def _is_clear_4xx(response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"]


def test_hundreds_of_ored_words_are_a_400_everywhere(api, secured, services):
    _, headers = _officer(secured, services)
    _is_clear_4xx(api.get("/api/v1/search", params={"q": MANY_WORDS}, headers=headers))
    _is_clear_4xx(api.get("/api/v1/exports/results.csv", params={"q": MANY_WORDS}, headers=headers))
    report = api.post("/api/v1/reports/terms", json={"queries": ["zephyrine", MANY_WORDS]}, headers=headers)
    _is_clear_4xx(report)
    assert report.json()["query"] == 1 and "too many" in report.json()["detail"]


def test_queries_too_large_only_together_are_a_400_in_the_term_report(api, secured, services):
    """Each query alone is fine; the total row ORs all of them, which is too large for one search."""
    queries = [" OR ".join(f"lexeme{n}x{m}" for m in range(30)) for n in range(40)]
    _, headers = _officer(secured, services)
    _is_clear_4xx(api.post("/api/v1/reports/terms", json={"queries": queries}, headers=headers))


def test_a_lone_surrogate_in_a_body_is_a_422(api, secured, services):
    _, headers = _officer(secured, services)
    for body in (b'{"queries": ["zephyrine \\ud800"]}', b'{"queries": ["zephyrine"], "filters": {"custodian": ["\\udc80"]}}'):
        response = api.post("/api/v1/reports/terms", content=body, headers={**headers, "content-type": "application/json"})
        _is_clear_4xx(response, 422)
        assert "surrogate" in response.json()["detail"]


def test_failed_searches_reports_and_exports_are_audited(api, auditor, secured, services):
    who, headers = _officer(secured, services)
    assert api.get("/api/v1/search", params={"q": "zephyrine AND (budget"}, headers=headers).status_code == 400
    assert api.get("/api/v1/search", params={"q": MANY_WORDS}, headers=headers).status_code == 400
    assert api.get("/api/v1/search", params={"q": "budget", "size": 1000}, headers=headers).status_code == 422
    assert api.post("/api/v1/reports/terms", json={"queries": ["zephyrine", "w/3"]}, headers=headers).status_code == 400
    assert api.get("/api/v1/exports/results.jsonl", params={"q": "(unclosed"}, headers=headers).status_code == 400
    failed = [entry for entry in _entries(api, auditor, who) if entry["outcome"] == "failed"]
    assert sorted((e["action"], e["details"]["status"]) for e in failed) == [
        ("export", 400), ("report", 400), ("search", 400), ("search", 400), ("search", 422)]
    queries = {e.get("query") for e in failed}
    assert {"zephyrine AND (budget", MANY_WORDS, "zephyrine\nw/3", "(unclosed"} <= queries
    assert all(e["reason"] for e in failed)


def _last_search_client(url: str, query: str) -> str:
    entries = httpx.get(f"{url}/api/v1/audit", params={"action": "search", "size": 50}).json()["entries"]
    return next(entry["client"] for entry in entries if entry.get("query") == query)


@pytest.mark.parametrize(("trusted", "expected"), [([], "127.0.0.1"), (["127.0.0.1"], "203.0.113.9")])
def test_forwarded_for_is_believed_only_from_trusted_proxies(settings, services, trusted, expected):
    query = f"zephyrine {uuid.uuid4().hex[:6]}"
    for url in serve_app(settings.model_copy(update={"trusted_proxies": trusted})):
        assert httpx.get(f"{url}/api/v1/search", params={"q": query}, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
        httpx.get(f"{url}/api/v1/audit", params={"size": 1})  # flushes the queue before reading
        assert _last_search_client(url, query) == expected


def _open_pits(services) -> set[str]:
    return {pit["pit_id"] for pit in services.get_all_pits().get("pits", [])}


def test_a_caller_holds_at_most_their_bound_of_snapshots(secured, services):
    bounded = secured.model_copy(update={"cursors_per_caller": 2})
    who, headers = _officer(secured, services, custodians=(ALPHA,))
    with TestClient(create_app(bounded)) as api:
        def first_page() -> str:
            response = api.get("/api/v1/search", params={"q": "zephyrine", "size": 1, "cursor": "start"}, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()["next_cursor"]

        cursors = [first_page() for _ in range(3)]
        pits = [decode_cursor(cursor, _fingerprint(cursor))["pit"] for cursor in cursors]
        assert pits[0] not in _open_pits(services)  # the least recently used one was closed
        expired = api.get("/api/v1/search", params={"q": "zephyrine", "size": 1, "cursor": cursors[0]}, headers=headers)
        _is_clear_4xx(expired)
        assert "expired" in expired.json()["detail"]
        seen, cursor = [], cursors[2]
        while cursor:  # the newest pages to the end, and its snapshot is closed after the last page
            page = api.get("/api/v1/search", params={"q": "zephyrine", "size": 1, "cursor": cursor}, headers=headers).json()
            seen += [hit["id"] for hit in page["hits"]]
            cursor = page["next_cursor"]
        assert len(seen) == len(ALPHA_IDS) - 1
        assert pits[2] not in _open_pits(services)
        assert api.app.state.snapshots.held_by(who) == 1  # the second, still open for paging


def _fingerprint(cursor: str) -> str:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["fp"]


@pytest.fixture
def slow_opensearch(settings) -> Iterator[str]:
    """The real OpenSearch behind a loopback relay that holds every request for SLOW_SECONDS: a slow cluster."""
    target = urlsplit(settings.effective_opensearch_url)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def pipe(source: socket.socket, sink: socket.socket, delay: float) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                stop.wait(delay)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                client, _ = listener.accept()
                server = socket.create_connection((target.hostname, target.port))
                threading.Thread(target=pipe, args=(client, server, SLOW_SECONDS), daemon=True).start()
                threading.Thread(target=pipe, args=(server, client, 0), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def test_a_search_that_runs_out_of_time_is_a_clear_400_and_audited(secured, services, slow_opensearch):
    hurried = secured.model_copy(update={"opensearch_url": slow_opensearch, "search_timeout_seconds": SLOW_SECONDS / 10})
    who, headers = _officer(secured, services)
    with TestClient(create_app(hurried)) as api:
        response = api.get("/api/v1/search", params={"q": "zephyrine"}, headers=headers)
        _is_clear_4xx(response)
        assert "longer than" in response.json()["detail"]
        _is_clear_4xx(api.post("/api/v1/reports/terms", json={"queries": ["zephyrine"]}, headers=headers))
    auditor = _headers(accounts.create_key(services, secured, "hurried-auditor", ["auditor"])[1])
    with TestClient(create_app(secured)) as api:
        failed = [e for e in _entries(api, auditor, who) if e["outcome"] == "failed"]
    assert sorted((e["action"], e["details"]["status"]) for e in failed) == [("report", 400), ("search", 400)]
