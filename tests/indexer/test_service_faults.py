"""Service faults during an ingest: OpenSearch restarted, Tika killed or hung, a service down at start.

The faults are done to a private OpenSearch and Tika (the `own_services` fixture), never to the
shared servers. Each fault is triggered from the progress hook after a few files, so it always
lands in the middle of the run; the run must end with the same items and report as a clean one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from indexer.pipeline import custody_for, run_ingest
from reliability_helpers import item_ids, report_entries
from services import local

LANTERN = Path(sys.executable).parent / "lantern"


class _FaultAfter:
    """A progress hook that runs `fault()` once, when the `after`-th file has been read."""

    def __init__(self, after: int, fault):
        self.after, self.fault, self.seen, self.fired = after, fault, 0, False

    def start(self, total_files: int, total_bytes: int) -> None:
        assert total_files > self.after, "the fault must land before the last file"

    def advance(self, path: Path, size: int) -> None:
        self.seen += 1
        if self.seen == self.after:
            self.fault()
            self.fired = True


@pytest.fixture(scope="module")
def clean_run(own_services, reliability_corpus, tmp_path_factory):
    """The corpus ingested without faults into the private servers: (ids, report entries)."""
    clean = own_services.model_copy(update={"index_prefix": own_services.index_prefix + "clean-"})
    report = tmp_path_factory.mktemp("clean") / "report.jsonl"
    run_ingest(clean, [reliability_corpus], _custody(clean), report)
    return item_ids(clean), report_entries(report)


def _custody(settings):
    return custody_for(settings, "Fault Tester", None, "private", "faults")


def _tika_pid(settings) -> int:
    [tika] = [s for s in local.status(settings) if s.name == "tika"]
    assert tika.pid, "the private Tika should be running under Lantern"
    return tika.pid


def _ingest_with_fault(settings, name: str, corpus: Path, tmp_path: Path, fault, **changes):
    faulty = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}{name}-", "ingest_workers": 1,
                                         "bulk_chunk_size": 5, **changes})
    hook = _FaultAfter(3, fault)
    summary = run_ingest(faulty, [corpus], _custody(faulty), tmp_path / "report.jsonl", progress=hook)
    assert hook.fired
    return faulty, summary, report_entries(tmp_path / "report.jsonl")


def test_opensearch_restart_mid_ingest_loses_no_item(own_services, reliability_corpus, clean_run, tmp_path):
    only_opensearch = own_services.model_copy(update={"tika_url": own_services.local_tika_url})
    restarted = threading.Thread(target=lambda: local.up(only_opensearch, say=lambda line: None, timeout=600))

    def restart() -> None:  # stop now; start again while the ingest goes on (and waits for it)
        local.down(only_opensearch, say=lambda line: None)
        restarted.start()

    faulty, summary, report = _ingest_with_fault(own_services, "restart", reliability_corpus, tmp_path, restart,
                                                 bulk_retry_seconds=900)
    restarted.join()
    clean_ids, clean_report = clean_run
    assert summary.retries["opensearch"] > 0, "the writes should have hit the restart"
    assert not summary.incomplete_files
    assert item_ids(faulty) == clean_ids
    assert report == clean_report


def test_tika_killed_mid_ingest_is_restarted_and_the_file_retried(own_services, reliability_corpus, clean_run, tmp_path):
    faulty, summary, report = _ingest_with_fault(
        own_services, "tika-killed", reliability_corpus, tmp_path, lambda: os.killpg(_tika_pid(own_services), signal.SIGKILL))
    clean_ids, clean_report = clean_run
    assert summary.retries["tika"] >= 1
    assert not summary.incomplete_files
    assert item_ids(faulty) == clean_ids
    assert report == clean_report


def test_tika_hung_mid_ingest_times_out_and_is_restarted(own_services, reliability_corpus, clean_run, tmp_path):
    faulty, summary, report = _ingest_with_fault(
        own_services, "tika-hung", reliability_corpus, tmp_path, lambda: os.killpg(_tika_pid(own_services), signal.SIGSTOP),
        tika_timeout_seconds=10)
    clean_ids, clean_report = clean_run
    assert summary.retries["tika"] >= 1
    assert item_ids(faulty) == clean_ids
    assert report == clean_report


def test_tika_down_without_restart_leaves_the_files_for_a_rerun(own_services, reliability_corpus, clean_run, tmp_path):
    """With LANTERN_TIKA_RESTART off, files read while Tika is down are reported `service_unavailable`
    and not journalled as done; the same command, once Tika is back, completes the run."""
    settings = own_services.model_copy(update={"tika_restart": False})
    faulty, summary, _ = _ingest_with_fault(
        settings, "tika-down", reliability_corpus, tmp_path, lambda: os.killpg(_tika_pid(own_services), signal.SIGKILL))
    assert summary.incomplete_files
    assert summary.problems_by_code["service_unavailable"] >= len(summary.incomplete_files)
    local.up(own_services, say=lambda line: None, timeout=600)
    again = run_ingest(faulty, [reliability_corpus], _custody(faulty), tmp_path / "report.jsonl")
    clean_ids, clean_report = clean_run
    assert again.resumed_files > 0 and not again.incomplete_files
    assert item_ids(faulty) == clean_ids
    assert report_entries(tmp_path / "report.jsonl") == clean_report


def _unused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("service", ["OPENSEARCH", "TIKA"])
def test_a_service_down_at_start_is_one_clear_line(services, settings, service, tmp_path):
    (tmp_path / "a.eml").write_text("Subject: hello\n\nbody\n")
    env = {**os.environ, "LANTERN_HOME": str(tmp_path / "home"), "LANTERN_INDEX_PREFIX": settings.index_prefix,
           "LANTERN_OPENSEARCH_URL": settings.effective_opensearch_url, "LANTERN_TIKA_URL": settings.effective_tika_url,
           f"LANTERN_{service}_URL": _unused_url(), "COLUMNS": "400"}
    result = subprocess.run([str(LANTERN), "ingest", str(tmp_path / "a.eml"), "--custodian", "Nobody"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert ("OpenSearch" if service == "OPENSEARCH" else "Tika") in lines[0] and "lantern services up" in lines[0]
