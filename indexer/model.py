"""The item model: one OpenSearch document per email, message, attachment or loose document.

Field names are the public contract (documented in the README); each is declared once on `Item`
(or `Custody`) with its mapping and its uses (`indexer.fields`), and `FIELDS` is that table.
Sources yield `Item`s and `Problem`s; the pipeline enriches items and writes them, and writes
problems to the exception report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal

from indexer.fields import (ADDRESS, BOOLEAN, DATE, ENTITY, ENTITY_VALUE, FLOAT, INTEGER, KEYWORD, LONG, LOWER_KEYWORD,
                            OBJECT_SHAPES, UNINDEXED_KEYWORD, UNSEARCHED, IndexedField, analysed_text, exact_text, indexed, indexed_fields)

Kind = Literal["email", "message", "sms", "attachment", "document"]
Record = Literal["official", "private"]
Extraction = Literal["ok", "partial", "ocr", "failed"]


# Lone UTF-16 surrogates: undecodable bytes in file names (os.fsdecode's surrogateescape) and
# "\ud800"-style escapes in hostile JSON. No UTF-8 writer (the report, OpenSearch) accepts them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """`value` with every lone surrogate written out visibly: an undecodable file-name byte as `\\xff`
    (as `os.fsencode(path).decode("utf-8", "backslashreplace")` writes it), any other as `\\ud800`."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(_escaped, value)
    return value


def _escaped(match: re.Match) -> str:
    code = ord(match[0])
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def valid_doc(value: Any) -> Any:
    """A JSON-ready value with `valid_text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_text(k) if isinstance(k, str) else k: valid_doc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [valid_doc(v) for v in value]
    return value


def stable_id(source_sha256: str, locator: str, custody: "Custody | None" = None) -> str:
    """Item id: a hash of the source file's digest, the locator inside it and who holds it (custodian,
    account, record). Re-ingesting the same file for the same custodian gives the same ids; the same
    file held by two custodians gives two items, because custody is evidence (they share a dup_group)."""
    held_by = f"{custody.custodian}\x00{custody.account or ''}\x00{custody.record}" if custody else ""
    return hashlib.sha256(f"{source_sha256}\x00{locator}\x00{held_by}".encode()).hexdigest()[:40]


@dataclass(slots=True)
class Address:
    """One person reference as found (`raw`) plus its parsed parts and resolved `person` key."""

    raw: str
    name: str | None = None
    address: str | None = None
    person: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {k: v for k, v in (("raw", self.raw), ("name", self.name), ("address", self.address), ("person", self.person)) if v}


@dataclass(slots=True)
class Entity:
    """A named entity or a piece of personal data found in an item's `field` (body or subject).

    `type` is person, org, place (named entities) or a PII type (email, phone, ni_number,
    nhs_number, postcode, bank_account, date_of_birth); `start`/`end` are character offsets into
    the whole field text; `norm` is the normalised value (E.164 phone, lowercased email, ...).
    """

    type: str
    text: str
    start: int
    end: int
    field: str = "body"
    norm: str | None = None

    def to_doc(self) -> dict[str, Any]:
        doc = {"type": self.type, "text": self.text, "start": self.start, "end": self.end, "field": self.field}
        if self.norm:
            doc["norm"] = self.norm
        return doc


@dataclass(slots=True)
class Custody:
    """Who the evidence came from; the same for every item of one ingest run."""

    custodian: str = indexed(KEYWORD, filter="terms", facet=True, hit=True, export=True, label="Custodian",
                             help="the person the material was collected from")
    record: Record = indexed(KEYWORD, filter="terms", facet=True, hit=True, export=True, values=("official", "private"),
                             label="Record", help="official or private")
    account: str | None = indexed(LOWER_KEYWORD, default=None, hit=True, export=True)
    collection: str | None = indexed(KEYWORD, default=None, export=True)


@dataclass(slots=True, kw_only=True)
class Item:
    """One searchable unit. `id`, `family_id` and `parent_id` are stable across re-ingests.

    Each attribute is declared once, with its mapping and what the search, the CLI and the exports
    do with it (`indexer.fields`); `FIELDS` below reads the declarations back. `custody` is
    flattened into the document (custodian, record, account, collection).
    """

    id: str = indexed(KEYWORD, hit=True, export=True)
    kind: Kind = indexed(KEYWORD, filter="terms", facet=True, hit=True, export=True, label="Kind",
                         help="email, attachment, message, sms, document")
    channel: str = indexed(KEYWORD, filter="terms", facet=True, hit=True, export=True, label="Channel",
                           help="email, whatsapp, slack, teams, telegram, signal, sms, file, ...")
    custody: Custody
    # When, and between whom.
    date: str | None = indexed(DATE, default=None, hit=True, export=True)
    date_original: str | None = indexed(UNINDEXED_KEYWORD, default=None)  # the date as written in the source
    timezone: str | None = indexed(KEYWORD, default=None)
    sender: Address | None = indexed(ADDRESS, name="from", default=None, hit=True, export=True)
    to: list[Address] = indexed(ADDRESS, default_factory=list, hit=True, export=True)
    cc: list[Address] = indexed(ADDRESS, default_factory=list, export=True)
    bcc: list[Address] = indexed(ADDRESS, default_factory=list, export=True)
    participants: list[Address] = indexed(ADDRESS, default_factory=list)
    people: list[str] = indexed(KEYWORD, default_factory=list, filter="terms", facet=True, label="Person (from, to, chat)",
                                help="person keys of every address on the item, e.g. person:alice.hart@dhsc.gov.uk")
    # What it says.
    subject: str | None = indexed(analysed_text(keyword=True), default=None, hit=True, export=True)
    body: str = indexed(analysed_text(), default="")
    # Sanitised HTML of an email body, for display only: kept in _source, never indexed or searched.
    body_html: str | None = indexed(UNSEARCHED, default=None)
    file_name: str | None = indexed(exact_text(), default=None, hit=True, export=True)
    content_type: str | None = indexed(KEYWORD, default=None, hit=True, export=True)
    size: int | None = indexed(LONG, default=None, export=True)
    attachment_names: list[str] = indexed(exact_text(), default_factory=list, export=True)
    # Families, threads and conversations.
    family_id: str = indexed(KEYWORD, hit=True, export=True, cross_item=True)
    parent_id: str | None = indexed(KEYWORD, default=None, hit=True, export=True, cross_item=True)
    depth: int = indexed(INTEGER, default=0, export=True)
    message_id: str | None = indexed(KEYWORD, default=None)
    in_reply_to: str | None = indexed(KEYWORD, default=None)
    references: list[str] = indexed(KEYWORD, default_factory=list)
    thread_id: str | None = indexed(KEYWORD, default=None, hit=True, export=True)
    conversation_id: str | None = indexed(KEYWORD, default=None, hit=True, export=True)
    conversation_name: str | None = indexed(exact_text(), default=None, hit=True, export=True)
    seq: int | None = indexed(LONG, default=None, hit=True)
    # Chat and system events: deleted, joined, left, subject_changed, security_code, encryption_notice,
    # disappearing_on, disappearing_off, media_omitted, call, ...
    event: str | None = indexed(KEYWORD, default=None, hit=True)
    # Exact duplicates share a dup_group (kept as separate items: custody matters); near-duplicates a
    # near_dup_group (the post-ingest pass, indexer.enrich.near_dups) from the MinHash signature (base64
    # of 64 uint32: never searched; doc values so that `exists` finds the items that have one).
    dup_group: str | None = indexed(KEYWORD, default=None, hit=True, export=True)
    content_sha256: str | None = indexed(KEYWORD, default=None, export=True)
    near_dup_group: str | None = indexed(KEYWORD, default=None, hit=True, cross_item=True)
    minhash: str | None = indexed({"type": "binary", "doc_values": True}, default=None)
    # Enrichment (indexer.enrich.stage): entities with offsets, their facet values, UK personal data.
    entities: list[Entity] = indexed(ENTITY, default_factory=list)
    entity_people: list[str] = indexed(ENTITY_VALUE, default_factory=list, filter="terms", facet=True,
                                       label="People named", help="people named in the text")
    entity_orgs: list[str] = indexed(ENTITY_VALUE, default_factory=list, filter="terms", facet=True,
                                     label="Organisations named", help="organisations named in the text")
    entity_places: list[str] = indexed(ENTITY_VALUE, default_factory=list, filter="terms", facet=True,
                                       label="Places named", help="places named in the text")
    pii_types: list[str] = indexed(KEYWORD, default_factory=list, filter="terms", facet=True, hit=True, label="Personal data",
                                   help="email, phone, ni_number, nhs_number, postcode, bank_account, date_of_birth")
    has_pii: bool | None = indexed(BOOLEAN, default=None, filter="flag", hit=True, export=True,
                                   help="only items with (true) or without (false) personal data")
    enrichment: dict[str, Any] | None = indexed(  # {"status": ok|capped|failed, "ner": bool}
        {"properties": {"status": KEYWORD, "ner": BOOLEAN}}, default=None)
    # Record-keeping gaps, private items only (post-ingest pass indexer.enrich.counterparts): the strongest
    # official counterpart found (exact, forwarded, near, quoted, note or none), every link, and how much
    # the item looks like government business (indexer.enrich.business) with the signals that fired.
    official_copy: str | None = indexed(KEYWORD, default=None, cross_item=True)
    official_copy_links: list[dict[str, Any]] = indexed(  # [{id, how, score, why}]
        {"properties": {"id": KEYWORD, "how": KEYWORD, "score": FLOAT, "why": UNSEARCHED}},
        default_factory=list, cross_item=True)
    business_score: float | None = indexed(FLOAT, default=None)
    business_signals: list[str] = indexed(KEYWORD, default_factory=list)  # e.g. "term:ventilator"
    # Where it came from, and how well it was read.
    source_path: str = indexed(KEYWORD, export=True)
    locator: str = indexed(KEYWORD, export=True)
    source_sha256: str = indexed(KEYWORD, export=True)
    extraction: Extraction = indexed(KEYWORD, default="ok", hit=True, export=True)
    problems: list[str] = indexed({"type": "text", "analyzer": "lantern_exact"}, default_factory=list, export=True)

    def to_doc(self) -> dict[str, Any]:
        """The OpenSearch document for this item (empty fields left out)."""
        doc: dict[str, Any] = {}
        for name, read, objects in _DOCUMENT:
            value = read(self)
            if value is None or value == []:
                continue
            if objects:
                value = [v.to_doc() for v in value] if isinstance(value, list) else value.to_doc()
            doc[name] = value
        return valid_doc(doc)


FIELDS: tuple[IndexedField, ...] = indexed_fields(Item, embedded={"custody": Custody})
"""Every field of the item document, in declaration order: the one table the mapping, the document, the
search filters and facets, the hit fields and the export columns are derived from."""

_DOCUMENT = tuple((f.name, attrgetter(f.attribute), f.spec.mapping in OBJECT_SHAPES) for f in FIELDS)


@dataclass(slots=True)
class Problem:
    """An exception-report entry: something in `source_path` at `locator` that was not fully read.

    `code` is a short stable category (see `indexer.errors`) so problems can be counted by kind.
    """

    source_path: str
    locator: str
    code: str
    reason: str
    item_id: str | None = None

    def to_doc(self) -> dict[str, Any]:
        doc = {"source_path": self.source_path, "locator": self.locator, "code": self.code, "reason": self.reason}
        if self.item_id:
            doc["item_id"] = self.item_id
        return valid_doc(doc)
