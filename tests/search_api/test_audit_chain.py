"""The audit trail's hash chain, against the real OpenSearch: entries are tampered with directly in
the index (as anyone who reaches an unauthenticated OpenSearch could) and `verify` and
`lantern audit verify` must say which; an untouched trail, written by several writers at once,
verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

from search_api.audit import AuditWriter, make_entry, write_now
from search_api.audit_chain import entry_hash, head_index, verify


def _trail(services, settings, count: int = 6):
    """Settings for a fresh audit trail of its own holding `count` entries, seq 1..count."""
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}chain{uuid.uuid4().hex[:6]}-"})
    for number in range(1, count + 1):
        write_now(services, own, [make_entry("search", f"user{number}", "cli", query=f"query {number}", total=number)])
    return own


def _source(services, settings, seq: int) -> dict:
    return services.get(index=settings.audit_index, id=str(seq))["_source"]


def _put(services, settings, doc_id: str, source: dict) -> None:
    services.index(index=settings.audit_index, id=doc_id, body=source, refresh=True)


def _verify_cli(settings) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix, "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "lantern.cli", "audit", "verify"], capture_output=True, text=True, env=env, timeout=300)


def test_an_untouched_trail_verifies(services, settings):
    trail = _trail(services, settings)
    result = verify(services, trail)
    assert result.intact and result.entries == 6 and result.last.seq == 6
    assert [_source(services, trail, seq)["seq"] for seq in range(1, 7)] == [1, 2, 3, 4, 5, 6]
    assert _source(services, trail, 2)["prev_hash"] == _source(services, trail, 1)["hash"]
    shown = _verify_cli(trail)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "intact" in shown.stdout and f"last entry 6, hash {result.last.hash}" in shown.stdout


def test_auditors_verify_over_http(services, settings):
    from fastapi.testclient import TestClient

    from search_api import accounts
    from search_api.app import create_app

    trail = _trail(services, settings).model_copy(update={"auth": True, "auth_cache_seconds": 0.0})
    auditor = {"Authorization": "Bearer " + accounts.create_key(services, trail, "chain-auditor", ["auditor"])[1]}
    officer = {"Authorization": "Bearer " + accounts.create_key(services, trail, "chain-officer", ["officer"])[1]}
    with TestClient(create_app(trail)) as api:
        assert api.get("/api/v1/audit/verify", headers=officer).status_code == 403
        intact = api.get("/api/v1/audit/verify", headers=auditor).json()
        assert intact["intact"] and intact["problems"] == [] and intact["entries"] >= 6
        services.delete(index=trail.audit_index, id="2", refresh=True)
        assert api.get("/api/v1/audit/verify", headers=auditor).json()["problems"] == ["entry 2 is missing: deleted"]


def test_writers_at_once_keep_one_sequence(services, settings):
    trail = _trail(services, settings, count=1)
    writers = [AuditWriter(services, trail) for _ in range(2)]  # two API processes

    def api_process(writer: AuditWriter, name: str) -> None:
        for number in range(40):
            writer.record(make_entry("view", name, "key", target=f"item-{number}"))

    def cli_process(name: str) -> None:
        for number in range(10):
            write_now(services, trail, [make_entry("user_add", name, "cli", target=f"user-{number}")])

    threads = [threading.Thread(target=api_process, args=(writer, f"api{i}")) for i, writer in enumerate(writers)]
    threads += [threading.Thread(target=cli_process, args=(f"cli{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        writer.close()
    result = verify(services, trail)
    assert result.problems == [] and result.entries == 1 + 80 + 20 and result.last.seq == 101


def test_a_deleted_entry_is_reported(services, settings):
    trail = _trail(services, settings)
    services.delete(index=trail.audit_index, id="3", refresh=True)
    assert verify(services, trail).problems == ["entry 3 is missing: deleted"]
    shown = _verify_cli(trail)
    assert shown.returncode == 1 and "entry 3 is missing: deleted" in shown.stdout and "tampered with" in shown.stderr


def test_entries_deleted_from_the_end_are_reported(services, settings):
    trail = _trail(services, settings)
    for seq in (5, 6):
        services.delete(index=trail.audit_index, id=str(seq), refresh=True)
    assert verify(services, trail).problems == ["entries 5 to 6 are missing: deleted from the end (or still being written)"]


def test_an_altered_entry_is_reported(services, settings):
    trail = _trail(services, settings)
    services.update(index=trail.audit_index, id="4", body={"doc": {"query": "nothing to see here"}}, refresh=True)
    problems = verify(services, trail).problems
    assert len(problems) == 1 and problems[0].startswith("entry 4 (") and "user4 search) was altered" in problems[0]
    shown = _verify_cli(trail)
    assert shown.returncode == 1 and "entry 4" in shown.stdout and "was altered" in shown.stdout


def test_reordered_entries_are_reported(services, settings):
    trail = _trail(services, settings)
    second, third = _source(services, trail, 2), _source(services, trail, 3)
    _put(services, trail, "2", third)  # swap the two documents as they are
    _put(services, trail, "3", second)
    problems = verify(services, trail).problems
    assert any(p.startswith("entry 2 (") and "is stored as entry 3" in p for p in problems), problems
    assert any(p.startswith("entry 3 (") and "is stored as entry 2" in p for p in problems), problems


def test_reordered_entries_with_recomputed_hashes_are_reported(services, settings):
    trail = _trail(services, settings)
    second, third = _source(services, trail, 2), _source(services, trail, 3)
    for seq, source in ((2, third), (3, second)):  # renumbered and rehashed by someone who knows the scheme
        source = {**source, "seq": seq}
        _put(services, trail, str(seq), {**source, "hash": entry_hash(source)})
    problems = verify(services, trail).problems
    assert problems and problems[0].startswith("entry 2 (") and "user3 search) does not follow entry 1" in problems[0]


def test_inserted_entries_are_reported(services, settings):
    trail = _trail(services, settings)
    services.index(index=trail.audit_index, body=make_entry("login", "ghost", "session"), refresh=True)  # no place in the chain
    twin = {**_source(services, trail, 3), "user": "ghost"}
    _put(services, trail, "3b", {**twin, "hash": entry_hash(twin)})  # a second entry 3
    sixth = _source(services, trail, 6)
    forged = {**make_entry("search", "ghost", "cli", query="planted"), "seq": 7, "prev_hash": sixth["hash"]}
    _put(services, trail, "7", {**forged, "hash": entry_hash(forged)})  # appended without moving the head
    problems = verify(services, trail).problems
    assert any(p.startswith("entry 3 appears twice (id 3b") for p in problems), problems
    assert "1 entry is not in the chain: inserted directly (or written before Lantern chained its trail)" in problems
    assert "entry 7 is beyond the head: inserted" in problems


def test_a_trail_without_its_head_record_still_verifies_its_chain(services, settings):
    trail = _trail(services, settings, count=3)
    services.delete(index=head_index(trail), id="head", refresh=True)
    assert verify(services, trail).problems == ["the head record is missing: entries deleted from the end cannot be ruled out"]
    write_now(services, trail, [make_entry("search", "after", "cli", query="after")])  # the next writer carries on from the entries
    assert verify(services, trail).intact


def test_verify_is_on_the_command_line_for_an_empty_trail(services, settings):
    empty = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}nochain{uuid.uuid4().hex[:6]}-"})
    shown = _verify_cli(empty)
    assert shown.returncode == 0 and "0 entries checked" in shown.stdout
