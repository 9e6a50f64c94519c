"""Archive text is shown as text, never as markup, in every place the UI renders it and through
each rendering path: result titles (highlighted and plain), snippets, senders, custodians, file
names, the item view, thread lines, conversation lines and the gap report's rows. The archive is
an index of its own: hostile emails ingested through the real pipeline, and a hostile chat (with
a deleted message and an uncopied business message) written as items."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from playwright.sync_api import expect
from test_browser import browser, page  # noqa: F401 - the shared browser and page fixtures

from indexer.model import Address, Custody, Item
from indexer.store import write_items
from serving import serve_app
from services.index import ensure_items_index

SUBJECT = '<img src=x onerror="window.__pwned=1"> Plan <b>B</b> &amp; skerrymint'
BODY = 'The basaltine note: <script>window.__pwned=2</script> &lt;i&gt; <a href="javascript:alert(1)">link</a>'
SENDER = '"<b>Mallory</b> <img src=x onerror=window.__pwned=3>" <mallory@example.com>'
FILE_NAME = '<img src=x onerror="window.__pwned=4">annex<b>.txt'
ATTACHMENT_TEXT = "The quarrelbrook annex says <iframe src=javascript:alert(5)></iframe>"
CUSTODIAN = '<b>Eve</b> <img src=x onerror="window.__pwned=6">'
CONVERSATION = '<svg onload="window.__pwned=7">Ops <i>group</i></svg>'
CHAT_SENDER = '<img src=x onerror="window.__pwned=8">Trent'
CHAT_BODY = 'Sign the ventilator contract <img src=x onerror="window.__pwned=9"> tarnwhistle'
CHAT_FILE = '<script>window.__pwned=10</script>.jpg'
# Markup that must never appear as an element anywhere the archive text is shown.
INJECTED = "img, script, b, i, iframe, svg:not(.gaps-chart, .month-svg), a[href^=javascript]"  # the UI draws its own charts


def _email(subject: str, body: str, message_id: str, reply_to: str | None = None, attachment: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = '"<i>Victim</i>" <victim@dept.gov.uk>'
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Mar 2020 10:00:00 +0000" if reply_to is None else "Mon, 02 Mar 2020 11:00:00 +0000"
    message["Message-ID"] = message_id
    if reply_to:
        message["In-Reply-To"] = message["References"] = reply_to
    message.set_content(body)
    if attachment:
        message.add_attachment(ATTACHMENT_TEXT.encode(), maintype="text", subtype="plain", filename=FILE_NAME)
    return message.as_bytes()


def _chat(item_id: str, seq: int, day: int, **fields) -> Item:
    fields.setdefault("kind", "message")
    return Item(id=item_id, channel="whatsapp", source_path="/nonexistent/chat.txt", locator=f"line[{seq}]",
                source_sha256="0" * 64, custody=Custody(CUSTODIAN, "private", collection="hostile"), family_id=item_id,
                conversation_id="hostile-conv", conversation_name=CONVERSATION, seq=seq,
                date=f"2020-03-{day:02d}T10:00:00Z", sender=Address(CHAT_SENDER, CHAT_SENDER), official_copy="none", **fields)


CHAT = (
    _chat("hx-m1", 1, 2, body=CHAT_BODY, business_score=5.0, business_signals=["term:ventilator"]),
    Item(id="hx-m1a", kind="attachment", channel="whatsapp", source_path="/nonexistent/chat.txt", locator="line[1]/media",
         source_sha256="0" * 64, custody=Custody(CUSTODIAN, "private", collection="hostile"), family_id="hx-m1",
         parent_id="hx-m1", depth=1, file_name=CHAT_FILE, content_type="image/jpeg", date="2020-03-02T10:00:00Z"),
    _chat("hx-m2", 2, 3, body="This message was deleted", event="deleted"),
    _chat("hx-m3", 3, 4, body="ok"),
)


@pytest.fixture(scope="module")
def hostile_url(settings, services, tmp_path_factory):
    """The real app over an index of its own holding only the hostile archive."""
    from indexer.pipeline import custody_for, run_ingest

    hostile = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}hostile-"})
    folder = tmp_path_factory.mktemp("hostile-archive")
    (folder / "first.eml").write_bytes(_email(SUBJECT, BODY, "<hx-1@example.com>", attachment=True))
    (folder / "reply.eml").write_bytes(_email("Re: " + SUBJECT, "A reply about obsidianwell.", "<hx-2@example.com>",
                                              reply_to="<hx-1@example.com>"))
    run_ingest(hostile, [folder], custody_for(hostile, CUSTODIAN, None, "private", "hostile"), folder.parent / "report.jsonl")
    alias = ensure_items_index(services, hostile)
    assert list(write_items(services, alias, CHAT)) == []
    services.indices.refresh(index=alias)
    yield from serve_app(hostile)


def _no_markup(page, where: str = "#main") -> None:  # noqa: F811 - `page` is the fixture passed on
    assert page.evaluate("window.__pwned") is None
    assert page.locator(where).locator(INJECTED).count() == 0


def test_result_title_snippet_and_sender_highlighted(page, hostile_url):  # noqa: F811
    page.goto(hostile_url + "/#q=skerrymint")
    titles = page.get_by_test_id("result-title")
    expect(titles).to_have_count(2)
    expect(titles.locator("mark")).to_have_text(["skerrymint", "skerrymint"])  # the subject matched: the highlighted path
    assert sorted(titles.all_inner_texts()) == sorted([SUBJECT, "Re: " + SUBJECT])
    expect(page.get_by_test_id("snippet").first).to_contain_text('<img src=x onerror="window.__pwned=1"> Plan <b>B</b> &amp; ')
    for result in page.get_by_test_id("result").all():
        expect(result).to_contain_text("From: " + SENDER)
        expect(result).to_contain_text("Custodian: " + CUSTODIAN)
    _no_markup(page)


def test_result_title_plain_and_body_snippet(page, hostile_url):  # noqa: F811
    page.goto(hostile_url + "/#q=basaltine")
    title = page.get_by_test_id("result-title")
    expect(title).to_have_text([SUBJECT])
    expect(title.locator("mark")).to_have_count(0)  # the subject did not match: the plain path
    snippet = page.get_by_test_id("snippet")
    expect(snippet.locator("mark")).to_have_text(["basaltine"])
    expect(snippet).to_contain_text("<script>window.__pwned=2</script> &lt;i&gt; <a href=")
    _no_markup(page)


def test_attachment_title_file_name_and_parent_link(page, hostile_url):  # noqa: F811
    page.goto(hostile_url + "/#q=quarrelbrook")
    expect(page.get_by_test_id("result-title")).to_have_text([FILE_NAME])  # an attachment's title is its file name
    expect(page.get_by_test_id("snippet")).to_contain_text("<iframe src=javascript:alert(5)></iframe>")
    _no_markup(page)
    page.goto(hostile_url + "/#q=quarrelbrook%20OR%20basaltine")  # with its parent among the hits, the link is titled
    expect(page.get_by_test_id("result-parent-link")).to_have_text([SUBJECT])
    _no_markup(page)
    page.goto(hostile_url + "/#q=attachment:annex")  # the file name matched: it is the snippet, highlighted
    attachment = page.get_by_test_id("result").filter(has=page.get_by_test_id("result-title").get_by_text(FILE_NAME, exact=True))
    expect(attachment.get_by_test_id("snippet")).to_have_text(FILE_NAME)
    expect(attachment.get_by_test_id("snippet").locator("mark")).to_have_text(["annex"])
    _no_markup(page)


def test_item_view_shows_every_field_as_text(page, hostile_url):  # noqa: F811
    page.goto(hostile_url + "/#q=basaltine")
    page.get_by_test_id("result-title").click()
    expect(page.get_by_test_id("item-title")).to_have_text(SUBJECT)
    meta = page.get_by_test_id("item-meta")
    expect(meta).to_contain_text(SENDER)
    expect(meta).to_contain_text('"<i>Victim</i>" <victim@dept.gov.uk>')
    expect(meta).to_contain_text(CUSTODIAN)
    expect(page.get_by_test_id("attachment")).to_have_count(1)
    expect(page.get_by_test_id("attachment").locator("a")).to_have_text(FILE_NAME)
    expect(page.get_by_test_id("item-body")).to_have_text(BODY)
    expect(page.get_by_test_id("thread-message")).to_have_count(2)
    assert page.title() == "Lantern – " + SUBJECT
    _no_markup(page)


def test_thread_lines_show_titles_and_senders_as_text(page, hostile_url):  # noqa: F811
    page.goto(hostile_url + "/#q=obsidianwell")
    page.get_by_test_id("result-title").click()
    lines = page.get_by_test_id("thread-message")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text(SUBJECT)
    expect(lines.nth(1)).to_contain_text("Re: " + SUBJECT)
    for number in (0, 1):
        expect(lines.nth(number)).to_contain_text(SENDER + " · held by " + CUSTODIAN + " (private)")
    _no_markup(page)


def test_conversation_lines_show_senders_bodies_and_file_names_as_text(page, hostile_url):  # noqa: F811
    page.goto(hostile_url + "/#item=hx-m3")
    lines = page.get_by_test_id("conversation-message")
    expect(lines).to_have_count(3)
    expect(lines.nth(0).locator(".bubble-sender")).to_have_text(CHAT_SENDER)
    expect(lines.nth(0).locator(".bubble-body")).to_have_text(CHAT_BODY)
    expect(lines.nth(0).locator(".bubble-attachment")).to_have_text(CHAT_FILE)
    expect(page.locator(".conversation-view")).to_contain_text(CONVERSATION + " · 3 messages in this conversation")
    _no_markup(page)


def test_gap_report_rows_show_archive_text_as_text(page, hostile_url):  # noqa: F811
    page.goto(hostile_url + "/static/gaps.html")
    uncopied = page.locator("#gaps-uncopied tr")
    expect(uncopied).to_have_count(1)
    expect(uncopied).to_contain_text(CUSTODIAN)
    expect(uncopied).to_contain_text("whatsapp · " + CONVERSATION)
    expect(uncopied.locator("a")).to_have_text(CHAT_BODY)
    expect(page.locator("#gaps-months")).to_contain_text(CUSTODIAN)
    expect(page.locator("#gaps-loss")).to_contain_text(CUSTODIAN + ": a message was deleted in " + CONVERSATION)
    expect(page.locator("#gaps-timelines h3").first).to_contain_text(CUSTODIAN + " (per ")
    _no_markup(page, "body")
