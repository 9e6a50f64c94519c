"""The one runner of the enrichment steps, at ingest and over an index already built.

Items come in batches of `batch_size` (so spaCy's `nlp.pipe` works on many texts at once) while
they still stream one by one. Per batch the runner looks each text (subject, body) up in its memo,
hands the new ones to the text steps in order, copies every result onto its items, then runs the
item steps. The same text is worked on once: a message copied to many custodians, an attachment
forwarded again and again, the "ok" and "thanks" of every chat; the results of the last
MEMO_ENTRIES distinct texts are kept (failures are not). When a step works in other processes
(`TextStep.ahead`), several batches are started at once while the next ones are read; callers
still see one batch at a time, in order. A failure never drops an item: it is indexed without
what failed and `record` gets one `enrichment_failed` problem for it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from indexer.enrich.options import EnrichOptions
from indexer.enrich.steps.base import ENRICHMENT_FAILED, Enrichment, ItemStep, Step, TextBatch, TextStep
from indexer.model import Item, Problem

T = TypeVar("T")
Texts = list[tuple[str | None, str]]
MEMO_ENTRIES = 10_000  # distinct texts whose enrichment is kept for reuse (least recently used go first)


def _text_key(subject: str | None, body: str) -> bytes:
    """A digest of (subject, body); the subject's length goes first, so no two pairs share a key."""
    digest = hashlib.blake2b(digest_size=16)
    encoded = subject.encode("utf-8", "surrogatepass") if subject is not None else None
    digest.update(b"-" if encoded is None else f"{len(encoded)}:".encode())
    digest.update(encoded or b"")
    digest.update(body.encode("utf-8", "surrogatepass"))
    return digest.digest()


@dataclass
class _Job:
    """One batch between `_start` and `_finish`: its texts' keys, and the texts new to the memo."""

    keys: list[bytes]
    fresh: dict[bytes, int] = field(default_factory=dict)  # key → position in `batch`
    reused: dict[bytes, Enrichment] = field(default_factory=dict)  # key → the memo's result when the job started
    batch: TextBatch = field(default_factory=lambda: TextBatch([], []))


def batched(things: Iterable[T], size: int) -> Iterator[list[T]]:
    """`things` in lists of `size` (the last one shorter)."""
    batch: list[T] = []
    for thing in things:
        batch.append(thing)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Runner:
    """Runs `steps` (built for one run) over batches of items or of indexed items; see the module docstring."""

    def __init__(self, steps: Sequence[Step], options: EnrichOptions):
        kinds = [isinstance(step, TextStep) for step in steps]
        if kinds != sorted(kinds, reverse=True):
            raise ValueError(f"text steps run before item steps: {[step.name for step in steps]}")
        self.options = options
        self.steps = list(steps)
        self.text_steps = [step for step in steps if isinstance(step, TextStep)]
        self.item_steps = [step for step in steps if isinstance(step, ItemStep)]
        self.index_steps = [step for step in self.item_steps if step.over_index]
        self.ahead = max((step.ahead for step in self.text_steps), default=0)
        self._memo: OrderedDict[bytes, Enrichment] = OrderedDict()
        self.memo_hits = 0

    def enrich_texts(self, texts: Texts) -> list[Enrichment]:
        """The enrichment of each (subject, body); a failure is recorded on the result, never raised."""
        return self._finish(self._start(texts))

    def enrich_batches(self, batches: Iterable[tuple[T, Texts]]) -> Iterator[tuple[T, list[Enrichment]]]:
        """(tag, results) for each (tag, texts), in order, with up to `ahead` batches started beyond the one finishing."""
        ahead: deque[tuple[T, _Job]] = deque()
        for tag, texts in batches:
            ahead.append((tag, self._start(texts)))
            while len(ahead) > self.ahead:
                tag, job = ahead.popleft()
                yield tag, self._finish(job)
        while ahead:
            tag, job = ahead.popleft()
            yield tag, self._finish(job)

    def enrich_items(self, items: Iterable[Item], record: Callable[[Problem], None]) -> Iterator[Item]:
        """Enrich `items` in batches and yield them one by one; failures go to `record` as problems."""
        batches = ((batch, [(item.subject, item.body or "") for item in batch])
                   for batch in batched(items, self.options.batch_size))
        for batch, results in self.enrich_batches(batches):
            for item, result in zip(batch, results):
                result.apply(item)
                if result.failures:
                    record(Problem(item.source_path, item.locator, ENRICHMENT_FAILED, result.failure, item.id))
            for step in self.item_steps:
                step.run(batch)
            yield from batch

    @property
    def source_fields(self) -> list[str]:
        """The `_source` fields `index_updates` needs of each indexed item."""
        reads = [name for step in self.index_steps for name in step.reads]
        return list(dict.fromkeys(["subject", "body", "source_path", "locator", *reads]))

    def index_updates(self, hits: Iterable[dict[str, Any]], record: Callable[[Problem], None]) -> Iterator[dict[str, Any]]:
        """Bulk partial-update actions that re-enrich indexed items (search hits with `source_fields`)."""
        batches = ((batch, [(hit["_source"].get("subject"), hit["_source"].get("body") or "") for hit in batch])
                   for batch in batched(hits, self.options.batch_size))
        for batch, results in self.enrich_batches(batches):
            for hit, result in zip(batch, results):
                source = hit["_source"]
                if result.failures:
                    record(Problem(source.get("source_path", "?"), source.get("locator", "?"), ENRICHMENT_FAILED,
                                   result.failure, hit["_id"]))
                doc = result.to_update()
                for step in self.index_steps:
                    doc.update(step.update(source))
                yield {"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": doc}

    def _start(self, texts: Texts) -> _Job:
        """Look the texts up in the memo and start the text steps on the new ones."""
        keys = [_text_key(subject, body) for subject, body in texts]
        job = _Job(keys)
        todo = job.batch.texts
        for key, text in zip(keys, texts):
            if key in job.fresh or key in job.reused:
                continue
            if key in self._memo:
                job.reused[key] = self._memo[key]
                self._memo.move_to_end(key)
            else:
                job.fresh[key] = len(todo)
                todo.append(text)
        job.batch.results = [Enrichment() for _ in todo]
        for step in self.text_steps:
            step.start(job.batch)
        return job

    def _finish(self, job: _Job) -> list[Enrichment]:
        """Run the text steps on the job's new texts, keep their results in the memo; one result per text."""
        for step in self.text_steps:
            step.run(job.batch)
        for result in job.batch.results:
            result.entities.sort(key=lambda e: (e.field != "subject", e.start, e.end))
        results = []
        for key in job.keys:
            if key in job.fresh:
                result = job.batch.results[job.fresh[key]]
                if result.status != "failed":
                    self._memo[key] = result
            else:
                result = job.reused[key]
                self.memo_hits += 1
            results.append(result.copy())
        while len(self._memo) > MEMO_ENTRIES:
            self._memo.popitem(last=False)
        return results
