"""The people registry: one `person` key for one human across email, phone and chat identities.

Two sources of keys:

- automatic: an exact email address or E.164 phone number is a person
  (`person:alice.hart@dhsc.gov.uk`, `person:+447700900123`), so the same address merges across
  mailboxes and the same number across WhatsApp, Signal and SMS;
- the alias file, a CSV of `person,identity` rows that an investigator edits and loads with
  `lantern people import FILE`: each identity (an email address, a phone number in any common
  format, a chat handle or a display name, matched case-insensitively) belongs to the named
  person, whose key is `person:` plus the name in lower case with hyphens (`person:matt-hancock`).

An alias beats an automatic key, and an address beats a display name. The registry is stored
in its own index (`<prefix>people`), read once per ingest run, and applied to items already in
the index without re-ingesting them (`apply_registry`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError

from indexer.model import Item
from indexer.identities import normalise_phone

ADDRESS_FIELDS = ("from", "to", "cc", "bcc", "participants")
PEOPLE_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "key": {"type": "keyword"},
        "label": {"type": "keyword"},
        "identities": {"type": "keyword"},  # "email:…", "phone:+44…", "name:…" (see `identity`)
        "raw_identities": {"type": "keyword"},  # as written in the alias file
    },
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]{6,}$")
_E164 = re.compile(r"^\+\d{6,15}$")


class AliasFileError(ValueError):
    """The alias file cannot be read as `person,identity` rows; the message names the line."""


def person_key(label: str) -> str:
    """The key of a named person: `person:` plus the name lower-cased, runs of other characters as hyphens."""
    slug = re.sub(r"[^\w@.+]+", "-", label.strip().lower()).strip("-")
    return f"person:{slug}"


def identity(value: str, region: str = "GB") -> str | None:
    """A typed, normalised identity: `email:<lower>`, `phone:<E.164>` or `name:<casefolded>` (handles too)."""
    value = " ".join(value.split())
    if not value:
        return None
    if _EMAIL.match(value):
        return f"email:{value.lower()}"
    if _PHONE_LIKE.match(value):
        phone = normalise_phone(value, region)
        if phone:
            return f"phone:{phone}"
    return f"name:{value.casefold()}"


def _address_identity(address: str) -> tuple[str, str | None]:
    """(identity, automatic key or None) of an Address.address value: email, E.164 phone or handle."""
    if "@" in address and _EMAIL.match(address):
        return f"email:{address.lower()}", f"person:{address.lower()}"
    if _E164.match(address):
        return f"phone:{address}", f"person:{address}"
    return f"name:{' '.join(address.split()).casefold()}", None


@dataclass
class PeopleRegistry:
    """Identity → person key for the aliases, plus each key's label and identities as written."""

    by_identity: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    written: dict[str, list[str]] = field(default_factory=dict)

    def resolve(self, name: str | None, address: str | None, raw: str | None = None) -> str | None:
        """The person key of one address (alias by address, alias by name, automatic by address), or None."""
        automatic = None
        if address:
            found, automatic = _address_identity(address)
            if found in self.by_identity:
                return self.by_identity[found]
        display = name or (raw if not address else None)
        if display:
            key = self.by_identity.get(f"name:{' '.join(display.split()).casefold()}")
            if key:
                return key
        return automatic

    def assign(self, item: Item) -> None:
        """Set `person` on every address of `item` and `item.people` to their keys."""
        addresses = [a for a in [item.sender, *item.to, *item.cc, *item.bcc, *item.participants] if a is not None]
        for address in addresses:
            address.person = self.resolve(address.name, address.address, address.raw)
        item.people = sorted({a.person for a in addresses if a.person})

    def assign_doc(self, source: dict[str, Any]) -> dict[str, Any]:
        """The partial update that gives an indexed item's addresses their current person keys."""
        update: dict[str, Any] = {}
        keys: set[str] = set()
        for name in ADDRESS_FIELDS:
            value = source.get(name)
            if not value:
                continue
            entries = [value] if isinstance(value, dict) else list(value)
            resolved = []
            for entry in entries:
                entry = dict(entry)
                person = self.resolve(entry.get("name"), entry.get("address"), entry.get("raw"))
                entry["person"] = person  # None clears a stale key (partial updates merge objects)
                if person:
                    keys.add(person)
                resolved.append(entry)
            update[name] = resolved[0] if isinstance(value, dict) else resolved
        update["people"] = sorted(keys)
        return update


def read_alias_file(path: Path, region: str = "GB") -> PeopleRegistry:
    """Parse a `person,identity` CSV (header optional, `#` comment lines and blank lines skipped)."""
    registry = PeopleRegistry()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AliasFileError(f"{path}: cannot be read ({exc})") from exc
    for line_number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if line_number == 1 and [c.lower() for c in cells[:2]] == ["person", "identity"]:
            continue
        if len(cells) != 2 or not all(cells):
            raise AliasFileError(f"{path}, line {line_number}: expected two values, person and identity, got {row!r}")
        label, written = cells
        key = person_key(label)
        typed = identity(written, region)
        if typed is None:
            raise AliasFileError(f"{path}, line {line_number}: empty identity")
        owner = registry.by_identity.get(typed)
        if owner is not None and owner != key:
            raise AliasFileError(f"{path}, line {line_number}: {written!r} is already an identity of {registry.labels[owner]!r}")
        registry.by_identity[typed] = key
        registry.labels.setdefault(key, label)
        registry.written.setdefault(key, [])
        if written not in registry.written[key]:
            registry.written[key].append(written)
    return registry


def load_registry(client: OpenSearch, people_index: str) -> PeopleRegistry:
    """The registry as last imported (empty when nothing has been)."""
    registry = PeopleRegistry()
    if not client.indices.exists(index=people_index):
        return registry
    try:
        hits = list(helpers.scan(client, index=people_index, query={"query": {"match_all": {}}}, size=1000))
    except NotFoundError:  # dropped between the check and the scan
        return registry
    for hit in hits:
        source = hit["_source"]
        registry.labels[source["key"]] = source.get("label") or source["key"]
        registry.written[source["key"]] = source.get("raw_identities") or []
        for typed in source.get("identities") or []:
            registry.by_identity[typed] = source["key"]
    return registry


def save_registry(client: OpenSearch, people_index: str, registry: PeopleRegistry) -> set[str]:
    """Replace the stored registry with `registry`; return the keys the previous one had."""
    if not client.indices.exists(index=people_index):
        client.indices.create(index=people_index, body={
            "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}}, "mappings": PEOPLE_MAPPING,
        })
    previous = set(load_registry(client, people_index).labels)
    identities: dict[str, list[str]] = {}
    for typed, key in registry.by_identity.items():
        identities.setdefault(key, []).append(typed)
    actions: list[dict[str, Any]] = [
        {"_op_type": "index", "_index": people_index, "_id": key, "_source": {
            "key": key, "label": registry.labels[key], "identities": sorted(identities.get(key, [])),
            "raw_identities": registry.written.get(key, []),
        }}
        for key in registry.labels
    ]
    actions += [{"_op_type": "delete", "_index": people_index, "_id": key} for key in previous - set(registry.labels)]
    helpers.bulk(client, actions, refresh="wait_for", raise_on_error=True)
    return previous


def _matching_query(keys: Iterable[str], chunk: list[str]) -> dict[str, Any]:
    """Items that may hold one of `chunk`'s identities, or already carry one of `keys`."""
    should: list[dict[str, Any]] = [{"terms": {"people": sorted(keys)}}]
    values = [typed.partition(":")[2] for typed in chunk]
    should += [{"terms": {f"{name}.address": values}} for name in ADDRESS_FIELDS]
    names = [typed.partition(":")[2] for typed in chunk if typed.startswith("name:")]
    should += [
        {"match_phrase": {f"{name}.{part}": value}}
        for value in names for name in ADDRESS_FIELDS for part in ("name", "raw")
    ]
    return {"query": {"bool": {"should": should, "minimum_should_match": 1}}, "_source": list(ADDRESS_FIELDS) + ["people"]}


def _candidates(client: OpenSearch, index: str, registry: PeopleRegistry, keys: set[str]) -> Iterator[dict[str, Any]]:
    identities = sorted(registry.by_identity)
    chunks = [identities[i:i + 80] for i in range(0, len(identities), 80)] or [[]]
    seen: set[str] = set()
    for chunk in chunks:
        for hit in helpers.scan(client, index=index, query=_matching_query(keys, chunk), size=1000):
            if hit["_id"] not in seen:
                seen.add(hit["_id"])
                yield hit


def apply_registry(client: OpenSearch, index: str, registry: PeopleRegistry, previous_keys: Iterable[str] = ()) -> int:
    """Re-resolve the person keys of every indexed item an alias (new or removed) may touch; return items changed."""
    keys = set(previous_keys) | set(registry.labels)

    def changes() -> Iterator[dict[str, Any]]:
        for hit in _candidates(client, index, registry, keys):
            source = hit["_source"]
            update = registry.assign_doc(source)
            if _changed(source, update):
                yield {"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": update}

    written, _ = helpers.bulk(client, changes(), chunk_size=500, raise_on_error=True)
    if written:
        client.indices.refresh(index=index)
    return written


def _changed(source: dict[str, Any], update: dict[str, Any]) -> bool:
    if sorted(source.get("people") or []) != update["people"]:
        return True
    for name in ADDRESS_FIELDS:
        if name not in update:
            continue
        before = source[name] if isinstance(source[name], list) else [source[name]]
        after = update[name] if isinstance(update[name], list) else [update[name]]
        if [b.get("person") for b in before] != [a.get("person") for a in after]:
            return True
    return False


def import_alias_file(client: OpenSearch, people_index: str, items_index: str, path: Path, region: str = "GB") -> tuple[PeopleRegistry, int]:
    """`lantern people import`: replace the registry with the file's aliases and apply them to indexed items.

    Returns the registry and how many items changed.
    """
    registry = read_alias_file(path, region)
    previous = save_registry(client, people_index, registry)
    return registry, apply_registry(client, items_index, registry, previous)
