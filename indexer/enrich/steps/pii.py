"""UK personal data (email, phone, NHS and NI numbers, postcodes…) found by `indexer.enrich.pii`.

The detectors read up to `pii_max_chars` of the body (`enrichment.status` is `capped` beyond).
A detection outranks a named entity it overlaps: a name the model found inside an email address
or phone number is the personal data, not a person. An item keeps at most `max_entities`
entities, subject first, in reading order.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from indexer.enrich.pii import detect_pii
from indexer.enrich.steps.base import Enrichment, StepSetup, TextBatch, TextStep
from indexer.model import Entity


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


class PersonalData(TextStep):
    """Personal-data detections as entities; `pii_types` and `has_pii` follow from them."""

    name = "pii"
    writes = ("entities", "pii_types", "has_pii")

    def __init__(self, setup: StepSetup) -> None:
        super().__init__(setup)
        self.max_entities = setup.max_entities

    def run(self, batch: TextBatch) -> None:
        for (subject, body), result in zip(batch.texts, batch.results):
            self._detect(subject, body, result)

    def _detect(self, subject: str | None, body: str, result: Enrichment) -> None:
        limit, region = self.options.pii_max_chars, self.options.phone_region
        try:
            pii = [*detect_pii(subject or "", region, "subject"), *detect_pii(body[:limit], region, "body")]
        except Exception as exc:  # noqa: BLE001 - recorded as an enrichment failure of this item
            result.fail(f"personal-data detection: {exc.__class__.__name__}: {exc}")
            return
        if len(body) > limit:
            result.cap()
        overlaps = _overlapping(pii)
        result.entities = [e for e in result.entities if not overlaps(e)]
        result.entities.extend(pii)
        if len(result.entities) > self.max_entities:
            result.entities.sort(key=lambda e: (e.field != "subject", e.start))
            del result.entities[self.max_entities:]
            result.cap()
