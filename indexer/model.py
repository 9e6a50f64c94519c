"""The item model: one OpenSearch document per email, message, attachment or loose document.

Field names are the public contract (documented in the README, mapped in
`services/index.py`). Sources yield `Item`s and `Problem`s; the pipeline enriches items and
writes them, and writes problems to the exception report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

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

    custodian: str
    record: Record
    account: str | None = None
    collection: str | None = None


@dataclass(slots=True)
class Item:
    """One searchable unit. `id`, `family_id` and `parent_id` are stable across re-ingests."""

    id: str
    kind: Kind
    channel: str
    source_path: str
    locator: str
    source_sha256: str
    custody: Custody
    family_id: str
    parent_id: str | None = None
    depth: int = 0
    subject: str | None = None
    body: str = ""
    body_html: str | None = None  # sanitised HTML body for display (never searched)
    sender: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    date: str | None = None
    date_original: str | None = None
    timezone: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_id: str | None = None
    conversation_id: str | None = None
    conversation_name: str | None = None
    seq: int | None = None
    participants: list[Address] = field(default_factory=list)
    event: str | None = None
    file_name: str | None = None
    content_type: str | None = None
    size: int | None = None
    attachment_names: list[str] = field(default_factory=list)
    content_sha256: str | None = None
    dup_group: str | None = None
    near_dup_group: str | None = None  # set by the post-ingest near-duplicate pass
    # Enrichment (indexer.enrich.stage): entities with offsets, their facet values, PII, people.
    entities: list[Entity] = field(default_factory=list)
    entity_people: list[str] = field(default_factory=list)
    entity_orgs: list[str] = field(default_factory=list)
    entity_places: list[str] = field(default_factory=list)
    pii_types: list[str] = field(default_factory=list)
    has_pii: bool | None = None
    people: list[str] = field(default_factory=list)  # person keys of every address on the item
    minhash: str | None = None  # near-duplicate signature (base64), see indexer.enrich.near_dups
    enrichment: dict[str, Any] | None = None  # {"status": ok|capped|failed, "ner": bool}
    # Record-keeping gaps, private items only (post-ingest pass indexer.enrich.counterparts):
    official_copy: str | None = None  # exact | forwarded | near | quoted | note | none
    official_copy_links: list[dict[str, Any]] = field(default_factory=list)  # [{id, how, score, why}]
    business_score: float | None = None  # indexer.enrich.business
    business_signals: list[str] = field(default_factory=list)  # the signals that fired, e.g. "term:ventilator"
    extraction: Extraction = "ok"
    problems: list[str] = field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        """The OpenSearch document for this item (empty fields left out)."""
        doc: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "source_path": self.source_path,
            "locator": self.locator,
            "source_sha256": self.source_sha256,
            "custodian": self.custody.custodian,
            "account": self.custody.account,
            "record": self.custody.record,
            "collection": self.custody.collection,
            "family_id": self.family_id,
            "parent_id": self.parent_id,
            "depth": self.depth,
            "subject": self.subject,
            "body": self.body,
            "body_html": self.body_html,
            "from": self.sender.to_doc() if self.sender else None,
            "to": [a.to_doc() for a in self.to],
            "cc": [a.to_doc() for a in self.cc],
            "bcc": [a.to_doc() for a in self.bcc],
            "date": self.date,
            "date_original": self.date_original,
            "timezone": self.timezone,
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": self.references,
            "thread_id": self.thread_id,
            "conversation_id": self.conversation_id,
            "conversation_name": self.conversation_name,
            "seq": self.seq,
            "participants": [a.to_doc() for a in self.participants],
            "event": self.event,
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": self.size,
            "attachment_names": self.attachment_names,
            "content_sha256": self.content_sha256,
            "dup_group": self.dup_group,
            "near_dup_group": self.near_dup_group,
            "entities": [e.to_doc() for e in self.entities],
            "entity_people": self.entity_people,
            "entity_orgs": self.entity_orgs,
            "entity_places": self.entity_places,
            "pii_types": self.pii_types,
            "has_pii": self.has_pii,
            "people": self.people,
            "minhash": self.minhash,
            "enrichment": self.enrichment,
            "official_copy": self.official_copy,
            "official_copy_links": self.official_copy_links,
            "business_score": self.business_score,
            "business_signals": self.business_signals,
            "extraction": self.extraction,
            "problems": self.problems,
        }
        return valid_doc({k: v for k, v in doc.items() if v is not None and v != []})


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
