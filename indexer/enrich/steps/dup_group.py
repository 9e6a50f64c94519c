"""Exact-duplicate groups (`indexer.enrich.duplicates`): every item gets the `dup_group` its copies share."""

from __future__ import annotations

from indexer.enrich.duplicates import assign_dup_group
from indexer.enrich.steps.base import ItemStep
from indexer.model import Item


class DupGroups(ItemStep):
    """`dup_group` from the item's hashes; ingest only (re-enriching keeps what the readers' hashes gave)."""

    name = "dup_group"
    writes = ("dup_group",)
    over_index = False

    def run(self, items: list[Item]) -> None:
        for item in items:
            assign_dup_group(item)
