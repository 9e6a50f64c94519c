"""Near-duplicate groups (`indexer.enrich.near_dups`) from the signatures the MinHash step stored."""

from __future__ import annotations

from indexer.enrich.near_dups import near_dup_index
from indexer.enrich.passes.base import ENRICH, INGEST, Pass, PassContext, PassStats
from services.runtime import Runtime


class NearDuplicates(Pass):
    """`near_dup_group` of every item whose signature is close enough to another's (LANTERN_NEAR_DUP_THRESHOLD)."""

    name = "near_dups"
    after = frozenset({INGEST, ENRICH})

    def run(self, runtime: Runtime, context: PassContext) -> PassStats:
        return PassStats(changed=near_dup_index(runtime.client, runtime.alias, runtime.settings.near_dup_threshold))
