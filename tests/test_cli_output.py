"""What the `lantern` command prints is data: archive content and anything a caller typed is never
Rich markup and never reaches the terminal as control sequences. Each command that prints such data
runs as the real command, on a pseudo-terminal where a person would see it, against the real index."""

from __future__ import annotations

import base64
import json
import os
import pty
import subprocess
import sys
import uuid

import pytest
from fastapi.testclient import TestClient

from search_api import accounts
from search_api.app import create_app

PASSWORD = "a long enough password"
# What a hostile sender, file or caller puts in front of the auditor's terminal: a markup closing
# tag (crashes Rich), an OSC 8 hyperlink, a blinking red SGR, a raw C1 CSI, a right-to-left override.
HYPERLINK = "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07"
BLINK = "\x1b[5;41m"
HOSTILE = f"[/] [/bold] [link=http://evil.example]x[/link] {HYPERLINK} {BLINK}blink \x9b31m \u202eevil"
# None of these may reach the terminal; Rich's own styling (it is a terminal) uses plain SGR only.
FORBIDDEN = ("\x1b]8;;", BLINK, "\x9b", "\u202e", "\x07")


def _on_terminal(settings, *args: str, stdin: str | None = None) -> tuple[int, str]:
    """Run `lantern ARGS` with stdout and stderr on a pseudo-terminal; (exit code, everything shown)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix, "COLUMNS": "250", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "lantern.cli", *args], stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                               stdout=follower, stderr=follower, env=env)
    os.close(follower)
    if stdin:
        process.stdin.write(stdin.encode())
        process.stdin.close()
    shown = b""
    while True:  # read while it writes, so a full pseudo-terminal buffer never blocks it
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the command has gone and closed its side
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return process.wait(timeout=300), shown.decode("utf-8", errors="replace").replace("\r\n", "\n")


def _piped(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix, "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "lantern.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def _assert_harmless(shown: str) -> None:
    for sequence in FORBIDDEN:
        assert sequence not in shown, f"{sequence!r} reached the terminal:\n{shown}"
    assert "Traceback" not in shown and "MarkupError" not in shown, shown


def _encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


@pytest.fixture(scope="module")
def hostile_email(services, settings, tmp_path_factory) -> str:
    """One email whose From, Subject and body hold HOSTILE, ingested; returns a word only it contains."""
    from indexer.pipeline import custody_for, run_ingest

    marker = f"zorb{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("hostile-cli")
    (folder / "hostile.eml").write_bytes(
        (f"From: {_encoded(HOSTILE)} <mallory@example.com>\r\nTo: alice@example.gov.uk\r\n"
         f"Subject: {_encoded(marker + ' ' + HOSTILE)}\r\nDate: Mon, 02 Mar 2020 10:00:00 +0000\r\n"
         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
         f"{marker} body {HOSTILE}\r\n").encode())
    run_ingest(settings, [folder], custody_for(settings, "Hostile Sender Test", None, "private", "cli-output"), folder / "r.jsonl")
    return marker


def test_search_prints_hostile_senders_subjects_and_snippets_as_data(settings, hostile_email):
    raw = _piped(settings, "search", hostile_email, "--json")
    assert raw.returncode == 0, raw.stderr
    hit = json.loads(raw.stdout)["hits"][0]
    assert "\x1b]8;;" in hit["from"]["raw"] and "\u202e" in hit["subject"]  # the archive really holds them
    assert not any(sequence in raw.stdout for sequence in ("\x9b", "\u202e"))  # --json: escaped, losslessly
    code, shown = _on_terminal(settings, "search", hostile_email)
    assert code == 0, shown
    _assert_harmless(shown)
    assert "[/bold]" in shown and "[link=http://evil.example]" in shown  # shown as typed, not interpreted
    assert "\\x1b]8;;http://evil.example\\x07click" in shown and "\\u202eevil" in shown and "\\x9b31m" in shown


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_exports_on_a_terminal_are_neutralised_and_exact_into_a_pipe(settings, hostile_email, format):
    code, shown = _on_terminal(settings, "export", "results", hostile_email, "--format", format)
    assert code == 0, shown
    _assert_harmless(shown)
    assert hostile_email in shown
    exact = _piped(settings, "export", "results", hostile_email, "--format", format)
    assert exact.returncode == 0 and "\u202eevil" in (exact.stdout if format == "csv" else json.loads(exact.stdout)["subject"])


def test_audit_shows_hostile_login_names_and_queries_as_data(settings, services):
    secured = settings.model_copy(update={"auth": True, "auth_cache_seconds": 0.0})
    token = accounts.create_key(services, secured, f"hostile-{uuid.uuid4().hex[:6]}", ["officer"])[1]
    with TestClient(create_app(secured)) as api:  # no credentials needed for the first
        assert api.post("/api/v1/session", json={"name": "[/]", "password": "whatever it is"}).status_code == 401
        assert api.post("/api/v1/session", json={"name": HOSTILE[:60], "password": "whatever it is"}).status_code == 401
        assert api.get("/api/v1/search", params={"q": HOSTILE}, headers={"Authorization": f"Bearer {token}"}).status_code in (200, 400)
    code, shown = _on_terminal(settings, "audit", "--limit", "500")
    assert code == 0, shown
    _assert_harmless(shown)
    assert "[/]" in shown and "\\x1b]8;;http://evil.example" in shown
    piped = _piped(settings, "audit", "--limit", "500", "--json")
    entries = [json.loads(line) for line in piped.stdout.splitlines()]
    assert HOSTILE in [e.get("query") for e in entries]  # --json keeps the data exact
    assert "\u202e" not in piped.stdout and "\x9b" not in piped.stdout


def test_term_report_prints_hostile_queries_as_data(settings, services, tmp_path, hostile_email):
    queries = tmp_path / "queries.txt"
    queries.write_text(f"{hostile_email}\n\"{HOSTILE}\"\n", encoding="utf-8")
    code, shown = _on_terminal(settings, "report", "terms", str(queries))
    assert code == 0, shown
    _assert_harmless(shown)
    code, shown = _on_terminal(settings, "report", "terms", str(queries), "--csv")
    assert code == 0, shown
    _assert_harmless(shown)
    assert "\\u202eevil" in shown
    exact = _piped(settings, "report", "terms", str(queries), "--csv")  # into a pipe or file: the data as it is
    assert exact.returncode == 0 and "\u202eevil" in exact.stdout


def test_ingest_shows_hostile_file_names_and_paths_as_data(settings, services, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"[-] {HYPERLINK.replace('/', '')} {BLINK} \u202e.eml").write_text("not really an email", encoding="utf-8")
    (folder / "[blink red]note.txt").write_text("a note", encoding="utf-8")
    report = tmp_path / f"report {BLINK} \u202e.jsonl"
    code, shown = _on_terminal(settings, "ingest", str(folder), "--custodian", "Hostile Files Test", "--report", str(report),
                               "--collection", f"c-{uuid.uuid4().hex[:6]}")
    assert code == 0, shown
    _assert_harmless(shown)
    assert "exception report:" in shown and "\\u202e.jsonl" in shown


def test_users_and_keys_lists_show_hostile_restrictions_as_data(settings, services):
    name = f"hostile-{uuid.uuid4().hex[:6]}"
    code, shown = _on_terminal(settings, "users", "add", name, "--role", "reviewer", "--custodian", HOSTILE, "--password-stdin",
                               stdin=PASSWORD + "\n")
    assert code == 0, shown
    _assert_harmless(shown)
    code, shown = _on_terminal(settings, "keys", "create", name, "--role", "reviewer", "--custodian", HOSTILE)
    assert code == 0, shown
    for listing in (("users", "list"), ("keys", "list")):
        code, shown = _on_terminal(settings, *listing)
        assert code == 0, shown
        _assert_harmless(shown)
        assert name in shown and "[/bold]" in shown and "\\x1b]8;;http://evil.example" in shown


def test_people_import_errors_show_hostile_file_names_and_lines_as_data(settings, services, tmp_path):
    aliases = tmp_path / f"aliases {BLINK} [blink red]x.csv"
    aliases.write_text(f"person,identity\n{HOSTILE}\n", encoding="utf-8")
    code, shown = _on_terminal(settings, "people", "import", str(aliases))
    assert code == 1, shown
    _assert_harmless(shown)
    assert "error:" in shown and "[blink red]x.csv" in shown and "line 2" in shown and "[/]" in shown
