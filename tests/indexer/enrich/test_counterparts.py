"""Official counterparts and business relevance of private items, on the gap scenario with known truth
(tests/scenarios/gaps.py), plus the scoring and phrase rules on their own."""

from __future__ import annotations

import pytest
from scenarios.gaps import ATTACHMENT_TRUTH, TRUTH, find, ingest_scenario, private_items, scenario_settings

from indexer.enrich.business import BusinessRules, BusinessScorer, BusinessTermsError, read_terms_file
from indexer.enrich.counterpart_queries import content_words, other_participants, quote_phrase
from indexer.enrich.counterparts import run_counterparts
from services.clients import opensearch_client


@pytest.fixture(scope="module")
def gaps(settings, services, tmp_path_factory):
    """(settings, client, private items) of the ingested scenario, counterpart pass done."""
    chosen = scenario_settings(settings)
    ingest_scenario(chosen, tmp_path_factory.mktemp("gaps"))
    client = opensearch_client(chosen)
    return chosen, client, private_items(client, chosen)


@pytest.mark.parametrize("key", sorted(TRUTH))
def test_each_private_item_gets_its_known_official_copy_and_business_verdict(gaps, key):
    chosen, _, items = gaps
    phrase, copy, business = TRUTH[key]
    found = find(items, phrase)
    assert found, f"no private item says {phrase!r}"
    for item in found:
        assert item["official_copy"] == copy, (key, item.get("official_copy_links"))
        assert (item["business_score"] >= chosen.business_threshold) is business, (key, item["business_signals"])
        assert bool(item["official_copy_links"]) is (copy != "none")


def test_a_private_attachment_attached_to_an_official_email_is_forwarded(gaps):
    _, client, items = gaps
    name, copy, business = ATTACHMENT_TRUTH
    [attachment] = [item for item in items if item.get("file_name") == name]
    assert attachment["official_copy"] == copy and business
    [link] = attachment["official_copy_links"]
    official = client.get(index=gaps[0].items_alias, id=link["id"])["_source"]
    assert official["record"] == "official" and official["kind"] == "attachment"
    assert official["content_sha256"] == attachment["content_sha256"]
    assert "same file" in link["why"] and link["score"] == 1.0


def test_links_say_why_and_point_at_the_official_item(gaps):
    chosen, client, items = gaps
    [exact] = find(items, TRUTH["exact_email"][0])
    official = client.get(index=chosen.items_alias, id=exact["official_copy_links"][0]["id"])["_source"]
    assert official["record"] == "official" and official["dup_group"] == exact["dup_group"]
    [near] = find(items, TRUTH["near_email"][0])
    assert near["official_copy_links"][0]["score"] >= chosen.near_dup_threshold
    assert "near-duplicate of official email 'FYI: what I told Meridian'" in near["official_copy_links"][0]["why"]
    [quoted] = find(items, TRUTH["quoted"][0])
    assert quoted["official_copy_links"][0]["why"].startswith("all 14 words appear word for word in official email 'Meridian update'")
    [noted] = find(items, TRUTH["noted"][0])
    why = noted["official_copy_links"][0]["why"]
    assert "Note for the record" in why and "names Tom Adviser" in why and "ventilator" in why


def test_chat_events_get_no_official_copy_and_no_score(gaps):
    _, _, items = gaps
    events = [item for item in items if item.get("event")]
    assert sorted(item["event"] for item in events) == ["deleted", "disappearing_off", "disappearing_on"]
    assert all("official_copy" not in item and "business_score" not in item for item in events)


def test_personal_chat_fires_no_signal(gaps):
    _, _, items = gaps
    for key in ("mum_love", "mum_too", "mum_lunch"):
        [item] = find(items, TRUTH[key][0])
        assert item["business_score"] == 0 and item["business_signals"] == []


def test_a_second_pass_writes_nothing(gaps):
    stats = run_counterparts(gaps[0])
    assert stats.items == len(gaps[2]) and stats.written == 0
    assert stats.by_copy == {"none": 18, "exact": 1, "forwarded": 1, "near": 1, "quoted": 1, "note": 1}


# --- the rules on their own -------------------------------------------------------------------

RULES = BusinessRules(terms=("ventilator", "Meridian", "due diligence"))


def test_business_signals_are_whole_words_capped_and_weighted():
    scorer = BusinessScorer(RULES)
    source = {"body": "Meridian's ventilators? The ventilator deal: due diligence, contract, budget, tender and review."}
    signals = scorer.signals(source)
    assert signals == ["term:Meridian", "term:ventilator", "work_word:contract", "work_word:budget"]  # "ventilators" is not the term
    assert scorer.score(signals) == 2 * 2.0 + 2 * 1.0  # two terms kept (cap 2), two work words kept
    assert scorer.assess({"body": "love you, dinner at 7"}) == {"business_score": 0, "business_signals": []}


def test_an_official_participant_alone_is_business_and_an_org_alone_is_not():
    scorer = BusinessScorer(RULES)
    official = scorer.assess({"body": "see you later", "to": [{"raw": "x", "address": "tom@dhsc.gov.uk"}],
                              "from": {"raw": "y", "address": "me@gmail.com"}})
    assert official["business_signals"] == ["official_participant:tom@dhsc.gov.uk"] and official["business_score"] >= RULES.threshold
    assert scorer.assess({"body": "drinks?", "entity_orgs": ["The Ivy"]})["business_score"] < RULES.threshold


def test_business_terms_come_from_settings_and_a_file(settings, tmp_path):
    terms = tmp_path / "terms.txt"
    terms.write_text("# topics\nvaccine taskforce\n\nPPE\n", encoding="utf-8")
    rules = BusinessRules.from_settings(settings.model_copy(update={"business_terms": ["Meridian"], "business_terms_file": terms}))
    assert rules.terms == ("Meridian", "vaccine taskforce", "PPE")
    with pytest.raises(BusinessTermsError, match="could not be read"):
        read_terms_file(tmp_path / "missing.txt")


def test_the_quoted_phrase_is_the_raw_text_up_to_the_last_word_taken():
    assert quote_phrase("too short to quote", 8, 40) is None
    phrase, taken, total = quote_phrase("One, two; three four five six seven eight nine ten!", 8, 8)
    assert (phrase, taken, total) == ("One, two; three four five six seven eight", 8, 10)


def test_other_participants_leave_out_the_custodian_and_her_account():
    source = {"custodian": "Jane Minister", "account": "jane@gmail.com",
              "from": {"raw": "Jane Minister <jane@gmail.com>", "name": "Jane Minister", "address": "jane@gmail.com"},
              "to": [{"raw": "Tom Adviser <tom@dhsc.gov.uk>", "name": "Tom Adviser", "address": "tom@dhsc.gov.uk", "person": "person:tom@dhsc.gov.uk"}],
              "participants": [{"raw": "+447700900123", "address": "+447700900123", "person": "person:+447700900123"}]}
    people = other_participants(source)
    assert [(p.label, p.name, p.person) for p in people] == [
        ("Tom Adviser", "Tom Adviser", "person:tom@dhsc.gov.uk"), ("+447700900123", None, "person:+447700900123")]
    assert content_words("The Meridian delivery schedule, the schedule and thanks") == ["meridian", "delivery", "schedule"]
