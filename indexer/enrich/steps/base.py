"""The contract of an enrichment step, and what steps work on: a batch of texts, one result each.

Modelled on paperless-ngx's consume plugins (`ConsumeTaskPlugin`): a small base class whose
contract is written here, one explicit ordered list (`STEPS` in `indexer.enrich.steps`), and one
runner (`indexer.enrich.runner.Runner`) that does the batching, the memo, the batches kept in
flight for worker processes and the failure records for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from indexer.enrich import entities as ner
from indexer.enrich.options import EnrichOptions
from indexer.enrich.people import PeopleRegistry
from indexer.model import Entity, Item

ENRICHMENT_FAILED = "enrichment_failed"
MAX_ENTITIES = 10_000  # per item: a spreadsheet of contacts must not make a document of a million objects


@dataclass(frozen=True)
class StepSetup:
    """What a run's steps are built from: its options, the people registry as last imported, the entity cap."""

    options: EnrichOptions = EnrichOptions()
    registry: PeopleRegistry = field(default_factory=PeopleRegistry)
    max_entities: int = MAX_ENTITIES


class Step:
    """One piece of per-item enrichment. The contract every step keeps:

    - `name` is unique in STEPS; `writes` names the item fields the step sets, and it sets no other.
    - `able_to_run(options)` says whether the run needs the step at all (NER can be switched off);
      if so the runner builds it once per run, `Step(setup)`. The constructor does the once-per-run
      work (loading a model) and may raise to stop the run before its first item.
    - Each batch goes through the steps in STEPS order, in place; text steps come before item steps
      (the runner refuses another order). `run` never raises for one item's trouble: a text step
      calls `result.fail(reason)`, and the runner indexes the item anyway, marks it
      `enrichment.status: failed` and writes one `enrichment_failed` entry to the exception report.
    - A step is a `TextStep` or an `ItemStep`; see each for what `run` gets.
    """

    name: ClassVar[str]
    writes: ClassVar[tuple[str, ...]]

    @classmethod
    def able_to_run(cls, options: EnrichOptions) -> bool:
        """Whether a run with these options includes the step (default: always)."""
        return True

    def __init__(self, setup: StepSetup) -> None:
        self.options = setup.options


@dataclass
class Enrichment:
    """What the text steps found for one text (subject and body): the item fields they set.

    A step records what it found on `entities` or `minhash`, or a field of its own in `values`
    (its name in `writes`); `status` is "ok", "capped" (a step read only part of the text) or
    "failed", and `ner` whether named entities were looked for.
    """

    entities: list[Entity] = field(default_factory=list)
    minhash: str | None = None
    status: str = "ok"
    ner: bool = False
    failures: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # shared by the copies: read-only once finished

    def copy(self) -> "Enrichment":
        """A result of its own for another item (the entities themselves are shared: read-only)."""
        return Enrichment(list(self.entities), self.minhash, self.status, self.ner, list(self.failures), self.values)

    def fail(self, reason: str) -> None:
        """Record that a step failed on this text; the item is indexed without what failed."""
        self.status = "failed"
        self.failures.append(reason)

    def cap(self) -> None:
        """Record that a step read only part of the text (a failure says more, so it stays)."""
        if self.status == "ok":
            self.status = "capped"

    def _values(self, kind: str) -> list[str]:
        return sorted({e.norm for e in self.entities if e.type == kind and e.norm})

    @property
    def pii_types(self) -> list[str]:
        return sorted({e.type for e in self.entities if e.type not in ner.LABELS.values()})

    def fields(self) -> dict[str, Any]:
        """The item fields, empty ones included, so a partial update clears stale values."""
        fields = {
            "entities": self.entities,
            "entity_people": self._values("person"),
            "entity_orgs": self._values("org"),
            "entity_places": self._values("place"),
            "pii_types": self.pii_types,
            "has_pii": bool(self.pii_types),
            "minhash": self.minhash,
            "enrichment": {"status": self.status, "ner": self.ner},
        }
        if self.values:
            fields.update(self.values)
        return fields

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


@dataclass
class TextBatch:
    """The texts of one batch that the memo does not hold yet, each with the result the steps fill in."""

    texts: list[tuple[str | None, str]]  # (subject, body)
    results: list[Enrichment]
    started: dict[str, Any] = field(default_factory=dict)  # what a step's `start` left for its `run`, by step name


class TextStep(Step):
    """A step that reads only an item's subject and body, so it works once per distinct text.

    `run(batch)` fills `batch.results[n]` from `batch.texts[n]` (subject, body). The runner's memo
    keeps the results of the last texts and copies them to every item with the same text (a
    failed result is not kept). `start(batch)`, called when the batch enters the runner, may begin
    work that runs elsewhere (worker processes) while earlier batches finish; with `ahead` > 0 the
    runner keeps that many batches started beyond the one it is finishing.
    """

    ahead: int = 0

    def start(self, batch: TextBatch) -> None:
        """Begin what can overlap earlier batches; leave what `run` needs in `batch.started[self.name]`."""

    def run(self, batch: TextBatch) -> None:
        raise NotImplementedError


class ItemStep(Step):
    """A step that reads more of an item than its text (addresses, hashes), so it runs on every item.

    At ingest `run(items)` sets the fields on the items of the batch, after the text steps' results
    are on them. Re-enriching the index (`lantern enrich`), `update(source)` returns the partial
    update for one indexed item, whose `_source` holds at least the fields in `reads`; a step with
    `over_index` False keeps what ingest wrote (a duplicate key depends on the reader's hashes).
    """

    reads: ClassVar[tuple[str, ...]] = ()
    over_index: ClassVar[bool] = True

    def run(self, items: list[Item]) -> None:
        raise NotImplementedError

    def update(self, source: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
