"""Person keys (`indexer.enrich.people`): each address gets its `person`, each item its `people`,
from the registry as last imported when the run started."""

from __future__ import annotations

from typing import Any

from indexer.enrich.people import ADDRESS_FIELDS
from indexer.enrich.steps.base import ItemStep, StepSetup
from indexer.model import Item


class PersonKeys(ItemStep):
    """`person` on every address (from, to, cc, bcc, participants) and `people`, their keys."""

    name = "people"
    writes = (*ADDRESS_FIELDS, "people")
    reads = ADDRESS_FIELDS

    def __init__(self, setup: StepSetup) -> None:
        super().__init__(setup)
        self.registry = setup.registry

    def run(self, items: list[Item]) -> None:
        for item in items:
            self.registry.assign(item)

    def update(self, source: dict[str, Any]) -> dict[str, Any]:
        return self.registry.assign_doc(source)
