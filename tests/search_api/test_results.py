"""Results: sort orders, cursor paging with a point in time, the month histogram and families."""

from __future__ import annotations

import base64
import json

import pytest
from known_corpus import ALL, CUSTODIANS, ITEMS

from search_api import paging

BY_DATE = [item.id for item in sorted(ITEMS, key=lambda item: (item.date, item.id))]


def search(app_client, **params):
    query = [(k, v) for k, v in params.items()] + [("custodian", c) for c in CUSTODIANS]
    return app_client.get("/api/v1/search", params=query)


def test_sort_by_date_both_ways(app_client, corpus):
    ascending = [h["id"] for h in search(app_client, sort="date_asc", size=100).json()["hits"]]
    assert ascending == BY_DATE
    descending = [h["id"] for h in search(app_client, sort="date_desc", size=100).json()["hits"]]
    newest_first = sorted(sorted(ITEMS, key=lambda item: item.id), key=lambda item: item.date, reverse=True)
    assert descending == [item.id for item in newest_first]  # equal dates: still by id


def test_relevance_is_the_default_with_a_query_and_date_order_can_be_asked_for(app_client, corpus):
    by_score = search(app_client, q="vaccine").json()["hits"]
    assert [h["score"] for h in by_score] == sorted((h["score"] for h in by_score), reverse=True)
    by_date = [h["id"] for h in search(app_client, q="vaccine", sort="date_asc").json()["hits"]]
    assert by_date == [i for i in BY_DATE if i in {h["id"] for h in by_score}]


def test_unknown_sort_is_a_422(app_client, corpus):
    assert search(app_client, sort="size").status_code == 422


def test_cursor_pages_through_everything_once_and_closes_the_point_in_time(app_client, services, corpus):
    seen, cursor, pages = [], "start", 0
    while cursor:
        body = search(app_client, sort="date_asc", size=2, cursor=cursor).json()
        assert body["total"] == len(ALL)
        seen += [h["id"] for h in body["hits"]]
        previous, cursor = cursor, body["next_cursor"]
        pages += 1
    assert seen == BY_DATE and pages == 4
    pit_id = json.loads(base64.urlsafe_b64decode(previous + "=" * (-len(previous) % 4)))["pit"]
    assert pit_id not in {pit["pit_id"] for pit in services.get_all_pits().get("pits", [])}


def test_a_cursor_is_bound_to_its_search(app_client, corpus):
    first = search(app_client, q="vaccine", size=1, cursor="start").json()
    assert first["next_cursor"]
    other = search(app_client, q="contract", size=1, cursor=first["next_cursor"])
    assert other.status_code == 400 and "another search" in other.json()["detail"]
    assert search(app_client, q="vaccine", size=1, cursor="not-a-cursor").status_code == 400
    assert search(app_client, q="vaccine", size=1, cursor="start", **{"from": 5}).status_code == 422


def test_from_and_size_still_page(app_client, corpus):
    second_page = [h["id"] for h in search(app_client, sort="date_asc", size=2, **{"from": 2}).json()["hits"]]
    assert second_page == BY_DATE[2:4]
    assert "next_cursor" not in search(app_client, size=2).json()


def test_month_histogram_facet(app_client, corpus):
    months = {b["value"]: b["count"] for b in search(app_client, size=0).json()["facets"]["month"]}
    assert months == {"2020-03": 2, "2020-05": 1, "2020-06": 1, "2020-07": 1, "2020-08": 1, "2021-01": 1}


def test_expand_families_shows_the_parent_and_siblings(app_client, corpus):
    hit = search(app_client, q="programme", expand="families").json()["hits"][0]
    assert hit["id"] == "ql-e1a"
    family = hit["family"]
    assert family["id"] == "ql-e1" and family["total"] == 2
    assert family["top"]["id"] == "ql-e1" and family["top"]["subject"] == "Vaccine contract update"
    assert [m["id"] for m in family["members"]] == ["ql-e1", "ql-e1a"]
    alone = search(app_client, q="signed whatsapp OR delayed", expand="families").json()["hits"]
    assert all(h["family"]["total"] == 1 for h in alone if h["id"] == "ql-e2")


def test_scan_streams_every_hit_page_by_page_and_closes_its_pit(services, settings, corpus):
    query = {"terms": {"custodian": list(CUSTODIANS)}}
    sort = paging.sort_clauses("date_asc", has_text=False)
    assert [hit["_id"] for hit in paging.scan(services, settings.items_alias, query, sort, ["id"], page_size=2)] == BY_DATE
    before = {pit["pit_id"] for pit in services.get_all_pits().get("pits", [])}
    hits = paging.scan(services, settings.items_alias, query, sort, ["id"], page_size=2)
    next(hits)
    hits.close()  # a client that hangs up mid-export
    assert {pit["pit_id"] for pit in services.get_all_pits().get("pits", [])} <= before


@pytest.mark.parametrize("value", ["relevance", "date_desc", "date_asc"])
def test_every_sort_ends_with_a_unique_tiebreaker(value):
    assert paging.sort_clauses(value, has_text=True)[-1] == {"id": "asc"}


def test_an_expired_cursor_says_so(app_client, services, corpus):
    cursor = search(app_client, sort="date_asc", size=2, cursor="start").json()["next_cursor"]
    pit_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["pit"]
    services.delete_pit(body={"pit_id": [pit_id]})
    response = search(app_client, sort="date_asc", size=2, cursor=cursor)
    assert response.status_code == 400 and "expired" in response.json()["detail"]
