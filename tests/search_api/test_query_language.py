"""The query language: the parser's tree, malformed queries, and every operator and field against
the real OpenSearch over a corpus whose answers are known (tests/search_api/known_corpus.py)."""

from __future__ import annotations

from datetime import date

import pytest
from known_corpus import ALL, CUSTODIANS

from search_api.query import QuerySyntaxError, parse
from search_api.query_fields import to_dsl
from search_api.query_tree import And, DateRange, Everything, Field, Fuzzy, Has, Near, Not, Or, Phrase, Wildcard, Word


@pytest.fixture(scope="module")
def found(app_client, corpus):
    """found(q) -> the ids of the corpus items `q` matches (the search filtered to the corpus custodians)."""
    def search(q: str) -> set[str]:
        response = app_client.get("/api/v1/search", params=[("q", q), ("size", "100"), *(("custodian", c) for c in CUSTODIANS)])
        assert response.status_code == 200, response.json()
        return {hit["id"] for hit in response.json()["hits"]}
    return search


def ids(*short: str) -> set[str]:
    return {f"ql-{name}" for name in short}


VACCINE = ids("e1", "e1a", "e2", "e3", "e4")
CONTRACT = ids("e1", "e2", "e3", "m1", "e4")


# ---------- the tree ----------

def test_words_next_to_each_other_are_anded():
    assert parse("vaccine contract") == And((Word("vaccine", 0), Word("contract", 8)))


def test_and_binds_tighter_than_or():
    assert parse("a OR b c") == Or((Word("a", 0), And((Word("b", 5), Word("c", 7)))))


def test_parentheses_group():
    assert parse("(a OR b) c") == And((Or((Word("a", 1), Word("b", 6))), Word("c", 9)))


def test_not_minus_and_plus():
    assert parse("NOT a") == Not(Word("a", 4))
    assert parse("-a b") == And((Not(Word("a", 1)), Word("b", 3)))
    assert parse("+a b") == And((Word("a", 1), Word("b", 3)))


def test_proximity_operators_keep_distance_and_order():
    assert parse("vaccine w/5 contract") == Near(Word("vaccine", 0), Word("contract", 12), 5, False, 8)
    assert parse("a PRE/3 b") == Near(Word("a", 0), Word("b", 8), 3, True, 2)


def test_phrase_with_slop_wildcard_and_fuzzy_terms():
    assert parse('"a b"~2') == Phrase("a b", 2, 0)
    assert parse("Vaccin*") == Wildcard("vaccin*", 0)
    assert parse("ÉCOLE?") == Wildcard("ecole?", 0)
    assert parse("contract~") == Fuzzy("contract", None, 0)
    assert parse("contract~1") == Fuzzy("contract", 1, 0)
    assert parse("*") == Everything(0)


def test_fields_has_and_dates():
    assert parse("from:matt*") == Field("from", Wildcard("matt*", 5), 0)
    assert parse("has:attachment") == Has("attachment", 0)
    assert parse("date:2020-03..2020-06") == DateRange(date(2020, 3, 1), date(2020, 7, 1), 0)
    assert parse("date>2021") == DateRange(date(2022, 1, 1), None, 0)
    assert parse("date>=2020-03") == DateRange(date(2020, 3, 1), None, 0)
    assert parse("date<2020-06-01") == DateRange(None, date(2020, 6, 1), 0)
    assert parse("date<=2020-02") == DateRange(None, date(2020, 3, 1), 0)
    assert parse("date:2020-02-29") == DateRange(date(2020, 2, 29), date(2020, 3, 1), 0)


def test_operator_words_in_lower_case_are_searchable_words():
    assert parse("to be or not") == And((Word("to", 0), Word("be", 3), Word("or", 6), Word("not", 9)))


def test_punctuation_alone_is_not_a_search_term():
    assert parse("a & b") == And((Word("a", 0), Word("b", 4)))
    assert parse("") is None and to_dsl(None) == {"match_all": {}}


def test_proximity_becomes_an_intervals_query_on_the_exact_fields():
    dsl = to_dsl(parse("subject:(vaccine pre/2 contract)"))
    rule = dsl["intervals"]["subject.exact"]["all_of"]
    assert rule["max_gaps"] == 2 and rule["mode"] == "ordered"


@pytest.mark.parametrize("query, position, fragment", [
    ('"unclosed phrase', 0, "quote"),
    ('vaccine "unclosed', 8, "quote"),
    ("(vaccine OR contract", 0, "never closed"),
    ("a (b (c)", 2, "never closed"),
    ("vaccine)", 7, "no matching"),
    ("vaccine ()", 9, "empty parentheses"),
    ("vaccine AND", 8, "ends with an operator"),
    ("OR vaccine", 0, "OR needs"),
    ("vaccine AND OR contract", 12, "OR needs"),
    ("vaccine w/5", 8, "ends with an operator"),
    ("w/5 contract", 0, "proximity"),
    ("-", 0, "ends with an operator"),
    ("colour:red", 0, "unknown field"),
    ("date:2020-13", 5, "not a date"),
    ("date:March", 5, "date"),
    ("date:2021..2020", 5, "ends before"),
    ("contract~5", 8, "fuzziness"),
    ("has:everything", 0, "has:"),
    ("from: matt", 0, "no value"),
    ("vaccine w/3 (contract AND signed)", 13, "w/N"),
    ("from:(matt w/2 hancock)", 11, "text only"),
    ("subject:from:x", 8, "inside another field"),
    ("(a OR " * 50 + "b" + ")" * 50, None, "nested too deeply"),
])
def test_malformed_queries_are_a_400_with_position_and_hint(app_client, query, position, fragment):
    with pytest.raises(QuerySyntaxError):
        parse(query)
    response = app_client.get("/api/v1/search", params={"q": query})
    assert response.status_code == 400
    body = response.json()
    assert fragment in body["detail"]
    assert body["hint"]
    if position is not None:
        assert body["position"] == position


# ---------- operators against the index ----------

def test_plain_term(found):
    assert found("signed") == ids("e1")


def test_terms_are_stemmed_and_case_insensitive(found):
    assert found("vaccines") == VACCINE
    assert found("VACCINE") == VACCINE


def test_accents_do_not_matter(found):
    assert found("cafe") == ids("e3")
    assert found("RÉUNION") == ids("e3")


def test_phrase(found):
    assert found('"supply contract"') == ids("e1")


def test_and_explicit_and_implicit(found):
    assert found("contract AND vaccine") == CONTRACT & VACCINE
    assert found("contract vaccine") == CONTRACT & VACCINE


def test_or(found):
    assert found("whatsapp OR signed") == ids("e1", "e2")


def test_not_and_minus(found):
    assert found("contract NOT vaccine") == ids("m1")
    assert found("contract -vaccine") == ids("m1")
    assert found("NOT vaccine") == ALL - VACCINE == ids("m1", "e5")


def test_plus_marks_a_required_term(found):
    assert found("+signed vaccine") == ids("e1")


def test_parentheses_change_the_grouping(found):
    assert found("vaccine OR text delayed") == VACCINE
    assert found("(vaccine OR text) delayed") == ids("e2")
    assert found("Hancock AND (WhatsApp OR text)") == ids("e2", "m1")


def test_within_n_words_in_either_order(found):
    assert found("vaccine w/1 contract") == ids("e1")
    assert found("vaccine w/3 contract") == ids("e1", "e3")
    assert found("contract w/4 vaccine") == ids("e1", "e3")
    assert found("vaccine w/5 contract") == ids("e1", "e3", "e4")


def test_pre_n_keeps_the_order(found):
    assert found("contract pre/3 vaccine") == ids("e3")
    assert found("vaccine pre/3 contract") == ids("e1")


def test_phrase_slop(found):
    assert found('"vaccine contract"~1') == ids("e1")
    assert found('"vaccine contract"~3') == ids("e1", "e3")


def test_proximity_with_phrase_group_and_wildcard_operands(found):
    assert found('"supply contract" w/2 signed') == ids("e1")
    assert found("(vaccines OR vaccine) w/2 contract") == ids("e1", "e2")
    assert found("vacc* w/1 contract") == ids("e1", "e2")


def test_proximity_results_are_highlighted(app_client, corpus):
    hit = app_client.get("/api/v1/search", params={"q": "vaccine w/1 contract", "custodian": CUSTODIANS[0]}).json()["hits"][0]
    assert "<mark>vaccine</mark>" in hit["highlights"]["body"][0].lower()


def test_wildcards_are_case_and_accent_insensitive(found):
    assert found("vacc*") == VACCINE
    assert found("VACC*") == VACCINE
    assert found("contr?ct") == CONTRACT
    assert found("CAFÉ*") == ids("e3")


def test_fuzzy(found):
    assert found("contrakt") == set()
    assert found("contrakt~1") == CONTRACT
    assert found("vacine~") == VACCINE


# ---------- fields ----------

def test_from_matches_name_raw_and_address(found):
    assert found("from:matt*") == ids("e1", "e2", "m1")
    assert found("from:hancock") == ids("e1", "m1")
    assert found("from:matt.hancock@dhsc.gov.uk") == ids("e1")
    assert found("from:matt* date:2020-03..2020-05") == ids("e1", "m1")


def test_to_covers_cc_and_bcc_and_cc_is_exact(found):
    assert found("to:alice") == ids("e1")
    assert found("to:bob") == ids("e1")
    assert found("cc:bob") == ids("e1")
    assert found("cc:alice") == set()
    assert found('to:"matt.hancock@dhsc.gov.uk"') == ids("e2", "e3")


def test_participant_is_anyone_on_the_item(found):
    assert found("participant:gould") == ids("e2", "m1")


def test_person_key(found):
    assert found("person:matt-hancock") == ids("e1", "e2", "m1")
    assert found("person:MATT-HANCOCK") == ids("e1", "e2", "m1")


def test_custodian_by_word_whole_name_or_pattern(found):
    assert found("custodian:second") == ids("e3", "e4")
    assert found('custodian:"ql second"') == ids("e3", "e4")
    assert found("custodian:ql*") == ALL


def test_channel_record_and_kind(found):
    assert found("channel:whatsapp") == ids("m1")
    assert found("record:private") == ids("e2", "m1", "e5")
    assert found("kind:attachment") == ids("e1a")
    assert found("kind:(message OR attachment)") == ids("m1", "e1a")


def test_subject_and_body(found):
    assert found("subject:vaccine") == ids("e1")
    assert found("subject:whatsapp") == ids("e2")
    assert found("body:whatsapp") == set()
    assert found("body:cafe") == ids("e3")


def test_attachment_names(found):
    assert found("attachment:heads*") == ids("e1", "e1a")
    assert found('attachment:"Heads-of-terms.pdf"') == ids("e1", "e1a")


def test_a_wildcard_on_a_hyphenated_name_matches(found):
    # File names hold hyphens, dots and digits the word tokenizer splits on ("SI-61597.pdf" is si, 61597, pdf).
    both = ids("e1", "e1a")
    assert found("attachment:heads-of*") == both
    assert found("attachment:HEADS-OF-TERMS.P*") == both
    assert found("attachment:*-terms.pdf") == both  # the whole name, for a pattern that starts with *
    assert found("attachment:heads-of-x*") == set()
    assert found("heads-of-te*") == both  # unfielded: the name, and e1a's "heads of terms" in its body
    assert found("body:07700-9001*") == ids("e5")  # words in a row, as "covid-19" is searched as a phrase


def test_entity(found):
    assert found("entity:hancock") == ids("e5")
    assert found('entity:"VaxBio AB"') == ids("e5")
    assert found("entity:vax*") == ids("e5")


def test_has_attachment_and_pii(found):
    assert found("has:attachment") == ids("e1")
    assert found("has:pii") == ids("e5")


def test_dates_are_whole_periods_in_utc(found):
    assert found("date:2020-03") == ids("e1", "e1a")
    assert found("date:2020-03-01..2020-06-30") == ids("e1", "e1a", "m1", "e2")
    assert found("date>2020") == ids("e3")
    assert found("date>=2020-07") == ids("e4", "e5", "e3")
    assert found("date<2020-06-01") == ids("e1", "e1a", "m1")
    assert found("date<=2020-06") == ids("e1", "e1a", "m1", "e2")
    assert found("date:2020") == ALL - ids("e3")


def test_star_is_everything(found):
    assert found("*") == ALL


# ---------- on the sample archive ----------

def test_custodian_word_matches_the_facet_count(app_client, sample):
    everything = app_client.get("/api/v1/search", params={"size": 0}).json()
    alice = {f["value"]: f["count"] for f in everything["facets"]["custodian"]}["Alice Hart"]
    assert app_client.get("/api/v1/search", params={"q": "custodian:alice", "size": 0}).json()["total"] == alice


def test_sample_field_and_date_search(app_client, sample):
    body = app_client.get("/api/v1/search", params={"q": "from:priya* date:2020-05", "size": 100}).json()
    assert body["total"] > 0
    for hit in body["hits"]:
        assert "priya" in hit["from"]["raw"].lower()
        assert hit["date"].startswith("2020-05")
    assert app_client.get("/api/v1/search", params={"q": "zanzibarquill kind:attachment"}).json()["total"] == 1
    assert app_client.get("/api/v1/search", params={"q": "zanzibarquill kind:email"}).json()["total"] == 0


def test_a_proximity_wildcard_matching_too_many_words_is_a_400(app_client, services, settings, corpus):
    from indexer.model import Custody, Item
    from indexer.store import write_items
    from search_api.query_fields import MAX_EXPANSIONS

    words = " ".join(f"zq{n:05d}" for n in range(MAX_EXPANSIONS + 50))
    broad = Item(id="ql-broad", kind="document", channel="file", source_path="/nonexistent/broad.txt", locator="",
                 source_sha256="1" * 64, custody=Custody("QL Broad", "private"), family_id="ql-broad", body=words + " contract")
    assert list(write_items(services, settings.items_alias, [broad])) == []
    services.indices.refresh(index=settings.items_alias)
    assert app_client.get("/api/v1/search", params={"q": "zq* contract"}).json()["total"] == 1  # fine outside proximity
    response = app_client.get("/api/v1/search", params={"q": "contract AND zq* w/3 contract"})
    assert response.status_code == 400
    assert response.json()["position"] == 13 and "more specific" in response.json()["hint"]
    report = app_client.post("/api/v1/reports/terms", json={"queries": ["contract", "zq* w/3 contract"]})
    assert report.status_code == 400 and report.json()["query"] == 1 and report.json()["position"] == 0
