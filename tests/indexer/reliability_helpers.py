"""Comparisons shared by the crash-resume and service-fault tests."""

from __future__ import annotations

from pathlib import Path

from services.clients import opensearch_client
from services.settings import Settings


def item_ids(settings: Settings, alias: str | None = None) -> set[str]:
    """Every item id in an items index (scan, so any size)."""
    from opensearchpy import helpers

    client = opensearch_client(settings)
    client.indices.refresh(index=alias or settings.items_alias)
    return {hit["_id"] for hit in helpers.scan(client, index=alias or settings.items_alias, query={"_source": False})}


def report_entries(path: Path) -> list[tuple]:
    """A report's entries without their time stamps, sorted: comparable between runs."""
    from indexer.report import read_report

    return sorted(tuple(sorted((k, str(v)) for k, v in entry.items() if k != "time")) for entry in read_report(path))
