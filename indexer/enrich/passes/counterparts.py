"""Official counterparts of private items and their business score (`indexer.enrich.counterparts`).

It follows no run by itself: `lantern enrich` and `lantern report gaps --refresh` call it
(through `run_counterparts`), because the record-gap report is the only reader of its fields.
"""

from __future__ import annotations

from indexer.enrich.counterparts import run_counterparts
from indexer.enrich.passes.base import Pass, PassContext, PassStats
from services.runtime import Runtime


class Counterparts(Pass):
    """`official_copy`, `official_copy_links`, `business_score` and `business_signals` of private items."""

    name = "counterparts"

    def run(self, runtime: Runtime, context: PassContext) -> PassStats:
        stats = run_counterparts(runtime)
        return PassStats(changed=stats.written, detail=stats)
