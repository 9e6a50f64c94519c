"""The record-keeping gap page in a real browser, on the gap scenario (tests/scenarios/gaps.py): the table and
the uncopied items, then the transfer package built from the page, downloaded, and every uncopied row shown
as transferred, awaiting filing."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from playwright.sync_api import expect
from scenarios.gaps import SAM, TERMS, ingest_scenario
from test_browser import browser, page  # noqa: F401 - the shared browser and page fixtures

from serving import serve_app


@pytest.fixture(scope="module")
def gaps_url(settings, services, tmp_path_factory):
    chosen = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}gaps-ui-", "business_terms": TERMS})
    ingest_scenario(chosen, tmp_path_factory.mktemp("gaps-ui"))
    yield from serve_app(chosen)


def test_the_gap_page_builds_a_transfer_package_and_shows_it_awaiting_filing(page, gaps_url, tmp_path):  # noqa: F811
    page.goto(gaps_url + "/static/gaps.html")
    expect(page.get_by_test_id("gaps-status")).to_contain_text("12 private business items, 5 with an official copy, 7 without.")
    rows = page.get_by_test_id("gaps-uncopied").locator("tbody tr")
    expect(rows).to_have_count(7)
    expect(rows.locator("td[data-state=not-copied]")).to_have_count(7)

    page.get_by_test_id("gaps-custodian").fill(SAM)
    page.get_by_test_id("gaps-run").click()
    expect(rows).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_test_id("gaps-transfer").click()
    assert download.value.suggested_filename.startswith("transfer-") and download.value.suggested_filename.endswith(".zip")
    saved = tmp_path / "package.zip"
    download.value.save_as(saved)
    manifest = list(csv.DictReader(io.StringIO(zipfile.ZipFile(saved).read("manifest.csv").decode("utf-8"))))
    assert [(r["custodian"], r["why"]) for r in manifest] == [(SAM, "uncopied business")]
    expect(page.get_by_test_id("gaps-status")).to_contain_text("(1 transferred, awaiting filing)")
    expect(rows.locator("td[data-state=transferred]")).to_have_text(["transferred, awaiting filing"])
    month = page.get_by_test_id("gaps-months").locator("tbody tr").first
    expect(month.locator("td").nth(6)).to_have_text("1")

    page.get_by_test_id("gaps-transfer").click()  # nothing left for Sam: the page says so
    expect(page.get_by_test_id("gaps-status")).to_contain_text("nothing to transfer")

    page.get_by_test_id("gaps-custodian").fill("")
    page.get_by_test_id("gaps-run").click()
    expect(rows.locator("td[data-state=not-copied]")).to_have_count(6)
    expect(rows.locator("td[data-state=transferred]")).to_have_count(1)
