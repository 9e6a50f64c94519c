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
"""

from __future__ import annotations

from indexer.model import Address, Custody, Item
from indexer.store import write_items
from services.index import ensure_items_index

ALPHA, BETA = "Auth Alpha", "Auth Beta"
ZED = "person:zed@beta.example"


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
)
ALL = {item.id for item in ITEMS}
ALPHA_IDS = {item.id for item in ITEMS if item.custody.custodian == ALPHA}
OFFICIAL_IDS = {item.id for item in ITEMS if item.custody.record == "official"}
C2_IDS = {item.id for item in ITEMS if item.custody.collection == "au-c2"}


def write_auth_corpus(client, settings) -> None:
    """Index the corpus (fixed ids, so idempotent) and make it searchable at once."""
    alias = ensure_items_index(client, settings)
    problems = list(write_items(client, alias, ITEMS))
    assert problems == [], problems
    client.indices.refresh(index=alias)
