"""The search tools in a real browser: syntax help, sort order, export links and query errors."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect
from test_browser import base_url, browser, page  # noqa: F401 - the shared server, browser and page fixtures


def test_syntax_help_opens_from_the_keyboard_and_lists_the_operators(page, base_url):  # noqa: F811
    page.goto(base_url + "/")
    help_panel = page.get_by_test_id("syntax-help")
    expect(help_panel.locator("table")).not_to_be_visible()
    page.get_by_test_id("syntax-help-toggle").focus()
    page.keyboard.press("Enter")
    expect(help_panel.locator("table")).to_be_visible()
    for example in ("vaccine w/5 contract", "vaccine pre/5 contract", "from:matt*", "date:2020-03-01..2020-06-30", "has:pii"):
        expect(help_panel).to_contain_text(example)


def test_sort_selector_orders_results_by_date_and_is_kept_in_the_url(page, base_url, sample):  # noqa: F811
    page.goto(base_url + "/#q=vaccine")
    expect(page.get_by_test_id("result").first).to_be_visible()
    for order in ("date_asc", "date_desc"):
        first = page.request.get(base_url + f"/api/v1/search?q=vaccine&sort={order}&size=1").json()["hits"][0]["date"]
        page.get_by_test_id("sort-select").select_option(order)
        expect(page).to_have_url(re.compile(f"sort={order}"))
        # Wait for the re-sorted list itself: the old (relevance-ordered) list may share its first date.
        page.wait_for_function(
            """([first, descending]) => {
                const dates = Array.from(document.querySelectorAll('[data-testid=result] time')).map(n => n.getAttribute('datetime'));
                const sorted = [...dates].sort();
                if (descending) sorted.reverse();
                return dates.length > 1 && dates[0] === first && dates.every((d, i) => d === sorted[i]);
            }""", arg=[first, order == "date_desc"])
    page.reload()
    expect(page.get_by_test_id("sort-select")).to_have_value("date_desc")


def test_export_links_carry_the_current_search_and_download_it(page, base_url, sample):  # noqa: F811
    page.goto(base_url + "/")
    page.get_by_test_id("search-input").fill("zanzibarquill")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("total")).to_have_text("1 item")
    link = page.get_by_test_id("export-csv")
    expect(link).to_have_attribute("href", "/api/v1/exports/results.csv?q=zanzibarquill")
    response = page.request.get(base_url + link.get_attribute("href"))
    assert response.ok
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert len(rows) == 1 and rows[0]["kind"] == "attachment"
    with page.expect_download() as download:
        page.get_by_test_id("export-zip").click()
    assert download.value.suggested_filename == "lantern-production.zip"
    expect(page.get_by_test_id("export-jsonl")).to_have_attribute("href", "/api/v1/exports/results.jsonl?q=zanzibarquill")


def test_a_malformed_query_shows_where_and_how_to_fix_it(page, base_url, sample):  # noqa: F811
    page.goto(base_url + "/")
    page.get_by_test_id("search-input").fill("vaccine AND")
    page.keyboard.press("Enter")
    banner = page.get_by_test_id("error-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("ends with an operator")
    expect(banner).to_contain_text("at character 9")
    expect(banner).to_contain_text("put a term after the last operator")
    expect(page.get_by_test_id("error-query").locator("mark")).to_have_text("A")
    page.get_by_test_id("search-input").fill("vaccine AND contract")
    page.keyboard.press("Enter")
    expect(banner).to_be_hidden()
    expect(page.get_by_test_id("result").first).to_be_visible()


def test_month_chart_shows_the_results_per_month_and_a_bar_narrows_the_dates(page, base_url, sample):  # noqa: F811
    months = {b["value"]: b["count"] for b in page.request.get(base_url + "/api/v1/search?q=vaccine&size=0").json()["facets"]["month"]}
    assert len(months) > 1  # the sample spans several months, so a bar can narrow the search
    page.goto(base_url + "/#q=vaccine")
    bars = page.get_by_test_id("month-bar")
    expect(bars).to_have_count(len(months))
    busiest = max(months, key=months.get)
    bar = page.locator(f"[data-testid=month-bar][data-month='{busiest}']")
    expect(bar).to_have_attribute("aria-label", re.compile(rf"^{busiest}: {months[busiest]} items?$"))
    bar.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"date_from={busiest}-01"))
    expect(page.get_by_test_id("total")).to_have_text(f"{months[busiest]} item" + ("" if months[busiest] == 1 else "s"))
    expect(page.get_by_test_id("date-from")).to_have_value(f"{busiest}-01")


def test_term_report_counts_each_line_with_the_current_filters_and_downloads_csv(page, base_url, sample):  # noqa: F811
    queries = ["vaccine", "contract", "zanzibarquill"]
    expected = page.request.post(base_url + "/api/v1/reports/terms", data={"queries": queries, "filters": {"record": ["private"]}}).json()
    page.goto(base_url + "/#record=private")
    page.get_by_test_id("term-report-toggle").click()
    page.get_by_test_id("term-queries").fill("\n".join(queries) + "\n\n")
    page.get_by_test_id("term-run").click()
    rows = page.get_by_test_id("term-table").locator("tbody tr")
    expect(rows).to_have_count(len(queries) + 1)  # one per query and the "any of the above" total
    for number, row in enumerate(expected["queries"]):
        cells = rows.nth(number).locator("td")
        expect(cells.nth(0)).to_have_text(row["query"])
        expect(cells.nth(1)).to_have_text(str(row["hits"]))
        expect(cells.nth(2)).to_have_text(str(row["unique_hits"]))
        expect(cells.nth(3)).to_have_text(str(row["hits_with_families"]))
    expect(rows.last.locator("td").nth(1)).to_have_text(str(expected["total"]["hits"]))
    with page.expect_download() as download:
        page.get_by_test_id("term-csv").click()
    assert download.value.suggested_filename == "search-term-report.csv"
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert [r["query"] for r in csv.DictReader(io.StringIO(text))][:3] == queries


def test_term_report_names_a_malformed_line(page, base_url, sample):  # noqa: F811
    page.goto(base_url + "/")
    page.get_by_test_id("term-report-toggle").click()
    page.get_by_test_id("term-queries").fill("vaccine\ncontract AND")
    page.get_by_test_id("term-run").click()
    expect(page.get_by_test_id("term-status")).to_contain_text("query 2")
