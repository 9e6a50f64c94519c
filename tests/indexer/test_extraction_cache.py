"""The extraction cache: one Tika call per content, shared by threads asking at once, bounded."""

from __future__ import annotations

import threading
import time

import pytest

from indexer import errors
from indexer.extract import ExtractionCache, Extracted


def _entries(text: str) -> list[Extracted]:
    return [Extracted(embedded_path="", content_type="text/plain", file_name="a.txt", text=text)]


def _ask_together(cache: ExtractionCache, key, compute, threads: int = 6) -> list:
    """`threads` threads fetch `key` at once; each one's result or exception."""
    outcomes: list = [None] * threads
    start = threading.Barrier(threads)

    def ask(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = cache.fetch(key, compute)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            outcomes[n] = exc

    workers = [threading.Thread(target=ask, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


def test_threads_asking_for_the_same_content_at_once_share_one_answer():
    cache, calls = ExtractionCache(), []

    def slow_extract():
        calls.append(1)
        time.sleep(0.2)
        return _entries("minutes of the meeting")

    outcomes = _ask_together(cache, ExtractionCache.key(b"same bytes", "a.pdf"), slow_extract)
    assert len(calls) == 1
    assert all(outcome[0].text == "minutes of the meeting" for outcome in outcomes)
    assert cache.hits == 5


def test_a_failure_is_given_to_the_threads_waiting_for_it_but_not_kept():
    cache, calls = ExtractionCache(), []

    def failing_extract():
        calls.append(1)
        time.sleep(0.2)
        raise errors.ExtractionFailed("Tika timed out after 120s (tried twice)")

    key = ExtractionCache.key(b"hard file", "hard.pdf")
    outcomes = _ask_together(cache, key, failing_extract)
    assert len(calls) == 1  # the threads waiting got the outcome; none asked Tika again
    assert all(isinstance(outcome, errors.ExtractionFailed) for outcome in outcomes)
    assert len({id(outcome) for outcome in outcomes}) == len(outcomes)  # each its own exception object
    assert cache.fetch(key, lambda: _entries("read at last"))[0].text == "read at last"  # a later call tries again


def test_the_extension_is_part_of_the_key_and_old_entries_go_first_when_full():
    cache = ExtractionCache(max_chars=400)
    assert ExtractionCache.key(b"x", "a.PDF") == ExtractionCache.key(b"x", "b.pdf") != ExtractionCache.key(b"x", "a.txt")
    for n in range(6):
        cache.fetch(ExtractionCache.key(bytes([n]), "f.txt"), lambda n=n: _entries(f"{n}" * 99))
    fresh = []
    cache.fetch(ExtractionCache.key(bytes([5]), "f.txt"), lambda: fresh.append(5) or _entries("again"))
    cache.fetch(ExtractionCache.key(bytes([0]), "f.txt"), lambda: fresh.append(0) or _entries("again"))
    assert fresh == [0]  # the newest entry is still held; the oldest was pushed out
    with pytest.raises(errors.Encrypted):
        cache.fetch(ExtractionCache.key(b"locked", "l.pdf"), lambda: (_ for _ in ()).throw(errors.Encrypted("password")))
