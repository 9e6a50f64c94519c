"""The near-duplicate signature of each body (MinHash, `indexer.enrich.near_dups`); the near-duplicates
pass groups the signatures over the whole index after each ingest."""

from __future__ import annotations

from indexer.enrich.near_dups import signature
from indexer.enrich.steps.base import TextBatch, TextStep


class NearDupSignature(TextStep):
    """`minhash` for bodies of at least `near_dup_min_words` words (None for shorter ones)."""

    name = "minhash"
    writes = ("minhash",)

    def run(self, batch: TextBatch) -> None:
        min_words = self.options.near_dup_min_words
        for (_, body), result in zip(batch.texts, batch.results):
            try:
                result.minhash = signature(body, min_words)
            except Exception as exc:  # noqa: BLE001 - recorded as an enrichment failure of this item
                result.fail(f"near-duplicate signature: {exc.__class__.__name__}: {exc}")
