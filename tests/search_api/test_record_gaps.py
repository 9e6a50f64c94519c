"""The record-keeping gap report (API, CSV, CLI) on the gap scenario, whose truth is worked out in
tests/scenarios/gaps.py: Jane, March 2024: 10 business items (exact, forwarded, near, quoted 1 each,
6 uncopied); April 2024: 1 (a note for the record); Sam, March 2024: 1 uncopied. One silence of 18
days in the Tom chat, one deleted message, disappearing messages on from 8 to 10 March."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date

import pytest
from fastapi.testclient import TestClient
from scenarios.gaps import JANE, SAM, TERMS, TRUTH, find, ingest_scenario, private_items, scenario_settings

from search_api.app import create_app
from search_api.record_gaps import GapReportOptions, record_gaps_report
from search_api.record_timeline import SilenceRules, find_silences
from services.clients import opensearch_client

URL = "/api/v1/reports/record-gaps"
UNCOPIED = ("u1_contract", "u2_hold", "u3_supplier", "costings", "e4_private", "u4_press", "sam_ppe")


@pytest.fixture(scope="module")
def gaps(settings, services, tmp_path_factory):
    chosen = scenario_settings(settings)
    ingest_scenario(chosen, tmp_path_factory.mktemp("gaps"))
    return chosen


@pytest.fixture(scope="module")
def api(gaps):
    with TestClient(create_app(gaps)) as client:
        yield client


def _row(report, custodian, month):
    [row] = [r for r in report["months"] if r["custodian"] == custodian and r["month"] == month]
    return row


def test_per_custodian_and_month_business_items_copies_and_gaps(api):
    report = api.get(URL).json()
    march = _row(report, JANE, "2024-03")
    assert (march["private_items"], march["business_items"], march["copied_total"], march["uncopied"]) == (20, 10, 4, 6)
    assert march["copied"] == {"exact": 1, "forwarded": 1, "near": 1, "quoted": 1, "note": 0}
    assert (march["official_items"], march["deleted_events"], march["disappearing_events"], march["silences"]) == (6, 1, 2, 1)
    april = _row(report, JANE, "2024-04")
    assert (april["business_items"], april["copied"]["note"], april["uncopied"], april["copied_share"]) == (1, 1, 0, 1.0)
    sam = _row(report, SAM, "2024-03")
    assert (sam["business_items"], sam["uncopied"], sam["official_items"]) == (1, 1, 0)
    assert report["summary"]["business_items"] == 12 and report["summary"]["pending"] == 0
    assert report["rules"]["business"]["terms"] == TERMS and report["rules"]["business_threshold"] == 2.0


def test_uncopied_business_items_are_listed_with_links(api, gaps):
    report = api.get(URL).json()
    items = private_items(opensearch_client(gaps), gaps)
    expected = {item["id"] for key in UNCOPIED for item in find(items, TRUTH[key][0])}
    listed = report["uncopied"]
    assert {u["id"] for u in listed} == expected and len(listed) == len(expected) == 7
    first = listed[0]
    assert first["date"] == "2024-03-01T09:00:00Z" and first["channel"] == "whatsapp"
    assert first["snippet"].startswith("Morning Jane, the ventilator contract") and first["link"] == f"/#item={first['id']}"
    assert api.get(first["api"]).json()["id"] == first["id"]
    assert "term:ventilator" in first["business_signals"]


def test_a_silence_inside_an_active_chat_is_found(api):
    [silence] = api.get(URL).json()["silences"]
    assert (silence["custodian"], silence["conversation_name"], silence["channel"]) == (JANE, "Tom Adviser", "whatsapp")
    assert (silence["last_before"], silence["first_after"], silence["days"], silence["median_gap_days"]) == ("2024-03-10", "2024-03-28", 18, 1)


def test_deleted_messages_and_disappearing_settings_are_flagged(api):
    report = api.get(URL).json()
    assert [(e["event"], e["date"][:10]) for e in report["loss_events"]] == [
        ("deleted", "2024-03-06"), ("disappearing_on", "2024-03-08"), ("disappearing_off", "2024-03-10")]
    [period] = report["disappearing_periods"]
    assert (period["start"][:10], period["end"][:10], period["days"], period["turned_off"]) == ("2024-03-08", "2024-03-10", 2, True)


def test_volume_per_day_counts_every_dated_item(api, gaps):
    report = api.get(URL, params={"custodian": JANE}).json()
    assert report["volume"]["interval"] == "day"
    rows = report["volume"]["rows"]
    total = opensearch_client(gaps).count(index=gaps.items_alias, body={"query": {"term": {"custodian": JANE}}})["count"]
    assert sum(r["count"] for r in rows) == total
    assert {"custodian": JANE, "channel": "whatsapp", "record": "private", "period": "2024-03-01", "count": 2} in rows
    assert api.get(URL, params={"interval": "month"}).json()["volume"]["rows"][0]["period"] == "2024-03-01"


def test_custodian_and_dates_narrow_every_part(api):
    sam = api.get(URL, params={"custodian": SAM}).json()
    assert [(r["custodian"], r["month"]) for r in sam["months"]] == [(SAM, "2024-03")]
    assert len(sam["uncopied"]) == 1 and sam["silences"] == [] and sam["loss_events"] == []
    april = api.get(URL, params={"from": "2024-04-01", "to": "2024-04-30"}).json()
    assert [(r["custodian"], r["month"]) for r in april["months"]] == [(JANE, "2024-04")]
    last_day = api.get(URL, params={"from": "2024-03-28", "to": "2024-03-28"}).json()  # `to` is inclusive
    assert [u["snippet"][:14] for u in last_day["uncopied"]] == ["Back from leav"]
    assert api.get(URL, params={"from": "2024-04-02", "to": "2024-04-01"}).status_code == 422


def test_restrict_is_anded_into_every_query(gaps):
    client = opensearch_client(gaps)
    options = GapReportOptions.from_settings(gaps)
    confined = record_gaps_report(client, gaps.items_alias, options, restrict=[{"term": {"custodian": SAM}}])
    assert {r["custodian"] for r in confined["months"]} == {SAM}
    assert confined["silences"] == [] and confined["loss_events"] == [] and {r["custodian"] for r in confined["volume"]["rows"]} == {SAM}
    nothing = record_gaps_report(client, gaps.items_alias, options, [JANE], date(2024, 3, 1), None, restrict=[{"term": {"custodian": SAM}}])
    assert nothing["months"] == [] and nothing["uncopied"] == [] and nothing["summary"]["business_items"] == 0


def test_csv_has_a_section_per_part(api):
    response = api.get(URL, params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    sections = [r["section"] for r in rows]
    assert sections.count("month") == 3 and sections.count("uncopied") == 7
    assert sections.count("silence") == 1 and sections.count("loss_event") == 3
    march = next(r for r in rows if r["section"] == "month" and r["custodian"] == JANE and r["month"] == "2024-03")
    assert (march["business_items"], march["copied_exact"], march["copied_forwarded"], march["uncopied"]) == ("10", "1", "1", "6")
    silence = next(r for r in rows if r["section"] == "silence")
    assert (silence["date"], silence["days"], silence["conversation"]) == ("2024-03-10/2024-03-28", "18", "Tom Adviser")


def test_cli_prints_the_api_report(api, gaps, tmp_path):
    env = {**os.environ, "LANTERN_INDEX_PREFIX": gaps.index_prefix, "LANTERN_BUSINESS_TERMS": json.dumps(TERMS)}
    args = [sys.executable, "-m", "lantern.cli", "report", "gaps", "--custodian", JANE, "--from", "2024-03-01", "--to", "2024-04-30"]
    done = subprocess.run([*args, "--format", "csv"], capture_output=True, env=env, check=True)
    expected = api.get(URL, params={"custodian": JANE, "from": "2024-03-01", "to": "2024-04-30", "format": "csv"}).text
    assert done.stdout.decode("utf-8") == expected
    out = tmp_path / "gaps.json"
    subprocess.run([*args, "--refresh", "--out", str(out)], capture_output=True, env=env, check=True)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["copied"] == {"exact": 1, "forwarded": 1, "near": 1, "quoted": 1, "note": 1}
    assert report["summary"]["uncopied"] == 6


def test_a_silence_needs_an_active_rhythm_to_break():
    rules = SilenceRules(min_days=7, factor=5.0, min_active_days=5)
    daily = [date(2024, 3, d) for d in (1, 2, 3, 4, 5, 20, 21)]
    assert [(a.day, b.day, gap) for a, b, gap, _ in find_silences(daily, rules)] == [(5, 20, 15)]
    weekly = [date(2024, 1, 1 + 7 * n) for n in range(5)] + [date(2024, 2, 19)]  # a 3-week pause in a weekly chat
    assert find_silences(weekly, rules) == []
    assert find_silences(daily[:4], rules) == []  # too few active days to have a rhythm
