"""Enrichment tests write into indices of their own, so the counts other tests make over the
session's index (every sample email, every thread) are not disturbed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from indexer.report import read_report
from services.settings import Settings


@pytest.fixture(scope="session")
def enrich_settings(settings: Settings, services) -> Settings:
    """The session's settings under a sub-prefix (dropped with the session's indices)."""
    return settings.model_copy(update={"index_prefix": f"{settings.index_prefix}enrich-"})


@pytest.fixture
def enrich_ingest(enrich_settings: Settings, tmp_path):
    """`ingest_files` into the enrichment tests' index: (summary, exception-report entries)."""
    from indexer.pipeline import custody_for, run_ingest

    def run(paths, custodian="Test Custodian", record="private", settings=None):
        report = tmp_path / f"report-{uuid.uuid4().hex[:6]}.jsonl"
        chosen = settings or enrich_settings
        custody = custody_for(chosen, custodian, None, record, "enrich-tests")
        summary = run_ingest(chosen, [Path(p) for p in paths], custody, report)
        return summary, read_report(report)

    return run
