"""Shared fixtures: the real local OpenSearch and Tika (started once per session), an index
prefix of our own so tests never touch other data, and the sample archive ingested once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from indexer.report import read_report
from lantern.demo import ingest_sample
from services import local
from services.clients import opensearch_client
from services.settings import Settings

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def pytest_configure(config):
    config.addinivalue_line("markers", "services: needs the real OpenSearch and Tika")


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
    if not CORPORA.is_dir():
        pytest.fail(f"the shared sample corpora are missing at {CORPORA}")
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
