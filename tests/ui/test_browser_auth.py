"""Logging in and out of the web UI in a real browser, and the banner when authentication is off."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright

from search_api import accounts
from search_api.app import create_app
from search_api.scope import Restrictions
from services.index import ensure_items_index

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "a long enough password"


def _serve(settings):
    """Run the app on a free loopback port in a thread; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def secured_url(settings, services):
    ensure_items_index(services, settings)
    yield from _serve(settings.model_copy(update={"auth": True, "auth_cache_seconds": 0.0}))


@pytest.fixture(scope="module")
def open_url(settings, services):
    ensure_items_index(services, settings)
    yield from _serve(settings)


@pytest.fixture(scope="module")
def user(settings, services) -> str:
    name = f"ui-{uuid.uuid4().hex[:6]}"
    accounts.add_user(services, settings, name, PASSWORD, ["reviewer"], Restrictions(custodians=("Nobody Here",)))
    return name


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run scripts/install-system-packages.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert errors == [], errors


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
