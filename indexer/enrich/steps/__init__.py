"""The registry of enrichment steps: one module per step, listed once here, in the order they run.

Adding a step is one new module with a `TextStep` or `ItemStep` subclass (the contract is in
`base`), plus one line in STEPS. Text steps come first: each batch's texts go through them, their
results go onto the items, then the items go through the item steps.
"""

from __future__ import annotations

from indexer.enrich.steps.base import Step
from indexer.enrich.steps.dup_group import DupGroups
from indexer.enrich.steps.minhash import NearDupSignature
from indexer.enrich.steps.ner import NamedEntities
from indexer.enrich.steps.people import PersonKeys
from indexer.enrich.steps.pii import PersonalData

STEPS: tuple[type[Step], ...] = (
    NamedEntities,  # entities: people, organisations, places (spaCy; worker processes)
    PersonalData,  # entities: personal data, outranking the named entities they overlap; the entity cap
    NearDupSignature,  # minhash
    DupGroups,  # dup_group
    PersonKeys,  # person keys of the addresses, people
)
