"""Email threads (`indexer.enrich.threads`): recomputed over the index, since a thread can span runs and custodians."""

from __future__ import annotations

from indexer.enrich.passes.base import INGEST, Pass, PassContext, PassStats
from indexer.enrich.threads import thread_index
from services.runtime import Runtime


class Threads(Pass):
    """`thread_id` of every email."""

    name = "threads"
    after = frozenset({INGEST})

    def run(self, runtime: Runtime, context: PassContext) -> PassStats:
        return PassStats(changed=thread_index(runtime.client, runtime.alias))
