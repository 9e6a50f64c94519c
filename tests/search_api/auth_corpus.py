"""A small corpus for the access-control tests: two custodians of their own, with copies of one
message held by both, one thread and one chat conversation spanning both, and a person seen
only on Beta's items. Every item says "zephyrine", so one search finds the whole corpus.

| id      | custodian / record / collection | what                                                   |
| au-a1   | Auth Alpha, official, au-c1     | email, dup_group au-dup, thread au-thread, attachment au-a1x |
| au-a1x  | Auth Alpha, official, au-c1     | attachment of au-a1                                     |
| au-a2   | Auth Alpha, private, au-c1      | email, with official-copy links to au-b1 and au-a1      |
| au-m1   | Auth Alpha, private, au-c1      | chat message 1 of conversation au-conv                  |
| au-m2   | Auth Beta, private, au-c2       | chat message 2 of conversation au-conv                  |
| au-b1   | Auth Beta, official, au-c2      | email, a copy of au-a1 (dup_group au-dup), thread au-thread, person:zed@beta.example |
| au-a3   | Auth Alpha, private, au-c1      | email from person:yan whose every cross-item field points at Beta: an `exact` official copy au-b2, near_dup_group shared only with au-b2 |
| au-a3x  | Auth Alpha, private, au-c1      | attachment whose parent and family are Beta's au-b2       |
| au-b2   | Auth Beta, official, au-c2      | email "Quillwort minutes" to Yan's private phone           |
| au-a4   | Auth Alpha, private, au-c1      | chat message of conversation au-conv-4: business with no official copy (for the transfer package) |

The people registry holds person:yan with a private phone and address seen only on Beta's items.
Everything of Beta's that must never reach a caller confined to Alpha is in BETA_CANARIES.
"""

from __future__ import annotations

from indexer.enrich.people import PEOPLE_MAPPING
from indexer.model import Address, Custody, Item
from indexer.store import write_items
from services.index import ensure_items_index

ALPHA, BETA = "Auth Alpha", "Auth Beta"
ZED = "person:zed@beta.example"
YAN = "person:yan"
YAN_ALIASES = ["yan@alpha.example", "+44 7700 900123", "yan.private@gmail.example"]
NEAR_GROUP = "near:au-shared"
BETA_CANARIES = ("au-b1", "au-b2", "au-m2", BETA, "Quillwort", "zed@beta.example", "7700 900123", "+447700900123",
                 "yan.private", "au-c2")


def _item(item_id: str, custodian: str, record: str, collection: str, **fields) -> Item:
    fields.setdefault("kind", "email")
    fields.setdefault("channel", "email")
    fields.setdefault("family_id", item_id)
    fields.setdefault("body", f"zephyrine note {item_id}")
    return Item(id=item_id, source_path=f"/nonexistent/{item_id}.eml", locator="", source_sha256="0" * 64,
                custody=Custody(custodian, record, collection=collection), date="2021-02-01T10:00:00Z", **fields)


ITEMS = (
    _item("au-a1", ALPHA, "official", "au-c1", subject="Zephyrine budget", dup_group="au-dup", thread_id="au-thread",
          attachment_names=["plan.pdf"]),
    _item("au-a1x", ALPHA, "official", "au-c1", kind="attachment", family_id="au-a1", parent_id="au-a1", depth=1,
          file_name="plan.pdf", content_type="application/pdf"),
    _item("au-a2", ALPHA, "private", "au-c1", subject="Zephyrine on the side", thread_id="au-thread-2",
          official_copy="forwarded", official_copy_links=[{"id": "au-b1", "how": "forwarded", "score": 0.9, "why": "forwarded to Beta"},
                                                          {"id": "au-a1", "how": "quoted", "score": 0.5, "why": "quoted"}]),
    _item("au-m1", ALPHA, "private", "au-c1", kind="message", channel="whatsapp", conversation_id="au-conv",
          conversation_name="Zephyrine group", seq=1),
    _item("au-m2", BETA, "private", "au-c2", kind="message", channel="whatsapp", conversation_id="au-conv",
          conversation_name="Zephyrine group", seq=2),
    _item("au-b1", BETA, "official", "au-c2", subject="Zephyrine budget", dup_group="au-dup", thread_id="au-thread",
          sender=Address("Zed <zed@beta.example>", "Zed", "zed@beta.example", ZED), people=[ZED]),
    _item("au-a3", ALPHA, "private", "au-c1", subject="Zephyrine private note", thread_id="au-thread-3",
          sender=Address("Yan <yan@alpha.example>", "Yan", "yan@alpha.example", YAN), people=[YAN],
          official_copy="exact", near_dup_group=NEAR_GROUP, business_score=3.0, business_signals=["term:zephyrine"],
          official_copy_links=[{"id": "au-b2", "how": "exact", "score": 1.0,
                                "why": f"the same message is held as official email 'Quillwort minutes' (2021-02-01, {BETA})"}]),
    _item("au-a3x", ALPHA, "private", "au-c1", kind="attachment", family_id="au-b2", parent_id="au-b2", depth=1,
          file_name="annex.pdf", content_type="application/pdf"),
    _item("au-b2", BETA, "official", "au-c2", subject="Quillwort minutes", thread_id="au-thread-4", near_dup_group=NEAR_GROUP,
          to=[Address("+447700900123", None, "+447700900123", YAN)], people=[YAN]),
    _item("au-a4", ALPHA, "private", "au-c1", kind="message", channel="whatsapp", conversation_id="au-conv-4",
          conversation_name="Zephyrine desk", seq=1, official_copy="none", business_score=3.0,
          business_signals=["term:zephyrine"]),
)
ALL = {item.id for item in ITEMS}
ALPHA_IDS = {item.id for item in ITEMS if item.custody.custodian == ALPHA}
OFFICIAL_IDS = {item.id for item in ITEMS if item.custody.record == "official"}
C2_IDS = {item.id for item in ITEMS if item.custody.collection == "au-c2"}


def write_auth_corpus(client, settings) -> None:
    """Index the corpus (fixed ids, so idempotent) and Yan's registry entry, searchable at once."""
    alias = ensure_items_index(client, settings)
    problems = list(write_items(client, alias, ITEMS))
    assert problems == [], problems
    client.indices.refresh(index=alias)
    if not client.indices.exists(index=settings.people_index):
        client.indices.create(index=settings.people_index, body={"mappings": PEOPLE_MAPPING})
    client.index(index=settings.people_index, id=YAN, refresh="wait_for", body={
        "key": YAN, "label": "Yan Example", "identities": ["email:yan@alpha.example", "phone:+447700900123",
                                                          "email:yan.private@gmail.example"],
        "raw_identities": YAN_ALIASES})
