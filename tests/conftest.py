"""Shared fixtures: the real local OpenSearch and Tika (started once per session), an index
prefix of our own so tests never touch other data, and the sample archive ingested once."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from indexer.report import read_report
from lantern.demo import ingest_sample
from services import local
from services.clients import opensearch_client
from services.settings import Settings
from sample_corpora import CORPORA, CORPORA_MISSING, CORPORA_PRESENT

_corpora_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_configure(config):
    config.addinivalue_line("markers", "services: needs the real OpenSearch and Tika")
    config.addinivalue_line(
        "markers", "corpora(sibling): uses the real third-party samples (shared/corpora, LANTERN_CORPORA); "
        "`sibling` names the test(s) on generated files covering the same behaviour, as 'name' in the "
        "same module or 'path::name'")


def _siblings(item) -> list[str]:
    marker = item.get_closest_marker("corpora")
    named = marker.kwargs.get("sibling") if marker else None
    names = [named] if isinstance(named, str) else list(named or ())
    module = item.nodeid.split("::")[0]
    return [name if "::" in name else f"{module}::{name}" for name in names]


def pytest_collection_modifyitems(config, items):
    """Every test that uses the `corpora` fixture must carry `@pytest.mark.corpora(sibling=...)`;
    when the corpora are absent those tests are skipped (before any fixture runs). With
    LANTERN_COLLECTION_DUMP=FILE, writes what was collected (id, corpora mark, siblings) to FILE."""
    unmarked = [item.nodeid for item in items
                if "corpora" in getattr(item, "fixturenames", ()) and item.get_closest_marker("corpora") is None]
    if unmarked:
        raise pytest.UsageError(
            "these tests use the real sample corpora but are not marked @pytest.mark.corpora(sibling=...) "
            "naming the test on generated files that covers the same behaviour:\n  " + "\n  ".join(unmarked))
    skip = pytest.mark.skip(reason=CORPORA_MISSING)
    for item in items:
        if item.get_closest_marker("corpora") and not CORPORA_PRESENT:
            item.add_marker(skip)
    dump = os.environ.get("LANTERN_COLLECTION_DUMP")
    if dump:
        Path(dump).write_text(json.dumps([
            {"id": item.nodeid, "corpora": item.get_closest_marker("corpora") is not None, "siblings": _siblings(item)}
            for item in items], indent=1))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Real-sample tests skipped for want of the corpora share one location, so the short summary
    prints the reason once (with the count) instead of once per test."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(CORPORA_MISSING):
        report.longrepr = ("tests/sample_corpora.py", 0, report.longrepr[2])


def pytest_runtest_logreport(report):
    if "corpora" in report.keywords and (report.when == "call" or report.skipped):
        outcome = "skipped" if report.skipped else report.outcome
        _corpora_outcomes[outcome] = _corpora_outcomes.get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter):
    ran = _corpora_outcomes["passed"] + _corpora_outcomes["failed"]
    if ran or _corpora_outcomes["skipped"]:
        where = f"from {CORPORA}" if CORPORA_PRESENT else f"absent at {CORPORA}; set LANTERN_CORPORA=PATH"
        terminalreporter.write_line(
            f"real-sample tests (corpora {where}): {ran} ran ({_corpora_outcomes['failed']} failed), "
            f"{_corpora_outcomes['skipped']} skipped")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings from the environment, with an index prefix unique to this test session."""
    return Settings(index_prefix=f"lantern-test-{uuid.uuid4().hex[:8]}-")


@pytest.fixture(scope="session")
def services(settings: Settings):
    """Start (or reuse) the real services; drop this session's indices afterwards."""
    local.up(settings, say=lambda line: None)
    client = opensearch_client(settings)
    yield client
    client.indices.delete(index=f"{settings.index_prefix}*", ignore_unavailable=True, expand_wildcards="all")


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The real sample corpora folder (only for tests marked `corpora`, which are skipped without it)."""
    if not CORPORA_PRESENT:
        pytest.skip(CORPORA_MISSING)
    return CORPORA


@pytest.fixture(scope="session")
def sample(services, settings: Settings, tmp_path_factory):
    """The bundled sample archive, generated and ingested once: (archive, summaries, report entries)."""
    root = tmp_path_factory.mktemp("sample")
    report = root / "exceptions.jsonl"
    archive, summaries = ingest_sample(settings, root / "archive", report)
    return archive, summaries, read_report(report)


@pytest.fixture
def ingest_files(services, settings: Settings, tmp_path):
    """Ingest paths into this session's index: `ingest_files(paths, custodian=..., record=..., timezone=...)`
    returns (summary, exception-report entries)."""
    from indexer.pipeline import custody_for, run_ingest

    def run(paths, custodian="Test Custodian", account=None, record="private", timezone=None, collection="tests"):
        report = tmp_path / f"report-{uuid.uuid4().hex[:6]}.jsonl"
        custody = custody_for(settings, custodian, account, record, collection)
        summary = run_ingest(settings, [Path(p) for p in paths], custody, report, timezone=timezone)
        return summary, read_report(report)

    return run
