"""The web UI in a real browser: Debian's Chromium driven by Playwright, against the real API and index."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from serving import serve_app

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE_SUBJECT = '<img src=x onerror="window.__pwned=1"> Hostile <b>subject</b> wolframite'
HOSTILE_BODY = '<script>window.__pwned=2</script> body with wolframite & <a href="javascript:alert(1)">link</a>'


@pytest.fixture(scope="module")
def base_url(sample, settings, services, tmp_path_factory):
    """The real app on a free loopback port, with the sample archive and one hostile email ingested."""
    from indexer.pipeline import custody_for, run_ingest

    hostile = tmp_path_factory.mktemp("hostile") / "hostile.eml"
    message = EmailMessage()
    message["From"] = '"<b>Mallory</b>" <mallory@example.com>'
    message["To"] = "alice.hart@dhsc.gov.uk"
    message["Subject"] = HOSTILE_SUBJECT
    message["Date"] = "Mon, 02 Mar 2020 10:00:00 +0000"
    message.set_content(HOSTILE_BODY)
    hostile.write_bytes(message.as_bytes())
    run_ingest(settings, [hostile], custody_for(settings, "Mallory Test", None, "private", "ui"), hostile.parent / "r.jsonl")

    yield from serve_app(settings)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run scripts/install-system-packages.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog opened: {dialog.message}"))
    page.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert errors == [], errors


def test_search_shows_highlighted_hits_and_opens_the_attachment_with_its_parent(page, base_url, sample):
    archive, _, _ = sample
    page.goto(base_url + "/")
    page.get_by_test_id("search-input").fill("zanzibarquill")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("total")).to_have_text("1 item")
    result = page.get_by_test_id("result").first
    expect(result.locator("mark")).to_have_text("zanzibarquill")
    result.get_by_test_id("result-title").click()
    expect(page.get_by_test_id("item-body")).to_contain_text("zanzibarquill")
    page.get_by_test_id("parent-link").click()
    expect(page.get_by_test_id("item-title")).to_have_text(archive.planted["zanzibarquill"]["subject"])
    expect(page.get_by_test_id("attachment")).to_have_count(1)


def test_facet_filter_narrows_results(page, base_url, services, settings, sample):
    def count(*terms) -> int:
        query = {"bool": {"filter": [{"term": {"custodian": "Alice Hart"}}, *({"term": t} for t in terms)]}}
        return services.count(index=settings.items_alias, body={"query": query})["count"]

    everything, private = count(), count({"record": "private"})
    assert everything > private > 0  # the sample holds both records for her, so the filter must narrow
    page.goto(base_url + "/#custodian=Alice%20Hart")
    expect(page.get_by_test_id("total")).to_have_text(f"{everything} items")
    page.get_by_test_id("facet-record").get_by_label("private", exact=False).check()
    expect(page.get_by_test_id("total")).to_have_text(f"{private} items")
    assert "record=private" in page.url
    shown = page.get_by_test_id("result")
    expect(shown).to_have_count(min(private, 20))
    expect(shown.locator(".badge-record")).to_have_text(["private"] * min(private, 20))
    expect(shown.locator(".meta-field").filter(has_text="Custodian:")).to_have_text(["Custodian: Alice Hart"] * min(private, 20))


def test_archive_content_is_shown_as_text_never_as_markup(page, base_url):
    page.goto(base_url + "/#q=wolframite")
    title = page.get_by_test_id("result-title").first
    expect(title).to_contain_text("<img src=x")
    title.click()
    expect(page.get_by_test_id("item-body")).to_contain_text("<script>window.__pwned=2</script>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#main img, #main script, #main b").count() == 0


def test_email_thread_is_listed_in_the_item_view(page, base_url, services, settings, sample):
    archive, _, _ = sample
    hits = services.search(index=settings.items_alias, body={"query": {"term": {"message_id": archive.duplicate_message_id}}})
    item_id = hits["hits"]["hits"][0]["_id"]
    page.goto(base_url + f"/#item={item_id}")
    expect(page.get_by_test_id("thread-message")).to_have_count(4)
    expect(page.get_by_test_id("also-held-by")).to_be_visible()


def test_keyboard_only_search_and_open(page, base_url):
    page.goto(base_url + "/")
    page.get_by_test_id("search-input").focus()
    page.keyboard.type("tellurian")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("total")).to_have_text("1 item")
    page.get_by_test_id("result-title").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("item-body")).to_contain_text("tellurian")
