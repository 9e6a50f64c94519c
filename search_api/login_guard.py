"""Throttling of logins: back-off per account name and per client address, and a bound on the
password hashes computed at once.

Each failed login counts against the name tried and the address it came from. After
`login_failures_before_backoff` failures on a name (or `login_client_failures_before_backoff`
from one address) that name (or address) is locked for `login_backoff_seconds`, doubling with
every further failure up to `login_backoff_max_seconds`; a locked login is refused before any
password is checked, even a correct one, and the answer says when to try again (Retry-After).
Unknown names are counted exactly like real ones, so the answers never tell which names exist.
A successful login clears its name's count (not its address's: one valid account must not reset
an address that is guessing at others). Counts are forgotten after a quiet `login_backoff_max_seconds`.

Each password check costs an argon2 hash (about 64 MiB, by design), so at most
`login_max_concurrent_hashes` run at once; a login that waits longer than
`login_hash_wait_seconds` for its turn is refused as busy. The state is in this process, like the
sessions; the clock is injectable so that tests need not wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from services.settings import Settings

MAX_RECORDS = 100_000  # beyond this, records that are not locking anything are dropped


class LoginBusy(RuntimeError):
    """Too many password checks are running; the login should be retried in a moment."""


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


@dataclass(frozen=True)
class Lockout:
    """A name or address that one more failure has just locked."""

    kind: str  # "account" or "client"
    value: str
    failures: int
    seconds: float


class LoginGuard:
    """One app's login throttle. Thread-safe; `clock` returns seconds (time.monotonic by default)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock
        self.records: dict[tuple[str, str], _Record] = {}
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(settings.login_max_concurrent_hashes)

    def _keys(self, name: str, client: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("account", name), ("client", client)

    def _threshold(self, kind: str) -> int:
        return self.settings.login_failures_before_backoff if kind == "account" else self.settings.login_client_failures_before_backoff

    def _current(self, key: tuple[str, str], now: float) -> _Record | None:
        record = self.records.get(key)
        if record and now - record.last_failure > self.settings.login_backoff_max_seconds and record.locked_until <= now:
            del self.records[key]  # quiet long enough: start afresh
            return None
        return record

    def retry_after(self, name: str, client: str) -> int:
        """Whole seconds until `name` may try again from `client`; 0 if it may now."""
        now = self.clock()
        with self.lock:
            waits = [record.locked_until - now for key in self._keys(name, client) if (record := self._current(key, now))]
        return max(0, math.ceil(max(waits, default=0.0)))

    def failed(self, name: str, client: str) -> list[Lockout]:
        """Count a failed login of `name` from `client`; the lockouts it has just caused (for the audit trail)."""
        now = self.clock()
        lockouts = []
        with self.lock:
            if len(self.records) >= MAX_RECORDS:
                self.records = {key: r for key, r in self.records.items() if r.locked_until > now}
            for key in self._keys(name, client):
                record = self._current(key, now) or self.records.setdefault(key, _Record())
                record.failures += 1
                record.last_failure = now
                beyond = record.failures - self._threshold(key[0])
                if beyond >= 0:
                    seconds = min(self.settings.login_backoff_max_seconds, self.settings.login_backoff_seconds * 2 ** beyond)
                    record.locked_until = now + seconds
                    lockouts.append(Lockout(key[0], key[1], record.failures, seconds))
        return lockouts

    def succeeded(self, name: str) -> None:
        """A correct login of `name`: its count starts again."""
        with self.lock:
            self.records.pop(("account", name), None)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one of the password-check slots; LoginBusy if none frees up within login_hash_wait_seconds."""
        if not self.slots.acquire(timeout=self.settings.login_hash_wait_seconds):
            raise LoginBusy("too many logins are being checked at once")
        try:
            yield
        finally:
            self.slots.release()
