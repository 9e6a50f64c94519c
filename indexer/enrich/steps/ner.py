"""Named entities (people, organisations, places) by spaCy, in worker processes when there are workers.

Texts longer than `ner_max_chars` go to the model only up to that point (`enrichment.status`
is `capped`). With `ner_workers`, a batch's texts go to the worker processes when the batch
enters the runner (`start`), so several batches are in the workers at once; a dead worker or a
text that breaks the model costs nothing but time: the pieces are tried again here, one by one
after a failure, and only the text that fails is marked failed.
"""

from __future__ import annotations

from concurrent.futures import Future

from indexer.enrich import entities as ner
from indexer.enrich.options import EnrichOptions
from indexer.enrich.steps.base import StepSetup, TextBatch, TextStep
from indexer.model import Entity

Piece = tuple[int, str, str]  # (position in the batch, "subject" or "body", the text the model reads)


class NamedEntities(TextStep):
    """Entities of the subject and the body, each with the field and offsets it was found at."""

    name = "entities"
    writes = ("entities", "entity_people", "entity_orgs", "entity_places")

    @classmethod
    def able_to_run(cls, options: EnrichOptions) -> bool:
        return options.ner

    def __init__(self, setup: StepSetup) -> None:
        super().__init__(setup)
        workers = self.options.ner_workers
        self.ahead = workers + 1 if workers else 0  # one batch queued per worker
        if workers:
            ner.check_model()  # fail at the start of a run, not on its first batch; the workers load it
        else:
            ner.load_model()

    def start(self, batch: TextBatch) -> None:
        """Cut the texts to the cap and, with workers, hand them to the worker processes."""
        pieces = self._pieces(batch)
        future: Future | None = None
        pool = ner.worker_pool(self.options.ner_workers)
        if pool is not None and pieces:
            try:
                future = pool.submit(ner.recognise, [text for _, _, text in pieces])
            except Exception:  # noqa: BLE001 - a worker died (BrokenProcessPool) or could not start: NER runs here
                ner.forget_broken_pool()
        batch.started[self.name] = (pieces, future)

    def run(self, batch: TextBatch) -> None:
        pieces, future = batch.started.pop(self.name)
        for (n, where, _), entities in zip(pieces, _found(pieces, future)):
            if isinstance(entities, Exception):
                batch.results[n].fail(f"named entities ({where}): {entities.__class__.__name__}: {entities}")
                continue
            for entity in entities:
                entity.field = where
            batch.results[n].entities.extend(entities)
        for result in batch.results:
            result.ner = result.status != "failed"

    def _pieces(self, batch: TextBatch) -> list[Piece]:
        limit = self.options.ner_max_chars
        pieces: list[Piece] = []
        for n, (subject, body) in enumerate(batch.texts):
            if subject:
                pieces.append((n, "subject", subject[:limit]))
            if body:
                pieces.append((n, "body", body[:limit]))
            if len(body) > limit or len(subject or "") > limit:
                batch.results[n].status = "capped"
        return pieces


def _found(pieces: list[Piece], future: Future | None) -> list[list[Entity] | Exception]:
    """The entities of each piece: from the worker, or here. One bad text must not cost the batch,
    so after a failure the pieces are tried one by one (here, in this process)."""
    texts = [text for _, _, text in pieces]
    if future is not None:
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - a dead worker, or a text that broke the model: try here
            ner.forget_broken_pool()
    try:
        return ner.recognise(texts)
    except Exception:  # noqa: BLE001 - retried text by text below
        pass
    found: list[list[Entity] | Exception] = []
    for text in texts:
        try:
            found.extend(ner.recognise([text]))
        except Exception as exc:  # noqa: BLE001 - recorded as this item's failure
            found.append(exc)
    return found
