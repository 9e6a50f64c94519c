"""The item's field table (indexer.model.FIELDS) and everything derived from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from typer.main import get_command

from indexer.fields import KEYWORD, indexed, indexed_fields
from indexer.model import FIELDS, Address, Custody, Entity, Item
from lantern.cli import app
from search_api.disclosure import CONFINED, CROSS_ITEM_FIELDS
from search_api.exports import CSV_COLUMNS
from search_api.search import FACETS, HIT_FIELDS, SearchRequest, build_body, filter_clauses
from services.index import MAPPING

FILTERS = [f.name for f in FIELDS if f.spec.filter]


def _full_item() -> Item:
    """An item with every attribute set to something non-empty."""
    return Item(
        id="i1", kind="email", channel="email", custody=Custody("Ann Example", "official", "ann@dept.gov.uk", "c1"),
        date="2024-03-01T09:00:00+00:00", date_original="Fri, 1 Mar 2024 09:00:00 +0000", timezone="Europe/London",
        sender=Address("Ann <ann@dept.gov.uk>", "Ann", "ann@dept.gov.uk", "person:ann"), to=[Address("bob@x.org")],
        cc=[Address("cat@x.org")], bcc=[Address("dan@x.org")], participants=[Address("eve@x.org")], people=["person:ann"],
        subject="Budget", body="The budget.", body_html="<p>The budget.</p>", file_name="b.pdf", content_type="application/pdf",
        size=10, attachment_names=["b.pdf"], family_id="f1", parent_id="p1", depth=1, message_id="<m1>", in_reply_to="<m0>",
        references=["<m0>"], thread_id="t1", conversation_id="c1", conversation_name="Budget chat", seq=3, event="deleted",
        dup_group="d1", content_sha256="0" * 64, near_dup_group="n1", minhash="AAAA",
        entities=[Entity("org", "Treasury", 0, 8)], entity_people=["Ann"], entity_orgs=["Treasury"], entity_places=["Leeds"],
        pii_types=["email"], has_pii=True, enrichment={"status": "ok", "ner": True}, official_copy="exact",
        official_copy_links=[{"id": "o1", "how": "exact", "score": 1.0, "why": "same text"}], business_score=0.9,
        business_signals=["term:budget"], source_path="/mail/a.eml", locator="", source_sha256="1" * 64,
        extraction="partial", problems=["one part unreadable"],
    )


def test_every_mapped_field_is_written_by_to_doc():
    doc = _full_item().to_doc()
    assert list(doc) == [f.name for f in FIELDS]
    assert set(doc) == set(MAPPING["properties"])


def test_to_doc_flattens_custody_names_the_sender_from_and_writes_objects():
    doc = _full_item().to_doc()
    assert (doc["custodian"], doc["record"], doc["account"], doc["collection"]) == ("Ann Example", "official", "ann@dept.gov.uk", "c1")
    assert doc["from"] == {"raw": "Ann <ann@dept.gov.uk>", "name": "Ann", "address": "ann@dept.gov.uk", "person": "person:ann"}
    assert doc["to"] == [{"raw": "bob@x.org"}] and doc["entities"] == [{"type": "org", "text": "Treasury", "start": 0, "end": 8, "field": "body"}]
    assert "sender" not in doc and "custody" not in doc


def test_to_doc_leaves_out_empty_fields_but_keeps_false_and_zero():
    item = Item(id="i2", kind="document", channel="file", custody=Custody("A", "private"), family_id="i2",
                source_path="/x", locator="", source_sha256="2" * 64, has_pii=False)
    doc = item.to_doc()
    assert doc["has_pii"] is False and doc["depth"] == 0 and doc["body"] == ""
    assert "to" not in doc and "subject" not in doc and "people" not in doc


def test_an_attribute_declared_without_a_spec_is_refused():
    @dataclass
    class Undeclared:
        name: str = indexed(KEYWORD, default="")
        stray: str = ""

    with pytest.raises(TypeError, match="Undeclared.stray"):
        indexed_fields(Undeclared)


def test_every_filter_is_a_search_parameter_and_a_cli_option():
    assert set(FILTERS) <= set(SearchRequest.model_fields)
    options = {option.name for option in get_command(app).commands["search"].params}
    assert set(FILTERS) <= options
    assert FILTERS  # the table declares some


def test_a_declared_filter_becomes_a_clause_and_a_declared_facet_an_aggregation():
    request = SearchRequest(kind=["email"], entity_orgs=["Treasury"], has_pii=False)
    assert {"terms": {"kind": ["email"]}} in filter_clauses(request)
    assert {"terms": {"entity_orgs": ["Treasury"]}} in filter_clauses(request)
    assert {"bool": {"must_not": [{"term": {"has_pii": True}}]}} in filter_clauses(request)
    aggregations = build_body(request)["aggs"]
    assert set(FACETS) <= set(aggregations) and aggregations["pii_types"] == {"terms": {"field": "pii_types", "size": 50}}


def test_a_filter_with_declared_values_refuses_others():
    with pytest.raises(ValueError, match="record must be 'official' or 'private', not 'secret'"):
        SearchRequest(record=["secret"])


def test_hits_and_export_columns_come_from_the_table_in_its_order():
    assert HIT_FIELDS == [f.name for f in FIELDS if f.spec.hit]
    assert CSV_COLUMNS == tuple(f.name for f in FIELDS if f.spec.export)
    assert "body" not in CSV_COLUMNS and "minhash" not in HIT_FIELDS


def test_every_cross_item_field_has_a_confinement_rule():
    assert set(CROSS_ITEM_FIELDS) == set(CONFINED)


def test_item_attributes_and_document_fields_correspond_one_to_one():
    attributes = [a.name for a in dataclasses.fields(Item) if a.name != "custody"]
    assert len(attributes) + len(dataclasses.fields(Custody)) == len(FIELDS)
