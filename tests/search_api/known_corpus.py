"""A small corpus where every answer is known: seven items written straight into the index.

Two custodians of their own ("QL Corpus", "QL Second"), so every search filtered to them sees
only these items. What each item says (the expectations in the tests are worked out from this):

| id      | custodian / record    | kind, date (UTC)           | from / to                          | subject / body                                                    |
| ql-e1   | QL Corpus, official   | email 2020-03-15 10:00     | Matt Hancock → Alice Able, cc Bob  | "Vaccine contract update" / "The vaccine supply contract was signed yesterday." attachment Heads-of-terms.pdf |
| ql-e1a  | QL Corpus, official   | attachment of ql-e1        |                                    | file Heads-of-terms.pdf / "Draft heads of terms for the vaccine programme." |
| ql-e2   | QL Corpus, private    | email 2020-06-30 23:30     | Matthew Gould → Matt Hancock       | "WhatsApp message" / "Hancock said the contract for vaccines is delayed by a week." |
| ql-m1   | QL Corpus, private    | whatsapp message 2020-05-01| Matt Hancock (participants + Gould) | "text me about the contract later" (conversation "PPE group") |
| ql-e3   | QL Second, official   | email 2021-01-10 09:00     | Kate Bingham → matt.hancock@…      | "Café meeting" / "Réunion au café: contract negotiations about the vaccine continue." |
| ql-e4   | QL Second, official   | email 2020-07-01 08:00     | Grace Lin                          | "Supply terms" / "We agreed the contract for the supply of the vaccine in July." |
| ql-e5   | QL Corpus, private    | email 2020-08-01 12:00     | Tom Reilly                         | "Phone number" / "Call 07700 900123 about VaxBio." PII; entities Matt Hancock, VaxBio AB |
"""

from __future__ import annotations

from indexer.model import Address, Custody, Item
from indexer.store import write_items
from services.index import ensure_items_index

FIRST, SECOND = "QL Corpus", "QL Second"
CUSTODIANS = (FIRST, SECOND)
HANCOCK = Address("Matt Hancock <matt.hancock@dhsc.gov.uk>", "Matt Hancock", "matt.hancock@dhsc.gov.uk", "matt-hancock")
GOULD = Address("Matthew Gould <matthew.gould@nhsx.example>", "Matthew Gould", "matthew.gould@nhsx.example", "matthew-gould")


def _item(item_id: str, custodian: str, record: str, **fields) -> Item:
    fields.setdefault("kind", "email")
    fields.setdefault("channel", "email")
    fields.setdefault("family_id", item_id)
    if fields["kind"] == "email":
        fields.setdefault("thread_id", f"thread-{item_id}")  # as the indexer gives every email
    return Item(id=item_id, source_path=f"/nonexistent/{item_id}.mbox", locator="message[1]", source_sha256="0" * 64,
                custody=Custody(custodian, record, collection="ql"), **fields)


ITEMS = (
    _item("ql-e1", FIRST, "official", sender=HANCOCK, to=[Address("Alice Able <alice@ex.org>", "Alice Able", "alice@ex.org")],
          cc=[Address("Bob Cc <bob@cc.example>", "Bob Cc", "bob@cc.example")], subject="Vaccine contract update",
          body="The vaccine supply contract was signed yesterday.", date="2020-03-15T10:00:00Z",
          attachment_names=["Heads-of-terms.pdf"], people=["matt-hancock"]),
    _item("ql-e1a", FIRST, "official", kind="attachment", family_id="ql-e1", parent_id="ql-e1", depth=1,
          file_name="Heads-of-terms.pdf", content_type="application/pdf",
          body="Draft heads of terms for the vaccine programme.", date="2020-03-15T10:00:00Z"),
    _item("ql-e2", FIRST, "private", sender=GOULD, to=[HANCOCK], subject="WhatsApp message",
          body="Hancock said the contract for vaccines is delayed by a week.", date="2020-06-30T23:30:00Z",
          people=["matthew-gould", "matt-hancock"]),
    _item("ql-m1", FIRST, "private", kind="message", channel="whatsapp", sender=Address("Matt Hancock", "Matt Hancock", None, "matt-hancock"),
          participants=[Address("Matt Hancock", "Matt Hancock", None, "matt-hancock"), GOULD], conversation_id="ql-conv",
          conversation_name="PPE group", seq=1, body="text me about the contract later", date="2020-05-01T12:00:00Z"),
    _item("ql-e3", SECOND, "official", sender=Address("Kate Bingham <kate@vtf.example>", "Kate Bingham", "kate@vtf.example"),
          to=[Address("matt.hancock@dhsc.gov.uk", None, "matt.hancock@dhsc.gov.uk")], subject="Café meeting",
          body="Réunion au café: contract negotiations about the vaccine continue.", date="2021-01-10T09:00:00Z"),
    _item("ql-e4", SECOND, "official", sender=Address("Grace Lin <grace@ex.gov.uk>", "Grace Lin", "grace@ex.gov.uk"),
          subject="Supply terms", body="We agreed the contract for the supply of the vaccine in July.", date="2020-07-01T08:00:00Z"),
    _item("ql-e5", FIRST, "private", sender=Address("Tom Reilly <tom@ex.net>", "Tom Reilly", "tom@ex.net"), subject="Phone number",
          body="Call 07700 900123 about VaxBio.", date="2020-08-01T12:00:00Z", has_pii=True, pii_types=["phone"],
          entity_people=["Matt Hancock"], entity_orgs=["VaxBio AB"]),
)
ALL = {item.id for item in ITEMS}


def write_corpus(client, settings) -> None:
    """Index the corpus (idempotent: fixed ids) and make it searchable at once."""
    alias = ensure_items_index(client, settings)
    problems = list(write_items(client, alias, ITEMS))
    assert problems == [], problems
    client.indices.refresh(index=alias)
