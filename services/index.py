"""The items index: its analyzers, its mapping, its versioned name behind an alias, and its creation.

The mapping is the item model's field table (`indexer.model.FIELDS`: each field's mapping is
declared beside its attribute). Text fields are analysed twice: the main field with an English
analyzer (stemming, so "contracts" finds "contract") and an `.exact` subfield that only
lowercases and folds accents, for phrase and exact-word matching. Identifiers and facets are
keywords. The mapping is strict: a field the item model does not declare is an error, not a
surprise. Changing a field's mapping means bumping MAPPING_VERSION and reindexing into the new index.
"""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

from indexer.model import FIELDS
from services.settings import Settings

MAPPING_VERSION = 1

ANALYSIS: dict[str, Any] = {
    "filter": {
        "english_possessive": {"type": "stemmer", "language": "possessive_english"},
        "english_stemmer": {"type": "stemmer", "language": "english"},
    },
    "analyzer": {
        # No stop words: investigators search phrases like "to be or not to be".
        "lantern_english": {
            "tokenizer": "standard",
            "filter": ["english_possessive", "lowercase", "asciifolding", "english_stemmer"],
        },
        "lantern_exact": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
    },
    "normalizer": {"lantern_lowercase": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
}

MAPPING: dict[str, Any] = {"dynamic": "strict", "properties": {f.name: f.spec.mapping for f in FIELDS}}


def index_name(settings: Settings) -> str:
    """The concrete, versioned index behind the items alias."""
    return f"{settings.items_alias}-v{MAPPING_VERSION}"


def index_body() -> dict[str, Any]:
    return {
        "settings": {
            "index": {"number_of_shards": 1, "number_of_replicas": 0, "max_result_window": 10000},
            "analysis": ANALYSIS,
        },
        "mappings": MAPPING,
    }


def ensure_items_index(client: OpenSearch, settings: Settings) -> str:
    """Create the versioned items index and its alias if missing (else add new mapping fields); return the alias."""
    alias = settings.items_alias
    if client.indices.exists_alias(name=alias):
        # New fields are additive: put them on the live index. A conflicting change fails here,
        # and means bumping MAPPING_VERSION and reindexing.
        client.indices.put_mapping(index=alias, body=MAPPING)
        return alias
    body = index_body()
    body["aliases"] = {alias: {}}
    try:
        client.indices.create(index=index_name(settings), body=body)
    except RequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
    return alias


def delete_items_index(client: OpenSearch, settings: Settings) -> None:
    """Drop the items index (used by tests and `lantern reset`)."""
    client.indices.delete(index=index_name(settings), ignore_unavailable=True)
