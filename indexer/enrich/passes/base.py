"""The contract of an index-wide pass: work over every item of the index, after a run or on demand.

A pass reads back what it needs from the index, because what it links (a thread's messages, a
near-duplicate, an official copy) may have arrived in another run, from another custodian.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from indexer.store import Retry
from services.runtime import Runtime

INGEST = "ingest"  # after every ingest run (`run_ingest`)
ENRICH = "enrich"  # after re-enriching the index (`run_enrich`)


@dataclass(frozen=True)
class PassContext:
    """What a pass may need of the run before it, beyond the runtime."""

    current: dict[str, set[str]] = field(default_factory=dict)  # unit → source digests the ingest just indexed
    custodian: str | None = None  # whose items the ingest wrote
    retry: Retry = Retry()  # how long to keep trying OpenSearch


@dataclass
class PassStats:
    """What one pass did: items it changed (written or deleted), its seconds, and its own figures if it has more."""

    changed: int = 0
    seconds: float = 0.0
    detail: Any = None


class Pass:
    """One index-wide pass. The contract every pass keeps:

    - `name` is unique in PASSES (and names the pass's entry in an ingest's `stage_seconds`).
    - `after` names the runs it follows (INGEST, ENRICH); a pass with none runs only when called.
    - `run(runtime, context)` works over `runtime.alias` with `runtime.client`, writes only what
      changed, refreshes the index if it wrote, and returns its stats; it raises on a failure
      (the run's items are indexed by then: running the pass again repairs what it left).
    """

    name: ClassVar[str]
    after: ClassVar[frozenset[str]] = frozenset()

    def run(self, runtime: Runtime, context: PassContext) -> PassStats:
        raise NotImplementedError
