"""The enrichment stage: the steps in STEPS, run by one `Runner`, at ingest and over the index.

Every item from every source passes through `Enricher.enrich_items` on its way to the index.
`enrich_index` runs the same steps over an index already built (`lantern enrich`), as partial
updates: nothing is re-ingested. NER is switchable (`LANTERN_NER=false`) to measure its cost;
what each step does, and what a failure costs, is in its module under `indexer.enrich.steps`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch, helpers

from indexer.enrich.options import EnrichOptions
from indexer.enrich.passes import ENRICH, PassContext, run_passes
from indexer.enrich.people import PeopleRegistry, load_registry
from indexer.enrich.runner import Runner
from indexer.enrich.steps import STEPS
from indexer.enrich.steps.base import ENRICHMENT_FAILED, MAX_ENTITIES, Enrichment, StepSetup
from indexer.model import Problem
from indexer.report import ExceptionReport
from services.index import ensure_items_index
from services.runtime import Runtime
from services.settings import Settings

__all__ = ["ENRICHMENT_FAILED", "MAX_ENTITIES", "EnrichOptions", "Enricher", "Enrichment", "enrich_index",
           "enricher_for", "run_enrich"]


class Enricher(Runner):
    """The runner of STEPS with these options and people registry (NER's model loaded once)."""

    def __init__(self, options: EnrichOptions = EnrichOptions(), registry: PeopleRegistry | None = None):
        # MAX_ENTITIES is read here, not where it is defined, so a caller can lower this module's.
        setup = StepSetup(options, registry or PeopleRegistry(), MAX_ENTITIES)
        super().__init__([step(setup) for step in STEPS if step.able_to_run(options)], options)


def enrich_index(client: OpenSearch, index: str, enricher: Runner, record: Callable[[Problem], None],
                 query: dict[str, Any] | None = None) -> int:
    """Re-run enrichment over the items of `index` (all, or those matching `query`) as partial updates; return the count."""
    hits = helpers.scan(client, index=index, query={"query": query or {"match_all": {}}, "_source": enricher.source_fields},
                        size=enricher.options.batch_size * 4)
    written, _ = helpers.bulk(client, enricher.index_updates(hits, record), chunk_size=500,
                              max_chunk_bytes=50 * 1024 * 1024, raise_on_error=True)
    client.indices.refresh(index=index)
    return written


def enricher_for(runtime: Runtime) -> Enricher:
    """The stage configured by the runtime's settings, with the people registry as last imported."""
    settings = runtime.settings
    return Enricher(EnrichOptions.from_settings(settings), load_registry(runtime.client, settings.people_index))


def run_enrich(settings: Settings | Runtime, report_path: Path) -> tuple[int, int]:
    """`lantern enrich`: re-run the steps over the existing index, then the passes that follow enrichment.

    Returns (items updated, enrichment failures); failures are written to the exception report.
    """
    with Runtime.using(settings) as runtime:
        alias = ensure_items_index(runtime.client, runtime.settings)
        enricher = enricher_for(runtime)
        with ExceptionReport(report_path) as report:
            updated = enrich_index(runtime.client, alias, enricher, report.add)
        run_passes(runtime, PassContext(), ENRICH)
    return updated, report.counts.get(ENRICHMENT_FAILED, 0)
