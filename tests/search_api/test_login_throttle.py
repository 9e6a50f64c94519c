"""Login throttling against the real app and index: back-off per name and per client address,
the same answers for names that do not exist, lockouts on the audit trail, and a bound on the
password hashes computed at once. The guard's clock is replaced by one the test moves, so nothing
here depends on how fast the machine is."""

from __future__ import annotations

import threading
import uuid

import pytest
from fastapi.testclient import TestClient

from search_api import accounts
from search_api.app import create_app
from search_api.audit import AuditUnavailable, read_audit

PASSWORD = "a long enough password"


class Clock:
    """A clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def throttled(secured):
    """Settings with small thresholds: 3 failures per name, 6 per address, 60 s first lock."""
    return secured.model_copy(update={"login_failures_before_backoff": 3, "login_client_failures_before_backoff": 6,
                                      "login_backoff_seconds": 60.0, "login_backoff_max_seconds": 3600.0})


@pytest.fixture
def api(throttled):
    """(TestClient, clock) over a fresh app, so each test starts with no failures counted."""
    clock = Clock()
    with TestClient(create_app(throttled)) as client:
        client.app.state.login_guard.clock = clock
        yield client, clock


def _user(services, settings) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    accounts.add_user(services, settings, name, PASSWORD, ["reviewer"])
    return name


def _login(client, name: str, password: str):
    """A login as the UI sends it (from Lantern's own page: the client keeps the cookie of the last success)."""
    return client.post("/api/v1/session", json={"name": name, "password": password}, headers={"Origin": "http://testserver"})


def test_failed_logins_lock_the_name_even_for_the_right_password_then_back_off(api, throttled, services):
    client, clock = api
    name = _user(services, throttled)
    assert [_login(client, name, "wrong password!!").status_code for _ in range(3)] == [401, 401, 401]
    locked = _login(client, name, PASSWORD)  # the right password, but the name is locked
    assert locked.status_code == 429 and "set-cookie" not in locked.headers
    assert locked.headers["Retry-After"] == "60" and "try again in 60 seconds" in locked.json()["detail"]
    clock.now += 30
    assert _login(client, name, PASSWORD).headers["Retry-After"] == "30"
    clock.now += 31
    assert _login(client, name, "wrong password!!").status_code == 401  # one more failure ...
    assert _login(client, name, PASSWORD).headers["Retry-After"] == "120"  # ... doubles the lock
    clock.now += 121
    assert _login(client, name, PASSWORD).status_code == 200
    assert _login(client, name, "wrong password!!").status_code == 401  # a success starts the count again
    assert _login(client, name, PASSWORD).status_code == 200


def test_unknown_names_get_exactly_the_answers_real_names_get(api, throttled, services):
    client, clock = api
    real, unknown = _user(services, throttled), f"nobody-{uuid.uuid4().hex[:8]}"

    def answers(name: str) -> list[tuple]:
        seen = []
        for _ in range(5):
            response = _login(client, name, "wrong password!!")
            seen.append((response.status_code, response.json(), response.headers.get("Retry-After")))
        return seen

    assert answers(real) == answers(unknown)
    assert [status for status, _, _ in answers(real)] == [429] * 5


def test_one_address_trying_many_names_is_locked(api, throttled, services):
    client, clock = api
    names = [f"spray-{i}-{uuid.uuid4().hex[:6]}" for i in range(6)]
    assert [_login(client, name, "Winter2025!!!").status_code for name in names] == [401] * 6
    fresh = _user(services, throttled)  # a name never tried, from the same address
    refused = _login(client, fresh, PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"


def test_lockouts_and_throttled_attempts_are_audited(api, throttled, services):
    client, clock = api
    name = _user(services, throttled)
    for _ in range(4):
        _login(client, name, "wrong password!!")
    client.app.state.audit.flush()
    entries = read_audit(services, throttled, user=name, size=100)["entries"]
    locks = [e for e in entries if e["action"] == "login_locked"]
    assert len(locks) == 1 and locks[0]["target"] == name and "after 3 failed logins" in locks[0]["reason"]
    assert [e["reason"] for e in entries if e["action"] == "login"].count("throttled") == 1


def test_password_checks_beyond_the_bound_are_refused_not_computed(throttled, services):
    bounded = throttled.model_copy(update={"login_max_concurrent_hashes": 1, "login_hash_wait_seconds": 0.0})
    name = _user(services, bounded)
    with TestClient(create_app(bounded)) as client:
        guard = client.app.state.login_guard
        with guard.hashing():  # another login holds the only slot
            busy = _login(client, name, PASSWORD)
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
            assert "set-cookie" not in busy.headers
        assert _login(client, name, PASSWORD).status_code == 200


def test_concurrent_logins_never_hash_more_than_the_bound_at_once(throttled, services, monkeypatch):
    bounded = throttled.model_copy(update={"login_max_concurrent_hashes": 2, "login_hash_wait_seconds": 600.0,
                                           "login_client_failures_before_backoff": 100})
    names = [_user(services, bounded) for _ in range(2)]
    running, most, lock = 0, 0, threading.Lock()
    real_check = accounts.check_password

    def counted(*args, **kwargs):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return real_check(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(accounts, "check_password", counted)
    with TestClient(create_app(bounded)) as client:
        results = []
        threads = [threading.Thread(target=lambda n=n: results.append(_login(client, n, PASSWORD).status_code))
                   for n in names * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results.count(200) == 8
    assert 1 <= most <= 2


class _CountedSlots:
    """The guard's slot semaphore, telling the test how many logins have asked for a slot."""

    def __init__(self, slots: int) -> None:
        self.inner = threading.BoundedSemaphore(slots)
        self.asked = 0
        self.changed = threading.Condition()

    def acquire(self, timeout: float | None = None) -> bool:
        with self.changed:
            self.asked += 1
            self.changed.notify_all()
        return self.inner.acquire(timeout=timeout)

    def release(self) -> None:
        self.inner.release()


def test_a_burst_of_parallel_guesses_gets_no_more_checks_than_the_threshold(throttled, services, monkeypatch):
    """Eight wrong passwords for one name at once, all queued for the only password-check slot: the name
    locks after three, and the other five are refused without a password check (429)."""
    bounded = throttled.model_copy(update={"login_max_concurrent_hashes": 1, "login_hash_wait_seconds": 600.0})
    name = _user(services, bounded)
    checks = []
    real_check = accounts.check_password
    monkeypatch.setattr(accounts, "check_password", lambda *a, **k: checks.append(1) or real_check(*a, **k))
    with TestClient(create_app(bounded)) as client:
        guard = client.app.state.login_guard
        guard.clock = Clock()
        guard.slots = slots = _CountedSlots(1)
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(_login(client, name, "wrong password").status_code))
                   for _ in range(8)]
        with guard.hashing():  # every guess passes the early check and waits for the slot held here
            for thread in threads:
                thread.start()
            with slots.changed:
                slots.changed.wait_for(lambda: slots.asked == 9)
        for thread in threads:
            thread.join()
    assert len(checks) == 3
    assert sorted(results) == [401] * 3 + [429] * 5


def test_a_failure_is_counted_even_when_the_audit_trail_refuses_it(api, throttled, services, monkeypatch):
    client, _ = api
    name = _user(services, throttled)
    trail = client.app.state.audit

    def refuse(entry):
        raise AuditUnavailable("the audit trail is not being written")

    monkeypatch.setattr(trail, "record", refuse)
    assert [_login(client, name, "wrong password").status_code for _ in range(3)] == [503] * 3
    monkeypatch.undo()
    assert _login(client, name, PASSWORD).status_code == 429  # the three failures were counted all the same
