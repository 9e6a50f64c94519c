"""The enrichment stage: named entities, UK personal data, people and near-duplicate signatures.

Every item from every source passes through `Enricher.enrich_items` on its way to the index,
in batches of `batch_size` (so spaCy's `nlp.pipe` works on many texts at once) while items
still stream one by one. `enrich_index` runs the same stage over an index already built
(`lantern enrich`), as partial updates: nothing is re-ingested.

A failure never drops an item: if NER or a detector fails on one item, the item is indexed
without what failed, its `enrichment.status` is `failed`, and an `enrichment_failed` problem
goes to the exception report. NER is switchable (`LANTERN_NER=false`) to measure its cost.
Texts longer than `ner_max_chars` go to NER only up to that point (`enrichment.status` is
`capped`); the PII detectors read up to `pii_max_chars`.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opensearchpy import OpenSearch, helpers

from indexer.enrich import entities as ner
from indexer.enrich.near_dups import signature
from indexer.enrich.people import ADDRESS_FIELDS, PeopleRegistry, load_registry
from indexer.enrich.pii import detect_pii
from indexer.model import Entity, Item, Problem

T = TypeVar("T")
ENRICHMENT_FAILED = "enrichment_failed"
MAX_ENTITIES = 10_000  # per item: a spreadsheet of contacts must not make a document of a million objects


def _overlapping(pii: list[Entity]) -> Callable[[Entity], bool]:
    """A test of whether an entity overlaps one of `pii` (which never overlap each other)."""
    spans: dict[str, tuple[list[int], list[int]]] = {}
    for found in sorted(pii, key=lambda e: e.start):
        starts, ends = spans.setdefault(found.field, ([], []))
        starts.append(found.start)
        ends.append(found.end)

    def overlaps(entity: Entity) -> bool:
        starts, ends = spans.get(entity.field, ([], []))
        first = bisect_right(ends, entity.start)  # the first detection ending after the entity starts
        return first < len(starts) and starts[first] < entity.end

    return overlaps


MEMO_ENTRIES = 10_000  # distinct texts whose enrichment is kept for reuse (least recently used go first)


def _text_key(subject: str | None, body: str) -> bytes:
    """A digest of (subject, body); the subject's length goes first, so no two pairs share a key."""
    digest = hashlib.blake2b(digest_size=16)
    encoded = subject.encode("utf-8", "surrogatepass") if subject is not None else None
    digest.update(b"-" if encoded is None else f"{len(encoded)}:".encode())
    digest.update(encoded or b"")
    digest.update(body.encode("utf-8", "surrogatepass"))
    return digest.digest()


@dataclass(frozen=True)
class EnrichOptions:
    """What the stage does; built from settings by `from_settings`."""

    ner: bool = True
    ner_max_chars: int = 100_000
    pii_max_chars: int = 1_000_000
    batch_size: int = 64
    phone_region: str = "GB"
    near_dup_threshold: float = 0.8
    near_dup_min_words: int = 20
    ner_workers: int = 0  # processes running NER beside this one (0: NER runs here, in the caller's thread)

    @classmethod
    def from_settings(cls, settings) -> "EnrichOptions":
        return cls(ner=settings.ner, ner_max_chars=settings.ner_max_chars, phone_region=settings.phone_region, near_dup_threshold=settings.near_dup_threshold,
                   near_dup_min_words=settings.near_dup_min_words, ner_workers=settings.ner_workers)


@dataclass
class Enrichment:
    """What the stage found for one text (subject and body): the item fields it sets."""

    entities: list[Entity] = field(default_factory=list)
    minhash: str | None = None
    status: str = "ok"
    ner: bool = False
    failures: list[str] = field(default_factory=list)

    def copy(self) -> "Enrichment":
        """A result of its own for another item (the entities themselves are shared: read-only)."""
        return Enrichment(list(self.entities), self.minhash, self.status, self.ner, list(self.failures))

    def _values(self, kind: str) -> list[str]:
        return sorted({e.norm for e in self.entities if e.type == kind and e.norm})

    @property
    def pii_types(self) -> list[str]:
        return sorted({e.type for e in self.entities if e.type not in ner.LABELS.values()})

    def fields(self) -> dict[str, Any]:
        """The item fields, empty ones included, so a partial update clears stale values."""
        return {
            "entities": self.entities,
            "entity_people": self._values("person"),
            "entity_orgs": self._values("org"),
            "entity_places": self._values("place"),
            "pii_types": self.pii_types,
            "has_pii": bool(self.pii_types),
            "minhash": self.minhash,
            "enrichment": {"status": self.status, "ner": self.ner},
        }

    def apply(self, item: Item) -> None:
        for name, value in self.fields().items():
            setattr(item, name, value)
        if self.failures:
            item.problems.append(f"{ENRICHMENT_FAILED}: {self.failure}")

    @property
    def failure(self) -> str:
        """All that failed on this item, in one line (one exception-report entry per item)."""
        return "; ".join(self.failures)

    def to_update(self) -> dict[str, Any]:
        doc = self.fields()
        doc["entities"] = [e.to_doc() for e in self.entities]
        return doc


class Enricher:
    """The enrichment stage with its options, people registry and (loaded once) NER model."""

    def __init__(self, options: EnrichOptions = EnrichOptions(), registry: PeopleRegistry | None = None):
        self.options = options
        self.registry = registry or PeopleRegistry()
        self._memo: OrderedDict[bytes, Enrichment] = OrderedDict()
        self.memo_hits = 0
        if options.ner and options.ner_workers:
            ner.check_model()  # fail at the start of a run, not on its first batch; the workers load it
        elif options.ner:
            ner.load_model()

    def enrich_texts(self, texts: list[tuple[str | None, str]]) -> list[Enrichment]:
        """The enrichment of each (subject, body); a failure is recorded on the result, never raised.

        The same text is worked on once: a message copied to many custodians, an attachment
        forwarded again and again, the "ok" and "thanks" of every chat. What came out of the
        last MEMO_ENTRIES distinct texts is kept and copied (failures are not kept).
        """
        return self._finish(self._start(texts))

    def enrich_batches(self, batches: Iterable[tuple[T, list[tuple[str | None, str]]]]) -> Iterator[tuple[T, list[Enrichment]]]:
        """(tag, results) for each (tag, texts), in order. With NER workers, several batches are in
        the workers at once while the next ones are read; the caller still sees one at a time."""
        ahead: deque[tuple[T, _Job]] = deque()
        depth = self.options.ner_workers + 1 if self.options.ner_workers and self.options.ner else 0  # one queued per worker
        for tag, texts in batches:
            ahead.append((tag, self._start(texts)))
            while len(ahead) > depth:
                tag, job = ahead.popleft()
                yield tag, self._finish(job)
        while ahead:
            tag, job = ahead.popleft()
            yield tag, self._finish(job)

    def _start(self, texts: list[tuple[str | None, str]]) -> "_Job":
        """Look the texts up in the memo and hand the new ones to NER (a worker process when there are workers)."""
        keys = [_text_key(subject, body) for subject, body in texts]
        job = _Job(keys)
        for key, text in zip(keys, texts):
            if key in job.fresh or key in job.reused:
                continue
            if key in self._memo:
                job.reused[key] = self._memo[key]
                self._memo.move_to_end(key)
            else:
                job.fresh[key] = len(job.todo)
                job.todo.append(text)
        job.results = [Enrichment() for _ in job.todo]
        if self.options.ner:
            job.pieces = self._ner_pieces(job.todo, job.results)
            pool = ner.worker_pool(self.options.ner_workers)
            if pool is not None and job.pieces:
                try:
                    job.future = pool.submit(ner.recognise, [text for _, _, text in job.pieces])
                except Exception:  # noqa: BLE001 - a worker died (BrokenProcessPool) or could not start: NER runs here
                    ner.forget_broken_pool()
        return job

    def _finish(self, job: "_Job") -> list[Enrichment]:
        """Wait for the job's NER, run the detectors, keep the results in the memo; one result per text."""
        if self.options.ner:
            self._apply_ner(job.pieces, self._found(job), job.results)
        for (subject, body), result in zip(job.todo, job.results):
            self._detect(subject, body, result)
            try:
                result.minhash = signature(body, self.options.near_dup_min_words)
            except Exception as exc:  # noqa: BLE001 - recorded as an enrichment failure of this item
                self._fail(result, f"near-duplicate signature: {exc.__class__.__name__}: {exc}")
            result.entities.sort(key=lambda e: (e.field != "subject", e.start, e.end))
        results = []
        for key in job.keys:
            if key in job.fresh:
                result = job.results[job.fresh[key]]
                if result.status != "failed":
                    self._memo[key] = result
            else:
                result = job.reused[key]
                self.memo_hits += 1
            results.append(result.copy())
        while len(self._memo) > MEMO_ENTRIES:
            self._memo.popitem(last=False)
        return results

    def _ner_pieces(self, texts: list[tuple[str | None, str]], results: list[Enrichment]) -> list[tuple[int, str, str]]:
        limit = self.options.ner_max_chars
        pieces: list[tuple[int, str, str]] = []
        for n, (subject, body) in enumerate(texts):
            if subject:
                pieces.append((n, "subject", subject[:limit]))
            if body:
                pieces.append((n, "body", body[:limit]))
            if len(body) > limit or len(subject or "") > limit:
                results[n].status = "capped"
        return pieces

    @staticmethod
    def _found(job: "_Job") -> list[list[Entity] | Exception]:
        """The entities of each piece: from the worker, or here. One bad text must not cost the batch,
        so after a failure the pieces are tried one by one (here, in this process)."""
        texts = [text for _, _, text in job.pieces]
        if job.future is not None:
            try:
                return job.future.result()
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

    def _apply_ner(self, pieces: list[tuple[int, str, str]], found: list, results: list[Enrichment]) -> None:
        for (n, where, _), entities in zip(pieces, found):
            if isinstance(entities, Exception):
                self._fail(results[n], f"named entities ({where}): {entities.__class__.__name__}: {entities}")
                continue
            for entity in entities:
                entity.field = where
            results[n].entities.extend(entities)
        for result in results:
            result.ner = result.status != "failed"

    def _detect(self, subject: str | None, body: str, result: Enrichment) -> None:
        limit = self.options.pii_max_chars
        try:
            pii = [*detect_pii(subject or "", self.options.phone_region, "subject"),
                   *detect_pii(body[:limit], self.options.phone_region, "body")]
        except Exception as exc:  # noqa: BLE001 - recorded as an enrichment failure of this item
            self._fail(result, f"personal-data detection: {exc.__class__.__name__}: {exc}")
            return
        if len(body) > limit:
            result.status = "capped" if result.status == "ok" else result.status
        # A name the model found inside an email address or phone number is the PII, not a person.
        overlaps = _overlapping(pii)
        result.entities = [e for e in result.entities if not overlaps(e)]
        result.entities.extend(pii)
        if len(result.entities) > MAX_ENTITIES:
            result.entities.sort(key=lambda e: (e.field != "subject", e.start))
            del result.entities[MAX_ENTITIES:]
            result.status = "capped" if result.status == "ok" else result.status

    @staticmethod
    def _fail(result: Enrichment, reason: str) -> None:
        result.status = "failed"
        result.failures.append(reason)

    def enrich_items(self, items: Iterable[Item], record: Callable[[Problem], None]) -> Iterator[Item]:
        """Enrich `items` in batches and yield them one by one; failures go to `record` as problems."""
        batches = ((batch, [(item.subject, item.body or "") for item in batch])
                   for batch in _batched(items, self.options.batch_size))
        for batch, results in self.enrich_batches(batches):
            for item, result in zip(batch, results):
                result.apply(item)
                self.registry.assign(item)
                if result.failures:
                    record(Problem(item.source_path, item.locator, ENRICHMENT_FAILED, result.failure, item.id))
            yield from batch


@dataclass
class _Job:
    """One batch between `_start` and `_finish`: its texts' keys, the texts new to the memo, their NER."""

    keys: list[bytes]
    fresh: dict[bytes, int] = field(default_factory=dict)  # key → position in `todo`
    reused: dict[bytes, Enrichment] = field(default_factory=dict)  # key → the memo's result when the job started
    todo: list[tuple[str | None, str]] = field(default_factory=list)
    results: list[Enrichment] = field(default_factory=list)
    pieces: list[tuple[int, str, str]] = field(default_factory=list)  # (position in todo, field, text) for NER
    future: Future | None = None


def _batched(things: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for thing in things:
        batch.append(thing)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_INDEX_FIELDS = ["subject", "body", "source_path", "locator", *ADDRESS_FIELDS]


def enrich_index(client: OpenSearch, index: str, enricher: Enricher, record: Callable[[Problem], None],
                 query: dict[str, Any] | None = None) -> int:
    """Re-run enrichment over the items of `index` (all, or those matching `query`) as partial updates; return the count."""

    def updates() -> Iterator[dict[str, Any]]:
        hits = helpers.scan(client, index=index, query={"query": query or {"match_all": {}}, "_source": _INDEX_FIELDS},
                            size=enricher.options.batch_size * 4)
        batches = ((batch, [(h["_source"].get("subject"), h["_source"].get("body") or "") for h in batch])
                   for batch in _batched(hits, enricher.options.batch_size))
        for batch, results in enricher.enrich_batches(batches):
            for hit, result in zip(batch, results):
                source = hit["_source"]
                if result.failures:
                    record(Problem(source.get("source_path", "?"), source.get("locator", "?"), ENRICHMENT_FAILED, result.failure, hit["_id"]))
                doc = {**result.to_update(), **enricher.registry.assign_doc(source)}
                yield {"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": doc}

    written, _ = helpers.bulk(client, updates(), chunk_size=500, max_chunk_bytes=50 * 1024 * 1024, raise_on_error=True)
    client.indices.refresh(index=index)
    return written


def enricher_for(settings, client: OpenSearch) -> Enricher:
    """The stage configured by `settings`, with the people registry as last imported."""
    return Enricher(EnrichOptions.from_settings(settings), load_registry(client, settings.people_index))


def run_enrich(settings, report_path) -> tuple[int, int]:
    """`lantern enrich`: re-run the stage and the near-duplicate pass over the existing index.

    Returns (items updated, enrichment failures); failures are written to the exception report.
    """
    from indexer.enrich.near_dups import near_dup_index
    from indexer.report import ExceptionReport
    from services.clients import opensearch_client
    from services.index import ensure_items_index

    client = opensearch_client(settings, timeout=120)
    alias = ensure_items_index(client, settings)
    enricher = enricher_for(settings, client)
    with ExceptionReport(report_path) as report:
        updated = enrich_index(client, alias, enricher, report.add)
    near_dup_index(client, alias, enricher.options.near_dup_threshold)
    return updated, report.counts.get(ENRICHMENT_FAILED, 0)
