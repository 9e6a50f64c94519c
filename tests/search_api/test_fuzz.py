"""API fuzzing with schemathesis: requests generated from the OpenAPI spec, valid and invalid,
against the real app on a loopback port over the real OpenSearch (sample archive ingested, auth
off). No response may be a 5xx: bad input is a 4xx that says what is wrong, never a crash.

The schemathesis CLI (`st run`) drives it, as `make fuzz` does with many more examples per route
(LANTERN_FUZZ_EXAMPLES); its pytest plugin does not work with this pytest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from serving import serve_app

EXAMPLES = os.environ.get("LANTERN_FUZZ_EXAMPLES", "10")


CHAT = """12/03/2020, 09:15 - Matt: Can we talk about the ventilator contract?
12/03/2020, 09:17 - Priya: Yes, call me after the meeting
"""


@pytest.fixture(scope="module")
def api_url(services, settings, tmp_path_factory):
    """The app on a loopback port over an index of its own: the sample archive plus one WhatsApp chat
    (for a conversation id). Not the session's index, which other tests fill with bulk."""
    from indexer.pipeline import custody_for, run_ingest
    from lantern.demo import ingest_sample

    settings = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}fuzz-"})
    folder = tmp_path_factory.mktemp("fuzz")
    ingest_sample(settings, folder / "archive", folder / "sample-report.jsonl")
    (folder / "chat").mkdir()
    (folder / "chat" / "WhatsApp Chat with Priya.txt").write_text(CHAT, encoding="utf-8")
    run_ingest(settings, [folder / "chat"], custody_for(settings, "Fuzz Custodian", None, "private", "fuzz"), folder / "report.jsonl")
    yield from serve_app(settings)


def _known_ids(api_url: str) -> dict[str, str]:
    """Real ids from the sample, so the item, thread, conversation and people routes get past their 404."""
    def first(kind: str) -> dict:
        return httpx.get(f"{api_url}/api/v1/search", params={"kind": kind, "size": 1}).json()["hits"][0]

    email, message = first("email"), first("message")
    person = httpx.get(f"{api_url}/api/v1/search", params={"size": 0}).json()["facets"]["people"][0]["value"]
    user = httpx.post(f"{api_url}/api/v1/users", json={"name": "fuzz-officer", "roles": ["officer"], "password": "correct horse battery"})
    key = httpx.post(f"{api_url}/api/v1/keys", json={"name": "fuzz-key", "roles": ["reviewer"]})
    assert user.status_code == 201 and key.status_code == 201, (user.text, key.text)
    return {"item_id": email["id"], "thread_id": email["thread_id"], "conversation_id": message["conversation_id"], "key": person,
            "name": "fuzz-officer", "key_id": key.json()["id"]}


def test_no_generated_request_makes_the_api_answer_5xx(api_url, tmp_path):
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is not installed: run `make install`"
    report = tmp_path / "fuzz.json"
    config = tmp_path / "schemathesis.toml"
    config.write_text("[parameters]\n" + "".join(f'"path.{name}" = "{value}"\n' for name, value in _known_ids(api_url).items()))
    done = subprocess.run(
        [st, "--config-file", str(config), "run", f"{api_url}/openapi.json", "--checks", "not_a_server_error", "--max-examples", EXAMPLES,
         "--seed", "1", "--generation-deterministic", "--workers", "1", "--phases", "examples,coverage,fuzzing",
         # Logins: every wrong password costs an argon2 hash on purpose; test_auth covers them.
         "--exclude-path", "/api/v1/session", "--report", "json", "--report-json-path", str(report), "--no-color"],
        capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated and int(generated[1]) > 0 and generated[1] == generated[2], done.stdout[-3000:]
    assert "Missing test data" not in done.stdout, done.stdout[-3000:]  # the id routes were reached, not just 404s
