"""The demo: write the sample archive and ingest every mailbox with its own custody."""

from __future__ import annotations

from pathlib import Path

from indexer.pipeline import Progress, Summary, custody_for, run_ingest
from lantern.sample_archive import SampleArchive, generate
from services.settings import Settings

LOOSE_CUSTODIAN = ("Ben Okafor", "ben.okafor@dhsc.gov.uk", "official")


def ingest_sample(settings: Settings, dest: Path, report: Path, progress: Progress | None = None) -> tuple[SampleArchive, list[Summary]]:
    """Generate the sample archive under `dest` and ingest it; one summary per mailbox (and the loose files)."""
    archive = generate(dest)
    summaries = []
    for box in archive.mailboxes:
        custody = custody_for(settings, box.custodian, box.account, box.record, "sample")
        summaries.append(run_ingest(settings, [box.path], custody, report, progress))
    custodian, account, record = LOOSE_CUSTODIAN
    summaries.append(run_ingest(settings, list(archive.loose), custody_for(settings, custodian, account, record, "sample"), report, progress))
    return archive, summaries
