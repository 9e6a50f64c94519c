"""How an item field is declared: its OpenSearch mapping and what the search, the CLI and the exports do with it.

Every attribute of `indexer.model.Item` (and of its `Custody`) is declared with `indexed(...)`,
which records a `Spec` in the dataclass field's metadata. `indexer.model.FIELDS` reads them back,
in declaration order, and everything else is derived from that one table:

| from the spec   | derived                                                                          |
| --------------- | -------------------------------------------------------------------------------- |
| `mapping`       | the index mapping (`services.index.MAPPING`)                                     |
| the attribute   | the document (`Item.to_doc`); `name` when the document's name differs (`from`)   |
| `filter`        | a search filter: `SearchRequest`, GET /search and the exports' query parameters, |
|                 | the term report's filters, the CLI's `--NAME` options (`lantern.filters`)        |
| `facet`         | a facet: aggregated on every search, counted in the response and the UI          |
| `hit`           | returned in each search hit                                                      |
| `export`        | a column of the CSV export, in declaration order                                 |
| `cross_item`    | names another item: confined for scoped callers (`search_api.disclosure`)        |

A new filterable, facetable field is then one declaration in `indexer/model.py` and the reader
(or enrichment step) that fills it. Changing an existing field's mapping still means bumping
`services.index.MAPPING_VERSION` and reindexing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Filter = Literal["terms", "flag"]  # terms: any of these values (a list); flag: true or false


@dataclass(frozen=True, slots=True)
class Spec:
    """What one item field is for (see the module docstring)."""

    mapping: dict[str, Any]
    name: str | None = None  # the document's field name, when it differs from the attribute's
    filter: Filter | None = None
    facet: bool = False
    hit: bool = False
    export: bool = False
    cross_item: bool = False
    values: tuple[str, ...] = ()  # the only values a filter accepts (empty: any)
    label: str = ""  # the facet's heading in the UI
    help: str = ""  # the filter's description in the API and the CLI


@dataclass(frozen=True, slots=True)
class IndexedField:
    """One field of the item document: its name, the attribute path that holds it, and its spec."""

    name: str
    attribute: str  # e.g. "subject", or "custody.custodian"
    spec: Spec


def indexed(mapping: dict[str, Any], *, default: Any = dataclasses.MISSING, default_factory: Any = dataclasses.MISSING,
            **spec: Any) -> Any:
    """A dataclass field that is indexed with `mapping` and used as `spec` says (the keywords of `Spec`)."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"index": Spec(mapping, **spec)})


def indexed_fields(model: type, embedded: dict[str, type] | None = None) -> tuple[IndexedField, ...]:
    """The indexed fields of the dataclass `model`, in declaration order; an attribute named in
    `embedded` holds another dataclass whose fields are flattened into the document at that place."""
    found: list[IndexedField] = []
    for attribute in dataclasses.fields(model):
        inner = (embedded or {}).get(attribute.name)
        if inner is not None:
            found.extend(IndexedField(f.name, f"{attribute.name}.{f.attribute}", f.spec) for f in indexed_fields(inner))
            continue
        spec = attribute.metadata.get("index")
        if spec is None:
            raise TypeError(f"{model.__name__}.{attribute.name} is not declared with indexed(...)")
        found.append(IndexedField(spec.name or attribute.name, attribute.name, spec))
    return tuple(found)


# Mapping shapes. Text is analysed twice: the main field with an English analyzer (stemming, so
# "contracts" finds "contract") and an `.exact` subfield that only lowercases and folds accents,
# for phrase and exact-word matching (the analyzers are in services.index.ANALYSIS).
KEYWORD: dict[str, Any] = {"type": "keyword"}
LOWER_KEYWORD: dict[str, Any] = {"type": "keyword", "normalizer": "lantern_lowercase"}
UNINDEXED_KEYWORD: dict[str, Any] = {"type": "keyword", "index": False}  # kept, and sortable, but not searched
UNSEARCHED: dict[str, Any] = {"type": "keyword", "index": False, "doc_values": False}  # kept in _source only
INTEGER: dict[str, Any] = {"type": "integer"}
LONG: dict[str, Any] = {"type": "long"}
FLOAT: dict[str, Any] = {"type": "float"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
DATE: dict[str, Any] = {"type": "date"}


def analysed_text(keyword: bool = False) -> dict[str, Any]:
    """Searchable prose: stemmed, `.exact` unstemmed, offsets for highlighting; `.keyword` for whole values."""
    fields: dict[str, Any] = {"exact": {"type": "text", "analyzer": "lantern_exact", "index_options": "offsets"}}
    if keyword:
        fields["keyword"] = {"type": "keyword", "ignore_above": 512}
    return {"type": "text", "analyzer": "lantern_english", "index_options": "offsets", "fields": fields}


def exact_text(ignore_above: int = 512) -> dict[str, Any]:
    """A name or title: words matched unstemmed, and the whole value as `.keyword`."""
    return {"type": "text", "analyzer": "lantern_exact", "fields": {"keyword": {"type": "keyword", "ignore_above": ignore_above}}}


ADDRESS: dict[str, Any] = {
    "properties": {"raw": exact_text(), "name": exact_text(256), "address": LOWER_KEYWORD, "person": KEYWORD},
}

# Entity facet values: keyword for facets and filters, `.text` so `entity:hancock` finds "Matt Hancock".
ENTITY_VALUE: dict[str, Any] = {"type": "keyword", "ignore_above": 256, "fields": {"text": {"type": "text", "analyzer": "lantern_exact"}}}

# Entities with offsets, a plain object (not nested): facets use the flat entity_* arrays instead.
ENTITY: dict[str, Any] = {
    "properties": {
        "type": KEYWORD,
        "text": {"type": "keyword", "ignore_above": 256},
        "norm": {"type": "keyword", "ignore_above": 256},
        "field": KEYWORD,
        "start": {"type": "integer", "index": False},
        "end": {"type": "integer", "index": False},
    }
}

# Shapes whose values are model objects (Address, Entity) that write their own document.
OBJECT_SHAPES = (ADDRESS, ENTITY)
