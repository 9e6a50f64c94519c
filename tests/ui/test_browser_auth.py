"""Logging in and out of the web UI in a real browser, and the banner when authentication is off."""

from __future__ import annotations

import uuid

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


def test_auth_off_shows_the_plain_banner_and_no_login(page, open_url):
    page.goto(open_url + "/")
    expect(page.get_by_test_id("auth-notice")).to_have_text("Authentication is off — anyone who can reach this address can search")
    expect(page.get_by_test_id("login-view")).to_be_hidden()
    expect(page.get_by_test_id("account")).to_be_hidden()
    expect(page.get_by_test_id("search-input")).to_be_visible()
