"""The registry of index-wide passes: one module per pass, listed once here, in the order they run.

Adding a pass is one new module with a `Pass` subclass (the contract is in `base`), plus one
line in PASSES; its `after` says which runs it follows.
"""

from __future__ import annotations

import time

from indexer.enrich.passes.base import ENRICH, INGEST, Pass, PassContext, PassStats
from indexer.enrich.passes.counterparts import Counterparts
from indexer.enrich.passes.near_dups import NearDuplicates
from indexer.enrich.passes.stale import StaleItems
from indexer.enrich.passes.threads import Threads
from services.runtime import Runtime

__all__ = ["ENRICH", "INGEST", "PASSES", "Pass", "PassContext", "PassStats", "run_passes"]

PASSES: tuple[type[Pass], ...] = (
    StaleItems,  # after ingest: items of earlier versions of changed files (before anything links to them)
    Threads,  # after ingest
    NearDuplicates,  # after ingest and after re-enrichment
    Counterparts,  # on demand: lantern enrich, lantern report gaps --refresh
)


def run_passes(runtime: Runtime, context: PassContext, after: str) -> dict[str, PassStats]:
    """Run, in order, the passes that follow `after` (INGEST or ENRICH); their stats by name, seconds included."""
    done: dict[str, PassStats] = {}
    for kind in PASSES:
        if after in kind.after:
            started = time.perf_counter()
            stats = kind().run(runtime, context)
            stats.seconds = time.perf_counter() - started
            done[kind.name] = stats
    return done
