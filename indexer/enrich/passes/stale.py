"""Stale items: the items of earlier versions of the files an ingest read again (`store.delete_stale_items`)."""

from __future__ import annotations

from indexer import store
from indexer.enrich.passes.base import INGEST, Pass, PassContext, PassStats
from services.runtime import Runtime


class StaleItems(Pass):
    """Delete the custodian's items of the units just read whose source digest is no longer current."""

    name = "stale"
    after = frozenset({INGEST})

    def run(self, runtime: Runtime, context: PassContext) -> PassStats:
        deleted = store.delete_stale_items(runtime.client, runtime.alias, context.current, context.retry,
                                           custodian=context.custodian)
        return PassStats(changed=deleted)
