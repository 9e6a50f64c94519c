"""The search-term report, checked against figures worked out by hand from tests/search_api/known_corpus.py.

Hand count (both corpus custodians):
  vaccine  → e1 e1a e2 e3 e4       contract → e1 e2 e3 m1 e4       whatsapp → e2
  unique: vaccine and no other → e1a;  contract and no other → m1;  whatsapp alone → none (e2 says contract too)
  families: e1 and e1a are one family, every other item is alone →
            vaccine 5 items, contract 5 hits + e1a = 6, whatsapp 1, any query 6
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from known_corpus import CUSTODIANS, FIRST, SECOND

from search_api import reports

QUERIES = ["vaccine", "contract", "whatsapp"]


def report(app_client, queries=QUERIES, filters=None, **params):
    return app_client.post("/api/v1/reports/terms", params=params,
                           json={"queries": queries, "filters": filters or {"custodian": list(CUSTODIANS)}})


def test_hits_unique_hits_and_families_per_query(app_client, corpus):
    body = report(app_client).json()
    rows = {row["query"]: row for row in body["queries"]}
    assert [(r["hits"], r["unique_hits"], r["hits_with_families"]) for r in body["queries"]] == [(5, 1, 5), (5, 1, 6), (1, 0, 1)]
    assert rows["vaccine"]["by_custodian"] == {FIRST: 3, SECOND: 2}
    assert rows["vaccine"]["by_record"] == {"official": 4, "private": 1}
    assert rows["contract"]["by_custodian"] == {FIRST: 3, SECOND: 2}
    assert rows["contract"]["by_record"] == {"official": 3, "private": 2}
    assert rows["whatsapp"]["by_custodian"] == {FIRST: 1} and rows["whatsapp"]["by_record"] == {"private": 1}
    total = body["total"]
    assert (total["hits"], total["unique_hits"], total["hits_with_families"]) == (6, None, 6)
    assert total["by_custodian"] == {FIRST: 4, SECOND: 2} and total["by_record"] == {"official": 4, "private": 2}
    assert body["filters"] == {"custodian": list(CUSTODIANS)}


def test_filters_narrow_every_figure(app_client, corpus):
    body = report(app_client, filters={"custodian": [SECOND]}).json()
    # QL Second holds e3 and e4, both of which say vaccine and contract: nothing is unique.
    assert [(r["hits"], r["unique_hits"], r["hits_with_families"]) for r in body["queries"]] == [(2, 0, 2), (2, 0, 2), (0, 0, 0)]
    dated = report(app_client, filters={"custodian": list(CUSTODIANS), "date_to": "2020-04-30"}).json()
    assert [r["hits"] for r in dated["queries"]] == [2, 1, 0]  # e1 e1a; e1


def test_a_single_query_is_unique_for_all_its_hits(app_client, corpus):
    row = report(app_client, queries=["contract"]).json()["queries"][0]
    assert row["hits"] == row["unique_hits"] == 5


def test_family_count_is_exact_across_composite_pages(services, settings, corpus, monkeypatch):
    monkeypatch.setattr(reports, "FAMILY_PAGE", 1)
    query = {"bool": {"filter": [{"terms": {"custodian": list(CUSTODIANS)}}, {"terms": {"id": ["ql-e1a", "ql-e2", "ql-e3"]}}]}}
    assert reports.family_count(services, settings.items_alias, query) == 4  # e1 e1a, e2, e3


def test_csv_has_a_row_per_query_and_a_total_row(app_client, corpus):
    response = report(app_client, queries=["vaccine", "-contract"], format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["query"] for row in rows] == ["vaccine", "'-contract", "(any of the above)"]  # no spreadsheet formula
    assert rows[0]["hits"] == "5" and rows[0][f"custodian:{FIRST}"] == "3" and rows[0]["record:official"] == "4"
    assert rows[2]["unique_hits"] == ""


def test_a_malformed_query_is_a_400_naming_it(app_client, corpus):
    response = report(app_client, queries=["vaccine", "contract AND"])
    assert response.status_code == 400
    body = response.json()
    assert body["query"] == 1 and body["position"] == 9 and body["detail"].startswith("query 2:")


@pytest.mark.parametrize("payload, fragment", [
    ({"queries": [], "filters": {}}, "queries"),
    ({"queries": ["a"], "filters": {"colour": ["red"]}}, "unknown filter"),
    ({"queries": ["a"], "filters": {"record": ["secret"]}}, "official"),
])
def test_bad_report_requests_are_a_422(app_client, corpus, payload, fragment):
    response = app_client.post("/api/v1/reports/terms", json=payload)
    assert response.status_code == 422 and fragment in response.json()["detail"]


def test_cli_report_prints_the_api_csv(app_client, settings, corpus, tmp_path):
    queries = tmp_path / "terms.txt"
    queries.write_text("# the FOI request's terms\nvaccine\n\ncontract\nwhatsapp\n", encoding="utf-8")
    env = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix}
    custodians = [arg for c in CUSTODIANS for arg in ("--custodian", c)]
    done = subprocess.run([sys.executable, "-m", "lantern.cli", "report", "terms", str(queries), "--csv", *custodians],
                          capture_output=True, env=env, check=True)
    assert done.stdout.decode("utf-8") == report(app_client, format="csv").text
    as_json = subprocess.run([sys.executable, "-m", "lantern.cli", "report", "terms", str(queries), *custodians],
                             capture_output=True, text=True, env=env, check=True)
    assert [row["unique_hits"] for row in json.loads(as_json.stdout)["queries"]] == [1, 1, 0]
