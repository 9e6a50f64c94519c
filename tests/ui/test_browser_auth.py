"""Logging in and out of the web UI in a real browser, and the banner when authentication is off."""

from __future__ import annotations

import threading
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from search_api import accounts
from search_api.scope import Restrictions
from services.index import ensure_items_index
from serving import serve_app
from test_browser import browser, page  # noqa: F401 - the shared browser and page (CSP errors fail a test)

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def secured_url(settings, services):
    ensure_items_index(services, settings)
    yield from serve_app(settings.model_copy(update={"auth": True, "auth_cache_seconds": 0.0}))


@pytest.fixture(scope="module")
def open_url(settings, services):
    ensure_items_index(services, settings)
    yield from serve_app(settings)


@pytest.fixture(scope="module")
def user(settings, services) -> str:
    name = f"ui-{uuid.uuid4().hex[:6]}"
    accounts.add_user(services, settings, name, PASSWORD, ["reviewer"], Restrictions(custodians=("Nobody Here",)))
    return name


def test_login_form_then_search_then_logout(page, secured_url, user):
    page.goto(secured_url + "/")
    expect(page.get_by_test_id("login-view")).to_be_visible()
    expect(page.get_by_test_id("search-input")).to_be_hidden()
    expect(page.get_by_test_id("auth-notice")).to_have_count(0)
    expect(page.get_by_test_id("login-name")).to_be_focused()
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("login-error")).to_contain_text("wrong name or password")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("account-name")).to_have_text(f"Logged in as {user} (reviewer)")
    expect(page.get_by_test_id("login-view")).to_be_hidden()
    expect(page.get_by_test_id("exports")).to_be_hidden()  # a reviewer may not export
    page.get_by_test_id("search-input").fill("anything")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("total")).to_contain_text("0")  # restricted to a custodian with no items
    cookie = next(c for c in page.context.cookies() if c["name"] == "lantern_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_test_id("logout-button").click()
    expect(page.get_by_test_id("login-view")).to_be_visible()
    expect(page.get_by_test_id("login-error")).to_have_text("You have logged out.")
    assert not [c for c in page.context.cookies() if c["name"] == "lantern_session"]
    page.reload()
    expect(page.get_by_test_id("login-view")).to_be_visible()


@pytest.fixture
def sibling_site(tmp_path):
    """Another web server on the same host (another port: the same *site* to a browser, as a sibling
    subdomain is in production). Write pages into the yielded folder; its base URL is `folder.url`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_page_on_a_sibling_site_cannot_act_with_the_admins_session(page, secured_url, settings, services, sibling_site):
    admin, victim = f"adm-{uuid.uuid4().hex[:6]}", f"vic-{uuid.uuid4().hex[:6]}"
    accounts.add_user(services, settings, admin, PASSWORD, ["admin"])
    accounts.add_user(services, settings, victim, PASSWORD, ["reviewer"])
    page.goto(secured_url + "/")
    page.get_by_test_id("login-name").fill(admin)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("account-name")).to_have_text(f"Logged in as {admin} (admin)")
    folder, sibling = sibling_site
    target = f"{secured_url}/api/v1/users/{victim}/disable"
    (folder / "form.html").write_text(f'<form method="post" action="{target}"></form><script>document.forms[0].submit()</script>')
    (folder / "fetch.html").write_text(f'<script>fetch("{target}", {{method: "POST", mode: "no-cors", credentials: "include"}})'
                                       '.then(() => document.title = "sent", () => document.title = "failed")</script>')
    with page.expect_response(target) as answer:
        page.goto(sibling + "/form.html")
    assert answer.value.status == 403
    assert "cross-origin request refused" in answer.value.text()
    with page.expect_response(target) as answer:
        page.goto(sibling + "/fetch.html")
    assert answer.value.status == 403
    assert accounts.get_user(services, settings, victim).active  # neither request disabled the user
    page.goto(secured_url + "/")  # and the UI itself, with the same cookie, still works
    expect(page.get_by_test_id("account-name")).to_have_text(f"Logged in as {admin} (admin)")
    page.get_by_test_id("logout-button").click()
    expect(page.get_by_test_id("login-error")).to_have_text("You have logged out.")


def test_auth_off_shows_the_plain_banner_and_no_login(page, open_url):
    page.goto(open_url + "/")
    expect(page.get_by_test_id("auth-notice")).to_have_text("Authentication is off — anyone who can reach this address can search")
    expect(page.get_by_test_id("login-view")).to_be_hidden()
    expect(page.get_by_test_id("account")).to_be_hidden()
    expect(page.get_by_test_id("search-input")).to_be_visible()
