"""The items index: its mapping, its versioned name behind an alias, and its creation.

Text fields are analysed twice: the main field with an English analyzer (stemming, so
"contracts" finds "contract") and an `.exact` subfield that only lowercases and folds
accents, for phrase and exact-word matching. Identifiers and facets are keywords. The
mapping is strict: a field the item model does not declare is an error, not a surprise.
Changing the mapping means bumping MAPPING_VERSION and reindexing into the new index.
"""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

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

_KEYWORD = {"type": "keyword"}
_LOWER_KEYWORD = {"type": "keyword", "normalizer": "lantern_lowercase"}


def _text(keyword: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {"exact": {"type": "text", "analyzer": "lantern_exact", "index_options": "offsets"}}
    if keyword:
        fields["keyword"] = {"type": "keyword", "ignore_above": 512}
    return {"type": "text", "analyzer": "lantern_english", "index_options": "offsets", "fields": fields}


_ADDRESS = {
    "properties": {
        "raw": {"type": "text", "analyzer": "lantern_exact", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "name": {"type": "text", "analyzer": "lantern_exact", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "address": _LOWER_KEYWORD,
        "person": _KEYWORD,
    }
}

# Entity facet values: keyword for facets and filters, `.text` so `entity:hancock` finds "Matt Hancock".
_ENTITY_VALUE = {"type": "keyword", "ignore_above": 256, "fields": {"text": {"type": "text", "analyzer": "lantern_exact"}}}

# Entities with offsets, a plain object (not nested): facets use the flat entity_* arrays instead.
_ENTITY = {
    "properties": {
        "type": _KEYWORD,
        "text": {"type": "keyword", "ignore_above": 256},
        "norm": {"type": "keyword", "ignore_above": 256},
        "field": _KEYWORD,
        "start": {"type": "integer", "index": False},
        "end": {"type": "integer", "index": False},
    }
}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "kind": _KEYWORD,
        "channel": _KEYWORD,
        "source_path": _KEYWORD,
        "locator": _KEYWORD,
        "source_sha256": _KEYWORD,
        "custodian": _KEYWORD,
        "account": _LOWER_KEYWORD,
        "record": _KEYWORD,
        "collection": _KEYWORD,
        "family_id": _KEYWORD,
        "parent_id": _KEYWORD,
        "depth": {"type": "integer"},
        "thread_id": _KEYWORD,
        "conversation_id": _KEYWORD,
        "conversation_name": {"type": "text", "analyzer": "lantern_exact", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        # Chat and system events: deleted, joined, left, subject_changed, security_code, encryption_notice,
        # disappearing_on, disappearing_off, media_omitted, call, ...
        "event": _KEYWORD,
        "seq": {"type": "long"},
        "subject": _text(keyword=True),
        "body": _text(),
        # Sanitised HTML of an email body, for display only: kept in _source, never indexed.
        "body_html": {"type": "keyword", "index": False, "doc_values": False},
        "from": _ADDRESS,
        "to": _ADDRESS,
        "cc": _ADDRESS,
        "bcc": _ADDRESS,
        "participants": _ADDRESS,
        "date": {"type": "date"},
        "date_original": {"type": "keyword", "index": False},
        "timezone": _KEYWORD,
        "message_id": _KEYWORD,
        "in_reply_to": _KEYWORD,
        "references": _KEYWORD,
        "file_name": {"type": "text", "analyzer": "lantern_exact", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "content_type": _KEYWORD,
        "size": {"type": "long"},
        "attachment_names": {"type": "text", "analyzer": "lantern_exact", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "language": _KEYWORD,
        "content_sha256": _KEYWORD,
        # Exact duplicates share a dup_group (kept as separate items: custody matters).
        "dup_group": _KEYWORD,
        "near_dup_group": _KEYWORD,
        "has_pii": {"type": "boolean"},
        # Enrichment (indexer/enrich/stage.py): named entities, UK personal data, people.
        "entities": _ENTITY,
        "entity_people": _ENTITY_VALUE,
        "entity_orgs": _ENTITY_VALUE,
        "entity_places": _ENTITY_VALUE,
        "pii_types": _KEYWORD,
        "people": _KEYWORD,
        # MinHash signature for near-duplicates (base64 of 64 uint32): never searched; doc values so
        # that `exists` finds the items that have one.
        "minhash": {"type": "binary", "doc_values": True},
        "enrichment": {"properties": {"status": _KEYWORD, "ner": {"type": "boolean"}}},
        "extraction": _KEYWORD,
        "problems": {"type": "text", "analyzer": "lantern_exact"},
        # Record-keeping gaps (indexer/enrich/counterparts.py), on private items only: the strongest
        # official counterpart found (exact, forwarded, near, quoted, note or none) and every link.
        "official_copy": _KEYWORD,
        "official_copy_links": {"properties": {"id": _KEYWORD, "how": _KEYWORD, "score": {"type": "float"},
                                               "why": {"type": "keyword", "index": False, "doc_values": False}}},
        "business_score": {"type": "float"},
        "business_signals": _KEYWORD,
    },
}


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
