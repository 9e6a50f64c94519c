"""Crash and resume: `kill -9` of `lantern ingest` at random moments, then the same command again,
ends with exactly the item ids and the exception report of a clean run; plus the journal itself."""

from __future__ import annotations

import mailbox
import os
import random
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from indexer.journal import JournalBusy, RunJournal
from indexer.pipeline import discover
from indexer.report import prune_report, read_report
from reliability_helpers import item_ids, report_entries

LANTERN = Path(sys.executable).parent / "lantern"
SEEDS = (11, 22, 33, 44)


def _env(settings, home: Path, prefix: str) -> dict[str, str]:
    """The child's environment: the shared servers as external URLs (a child never restarts them),
    its own home (journals, default reports) and index prefix."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANTERN_STATE_DIR",)}
    env.update(LANTERN_HOME=str(home), LANTERN_INDEX_PREFIX=prefix,
               LANTERN_OPENSEARCH_URL=settings.effective_opensearch_url, LANTERN_TIKA_URL=settings.effective_tika_url)
    return env


def _command(corpus: Path) -> list[str]:
    return [str(LANTERN), "ingest", str(corpus), "--custodian", "Resume Tester", "--collection", "resume"]


def _done_units(home: Path) -> int:
    return sum(path.read_text(errors="replace").count('"event": "done"') for path in (home / "state" / "journals").glob("*.jsonl"))


def _interrupted(home: Path) -> bool:
    """Whether a run of this home is left to resume: a journal that has not recorded its completion."""
    return any('"event": "complete"' not in path.read_text(errors="replace")
               for path in (home / "state" / "journals").glob("*.jsonl"))


def _completed(home: Path) -> bool:
    """Whether a run of this home has finished: its report is written and no journal is left to resume."""
    return any((home / "reports").glob("*.jsonl")) and not _interrupted(home)


def _run_and_kill(command: list[str], env: dict[str, str], home: Path, rng: random.Random, clean_seconds: float,
                  units: int) -> tuple[bool, str]:
    """Start the ingest and kill -9 it at a random moment: a random time into the run, or right after
    a random number of files were journalled. Returns (killed, how)."""
    by_progress = rng.random() < 0.5
    delay, after_units = rng.uniform(0, clean_seconds), rng.randint(1, units - 1)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    while process.poll() is None:
        if (_done_units(home) >= after_units) if by_progress else (time.monotonic() - started >= delay):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    how = f"after {after_units} files journalled" if by_progress else f"{delay:.1f}s in"
    # A kill that lands after the run recorded its completion (while it prints its summary) interrupts nothing.
    return process.returncode == -signal.SIGKILL and not _completed(home), how


def test_kill_at_random_points_then_resume_matches_a_clean_run(services, settings, reliability_corpus, tmp_path):
    command = _command(reliability_corpus)
    units = sum(1 for unit in discover([reliability_corpus]) if isinstance(unit, Path))
    clean_home = tmp_path / "clean"
    started = time.monotonic()
    subprocess.run(command, env=_env(settings, clean_home, f"{settings.index_prefix}clean-"), check=True, capture_output=True)
    clean_seconds = time.monotonic() - started
    clean_ids = item_ids(settings, f"{settings.index_prefix}clean-items")
    [clean_report] = (clean_home / "reports").glob("*.jsonl")
    clean_entries = report_entries(clean_report)
    assert clean_ids and clean_entries, "the corpus should give items and problems to compare"

    figures = []
    for seed in SEEDS:
        rng = random.Random(seed)
        home, prefix = tmp_path / f"seed-{seed}", f"{settings.index_prefix}seed-{seed}-"
        env = _env(settings, home, prefix)
        kills = []
        for _ in range(1 + seed % 2):
            kills.append(_run_and_kill(command, env, home, rng, clean_seconds, units))
            if _completed(home):
                break  # that run finished: there is nothing to resume, and a new run would read everything again
        finished = None if _completed(home) else subprocess.run(command, env=env, capture_output=True, text=True)
        assert finished is None or finished.returncode == 0, finished.stderr
        assert item_ids(settings, f"{prefix}items") == clean_ids, f"seed {seed}, kills {kills}"
        reports = list((home / "reports").glob("*.jsonl"))
        assert len(reports) == 1, f"the resumed run should reuse the interrupted run's report, found {reports}"
        assert report_entries(reports[0]) == clean_entries, f"seed {seed}, kills {kills}"
        assert not _interrupted(home), "a completed run closes its journal"
        figures.append((seed, kills, finished is not None and "resumed" in finished.stdout))
    killed = [how for _, kills, _ in figures for was_killed, how in kills if was_killed]
    print(f"\nkill-and-resume: {len(SEEDS)} seeds, {len(killed)} kills ({'; '.join(killed)}), "
          f"{len(clean_ids)} item ids and {len(clean_entries)} report entries compared per seed")
    assert len(killed) >= len(SEEDS) // 2, f"too few kills landed mid-run: {figures}"


def test_a_completed_run_reads_everything_again(services, settings, tmp_path):
    box = tmp_path / "box.mbox"
    _write_mbox(box, ["first", "second"])
    env = _env(settings, tmp_path / "home", f"{settings.index_prefix}again-")
    first = subprocess.run(_command(box), env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(_command(box), env=env, capture_output=True, text=True, check=True)
    assert "items: 2" in first.stdout and "items: 2" in second.stdout
    assert "resumed" not in second.stdout


def _write_mbox(path: Path, subjects: list[str]) -> None:
    path.unlink(missing_ok=True)
    box = mailbox.mbox(path)
    for number, subject in enumerate(subjects):
        message = EmailMessage()
        message["From"], message["To"] = "a@example.org", "b@example.org"
        message["Subject"], message["Message-ID"] = subject, f"<{subject}.{number}@example.org>"
        message["Date"] = "Tue, 03 Mar 2020 10:00:00 +0000"
        message.set_content(f"body of {subject}")
        box.add(message)
    box.close()


def test_reingesting_a_changed_file_leaves_no_stale_items(ingest_files, services, settings, tmp_path):
    box = tmp_path / "changing.mbox"
    _write_mbox(box, ["old one", "old two", "kept"])
    ingest_files([box], custodian="Stale Tester")
    query = {"query": {"term": {"source_path": str(box.resolve())}}, "_source": ["subject"], "size": 100}
    before = {h["_source"]["subject"] for h in services.search(index=settings.items_alias, body=query)["hits"]["hits"]}
    assert before == {"old one", "old two", "kept"}
    _write_mbox(box, ["kept", "new"])
    summary, _ = ingest_files([box], custodian="Stale Tester")
    after = {h["_source"]["subject"] for h in services.search(index=settings.items_alias, body=query)["hits"]["hits"]}
    assert after == {"kept", "new"}
    assert summary.stale_items_deleted == 3  # the new file has a new digest, so all old ids are stale


def _journal(folder: Path, report: Path, restart: bool = False) -> RunJournal:
    return RunJournal.open(folder, "k" * 32, None, report, restart)


def test_journal_skips_a_torn_last_line_and_resumes(tmp_path):
    unit = tmp_path / "a.eml"
    unit.write_text("x")
    with _journal(tmp_path / "j", tmp_path / "r.jsonl") as journal:
        journal.mark_done(str(unit), {"d1"})
    with (tmp_path / "j" / f"{'k' * 32}.jsonl").open("a") as handle:
        handle.write('{"event": "done", "unit": "/half')  # killed mid-write
    with _journal(tmp_path / "j", tmp_path / "other.jsonl") as journal:
        assert journal.resumed and journal.is_done(unit) and journal.report_path == tmp_path / "r.jsonl"
        assert journal.digests() == {str(unit): {"d1"}}
    lines = (tmp_path / "j" / f"{'k' * 32}.jsonl").read_text().splitlines()
    assert all(line.endswith("}") for line in lines)


def test_journal_notices_a_file_changed_since_it_was_done(tmp_path):
    unit = tmp_path / "a.eml"
    unit.write_text("x")
    with _journal(tmp_path / "j", tmp_path / "r.jsonl") as journal:
        journal.mark_done(str(unit), {"d1"})
    unit.write_text("changed")
    with _journal(tmp_path / "j", tmp_path / "r.jsonl") as journal:
        assert not journal.is_done(unit)


def test_the_same_run_cannot_be_open_twice(tmp_path):
    with _journal(tmp_path / "j", tmp_path / "r.jsonl"):
        with pytest.raises(JournalBusy):
            _journal(tmp_path / "j", tmp_path / "r.jsonl")


def test_a_child_left_holding_the_journal_does_not_lock_out_the_next_run(tmp_path):
    """kill -9 of an indexer can leave a worker process behind that holds a copy of the journal's
    descriptor; the lock belongs to the dead indexer only, so the re-run may resume."""
    script = (
        "import os, subprocess, sys\n"
        "from pathlib import Path\n"
        "from indexer.journal import RunJournal\n"
        f"journal = RunJournal.open(Path({str(tmp_path / 'j')!r}), 'k' * 32, None, Path({str(tmp_path / 'r.jsonl')!r}))\n"
        "child = subprocess.Popen(['sleep', '60'], pass_fds=[journal._fd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(child.pid, flush=True)\n"
        "os._exit(0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    orphan = int(done.stdout.split()[0])
    try:
        with _journal(tmp_path / "j", tmp_path / "r.jsonl") as resumed:
            assert resumed.resumed
    finally:
        os.kill(orphan, signal.SIGKILL)


def test_a_completed_journal_is_closed_and_restart_discards_progress(tmp_path):
    unit = tmp_path / "a.eml"
    unit.write_text("x")
    journal = _journal(tmp_path / "j", tmp_path / "r.jsonl")
    journal.mark_done(str(unit), set())
    journal.complete({"files": 1})
    assert not list((tmp_path / "j").iterdir())
    with _journal(tmp_path / "j", tmp_path / "r.jsonl") as fresh:
        assert not fresh.resumed
        fresh.mark_done(str(unit), set())
    with _journal(tmp_path / "j", tmp_path / "r.jsonl", restart=True) as restarted:
        assert not restarted.resumed and not restarted.is_done(unit)


def test_prune_report_keeps_earlier_runs_and_finished_files(tmp_path):
    report = tmp_path / "r.jsonl"
    report.write_text('{"source_path": "/earlier", "code": "empty"}\n')
    offset = report.stat().st_size
    with report.open("a") as handle:
        handle.write('{"source_path": "/done", "code": "corrupt"}\n{"source_path": "/unfinished", "code": "no_text"}\n{"source_')
    assert prune_report(report, offset, lambda entry: entry["source_path"] == "/done") == 2
    assert [e["source_path"] for e in read_report(report)] == ["/earlier", "/done"]
