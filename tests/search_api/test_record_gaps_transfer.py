"""The records-transfer package on the gap scenario (tests/scenarios/gaps.py, truth in its docstring): the
package holds exactly the seven uncopied business items (and the attachment of the one email that has
one), hashes that match the manifest and the sources; the report then shows them as transferred,
awaiting filing; and once the package is filed (ingested as official) and matched, the gap is closed.

The tests run in file order on one index of their own: each step starts from what the last one left.
"""

from __future__ import annotations

import csv
import email
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from email import policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from scenarios.gaps import COSTINGS_CSV, JANE, SAM, TERMS, TRUTH, find, ingest_scenario, private_items

from indexer.enrich.counterparts import run_counterparts
from indexer.pipeline import custody_for, run_ingest
from search_api import accounts
from search_api.app import create_app
from search_api.scope import Restrictions
from search_api.transfer_package import prepare_package
from search_api.transfers import ledger_index, transfers_of
from services.clients import opensearch_client

REPORT, TRANSFER = "/api/v1/reports/record-gaps", "/api/v1/reports/record-gaps/transfer"
UNCOPIED = ("u1_contract", "u2_hold", "u3_supplier", "costings", "e4_private", "u4_press", "sam_ppe")
CHATTER = ("ok_1", "will_do", "great_news", "mum_love", "mum_too", "mum_lunch", "understood", "comms", "ok_2", "easter", "call_them")
COPIED = ("near_email", "quoted", "exact_email", "noted")


@pytest.fixture(scope="module")
def scenario(settings, services, tmp_path_factory):
    chosen = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}transfer-", "business_terms": TERMS})
    written = ingest_scenario(chosen, tmp_path_factory.mktemp("transfer"))
    return chosen, written


@pytest.fixture(scope="module")
def gaps(scenario):
    return scenario[0]


@pytest.fixture(scope="module")
def api(gaps):
    with TestClient(create_app(gaps)) as client:
        yield client


@pytest.fixture(scope="module")
def ids(gaps) -> dict[str, str]:
    """Scenario key → item id (the phrases of TRUTH are unique, "ok" aside: both "ok"s are chit-chat)."""
    items = private_items(opensearch_client(gaps), gaps)
    found = {key: find(items, phrase)[0]["id"] for key, (phrase, _, _) in TRUTH.items()}
    found["costings_csv"] = next(i["id"] for i in items if i.get("file_name") == "ventilator-costings.csv")
    return found


def _tree_digests(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _open(data: bytes) -> tuple[zipfile.ZipFile, list[dict[str, str]]]:
    package = zipfile.ZipFile(io.BytesIO(data))
    rows = list(csv.DictReader(io.StringIO(package.read("manifest.csv").decode("utf-8"))))
    return package, rows


def test_cli_writes_the_package_of_one_custodian(gaps, ids, tmp_path):
    env = {**os.environ, "LANTERN_INDEX_PREFIX": gaps.index_prefix, "LANTERN_BUSINESS_TERMS": json.dumps(TERMS)}
    out = tmp_path / "sam.zip"
    done = subprocess.run([sys.executable, "-m", "lantern.cli", "report", "gaps", "--custodian", SAM, "--transfer", str(out)],
                          capture_output=True, env=env, check=True)
    package, rows = _open(out.read_bytes())
    assert [(r["item_id"], r["why"], r["produced_as"]) for r in rows] == [(ids["sam_ppe"], "uncopied business", "original")]
    assert rows[0]["package_id"] in done.stderr.decode() and not out.with_name("sam.zip.part").exists()
    again = subprocess.run([sys.executable, "-m", "lantern.cli", "report", "gaps", "--custodian", SAM, "--transfer",
                            str(tmp_path / "again.zip")], capture_output=True, env=env)
    assert again.returncode == 1 and b"nothing to transfer" in again.stderr and not (tmp_path / "again.zip").exists()
    mixed = subprocess.run([sys.executable, "-m", "lantern.cli", "report", "gaps", "--transfer", str(tmp_path / "x.zip"),
                            "--format", "csv"], capture_output=True, env=env)
    assert mixed.returncode == 1 and b"--transfer writes the package" in mixed.stderr


def test_a_lone_surrogate_in_the_body_is_refused_and_nothing_is_recorded(api, gaps):
    """The request body is an ApiModel: text no UTF-8 writer accepts never reaches the package or the ledger."""
    body = ('{"custodian": ["%s", "\\ud800"]}' % JANE).encode()
    response = api.post(TRANSFER, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "not valid Unicode" in response.text
    assert transfers_of(opensearch_client(gaps), ledger_index(gaps), [JANE]) == {}


def test_package_holds_exactly_the_uncopied_business_items_with_matching_hashes(api, scenario, ids):
    gaps, written = scenario
    before = _tree_digests(written.root)
    response = api.post(TRANSFER, json={"custodian": [JANE], "from": "2024-03-01", "to": "2024-04-30"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    package, rows = _open(response.content)
    selected = {r["item_id"] for r in rows if r["why"] == "uncopied business"}
    assert selected == {ids[key] for key in UNCOPIED if key != "sam_ppe"}
    assert {r["item_id"] for r in rows} == selected | {ids["costings_csv"]}  # the costings email's attachment, and nothing else
    assert not {ids[key] for key in CHATTER + COPIED} & {r["item_id"] for r in rows}
    for row in rows:
        assert hashlib.sha256(package.read(row["file"])).hexdigest() == row["file_sha256"]
    emails = [r for r in rows if r["kind"] == "email"]
    assert len(emails) == 2 and {r["produced_as"] for r in emails} == {"original"}
    for row in emails:  # a loose .eml: the file in the package is the source, byte for byte
        assert row["file_sha256"] == row["source_sha256"] == hashlib.sha256(Path(row["source_path"]).read_bytes()).hexdigest()
    [costings] = [r for r in emails if r["item_id"] == ids["costings"]]
    message = email.message_from_bytes(package.read(costings["file"]), policy=policy.default)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "ventilator-costings.csv" and attachment.get_content().encode() == COSTINGS_CSV
    assert next(r for r in rows if r["item_id"] == ids["costings_csv"])["file"] == costings["file"]
    assert _tree_digests(written.root) == before  # nothing in the sources changed
    assert package.read("README.txt").decode().startswith(f"Lantern records-transfer package {rows[0]['package_id']}")
    assert json.loads(package.read("manifest.json"))["items"] == len(rows) == 7


def test_chat_transcripts_hold_only_the_days_uncopied_business(api, ids):
    response = api.post(TRANSFER, json={"custodian": [JANE], "to": "2024-03-01", "include_transferred": True})
    package, rows = _open(response.content)
    [row] = rows
    assert (row["item_id"], row["produced_as"], row["channel"]) == (ids["u1_contract"], "transcript", "whatsapp")
    assert row["file"].startswith("Jane Minister/whatsapp/2024-03-01_Tom Adviser_")
    text = package.read(row["file"]).decode("utf-8")
    assert "[2024-03-01 09:00 UTC] Tom Adviser: Morning Jane, the ventilator contract with Meridian" in text
    assert "Jane Minister: ok" not in text and "1 other message(s) of this conversation that day are not included" in text
    assert "Mum" not in "".join(package.namelist())


def test_the_report_shows_transferred_items_as_awaiting_filing(api, ids):
    report = api.get(REPORT).json()
    assert report["summary"]["uncopied"] == report["summary"]["awaiting_filing"] == 7
    assert all(u["transfer"]["state"] == "transferred, awaiting filing" for u in report["uncopied"])
    march = next(r for r in report["months"] if r["custodian"] == JANE and r["month"] == "2024-03")
    assert (march["uncopied"], march["awaiting_filing"]) == (6, 6)
    rows = list(csv.DictReader(io.StringIO(api.get(REPORT, params={"format": "csv"}).text)))
    assert all(r["transfer_package"].startswith("transfer-") for r in rows if r["section"] == "uncopied")
    nothing = api.post(TRANSFER, json={"custodian": [JANE]})
    assert nothing.status_code == 409 and "already in a transfer package" in nothing.json()["detail"]
    assert api.post(TRANSFER, json={"from": "2024-04-02", "to": "2024-04-01"}).status_code == 422


def test_a_scoped_caller_gets_only_its_scope(gaps, services, ids):
    secured = gaps.model_copy(update={"auth": True, "auth_cache_seconds": 0.0})
    _, token = accounts.create_key(services, secured, f"sam-only-{uuid.uuid4().hex[:6]}", ["officer"], Restrictions(custodians=(SAM,)))
    _, reviewer = accounts.create_key(services, secured, f"reviewer-{uuid.uuid4().hex[:6]}", ["reviewer"])
    with TestClient(create_app(secured)) as api:
        headers = {"Authorization": f"Bearer {token}"}
        response = api.post(TRANSFER, json={"include_transferred": True}, headers=headers)
        _, rows = _open(response.content)
        assert {r["item_id"] for r in rows} == {ids["sam_ppe"]}
        assert api.post(TRANSFER, json={"custodian": [JANE], "include_transferred": True}, headers=headers).status_code == 409
        denied = api.post(TRANSFER, json={}, headers={"Authorization": f"Bearer {reviewer}"})
        assert denied.status_code == 403
        audit = api.app.state.audit
        audit.flush()
    entries = opensearch_client(gaps).search(index=secured.audit_index, body={"query": {"term": {"target": rows[0]["package_id"]}}})
    assert entries["hits"]["hits"][0]["_source"]["details"]["report"] == "record-gaps-transfer"


def test_items_are_recorded_as_transferred_only_after_the_last_byte(gaps):
    """A package stopped part-way (a failure, a client that went away) records nothing; a whole one records
    its items once, after its last chunk, manifests and README included."""
    client = opensearch_client(gaps)

    def package():
        return prepare_package(client, gaps.items_alias, ledger_index(gaps), gaps.business_threshold, "test",
                               [JANE], include_transferred=True)

    recorded: list[tuple[int, list]] = []
    chunks: list[bytes] = []
    for chunk in package().chunks(lambda entries: recorded.append((len(chunks), entries))):
        chunks.append(chunk)
    [(after, entries)] = recorded
    assert after == len(chunks) and len(entries) == 7  # called once the last chunk had been taken
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).read("manifest.json")
    for stop in (1, len(chunks) - 1):  # stopped after the first file, and just before the last byte
        recorded.clear()
        stream = package().chunks(lambda entries: recorded.append((0, entries)))
        for _ in range(stop):
            next(stream)
        stream.close()
        assert recorded == []


def test_filing_the_package_as_official_closes_the_gap(api, gaps, tmp_path):
    response = api.post(TRANSFER, json={"include_transferred": True})
    package, rows = _open(response.content)
    filed = tmp_path / "filed"
    package.extractall(filed)  # as the README's round trip: unzip, then ingest each custodian's folder as official
    for custodian in {r["custodian"] for r in rows}:
        custody = custody_for(gaps, custodian, None, "official", "records-system")
        run_ingest(gaps, [filed / custodian], custody, tmp_path / f"report-{uuid.uuid4().hex[:6]}.jsonl")
    run_counterparts(gaps)
    report = api.get(REPORT).json()
    assert report["summary"]["uncopied"] == report["summary"]["awaiting_filing"] == 0 and report["uncopied"] == []
    # exact: exact_email and the three filed emails; quoted: the scenario's one and the four filed chat messages
    assert report["summary"]["copied"] == {"exact": 4, "forwarded": 1, "near": 1, "quoted": 5, "note": 1}
    assert report["summary"]["business_items"] == 12 and report["summary"]["copied_total"] == 12


def test_an_mbox_message_goes_in_as_sent_and_a_changed_source_is_rebuilt_and_says_so(api, gaps, tmp_path):
    """Two private emails of a new custodian: one in an mbox (its bytes between From_ lines, as sent), one loose
    .eml changed after ingest (rebuilt from the index, marked, and the manifest says why)."""
    custodian = f"Pat Private {uuid.uuid4().hex[:6]}"
    sent = (b"From: Pat <pat@gmail.example>\nTo: Sarah Supplier <sarah@meridian-supplies.example>\nSubject: Meridian terms\n"
            b"Date: Mon, 04 Mar 2024 10:00:00 +0000\nMessage-ID: <mbox-1@gmail.example>\n\nThe Meridian ventilator terms\n"
            b">From the board: agreed in principle.\n")
    folder = tmp_path / "pat"
    folder.mkdir()
    (folder / "pat.mbox").write_bytes(b"From pat@gmail.example Mon Mar  4 10:00:00 2024\n" + sent + b"\n")
    loose = folder / "later.eml"
    loose.write_bytes(sent.replace(b"mbox-1", b"loose-2").replace(b"Meridian terms", b"PPE procurement"))
    run_ingest(gaps, [folder], custody_for(gaps, custodian, None, "private", "pat"), tmp_path / "report.jsonl")
    run_counterparts(gaps)
    loose.write_bytes(loose.read_bytes() + b"\nedited after collection\n")
    package, rows = _open(api.post(TRANSFER, json={"custodian": [custodian]}).content)
    by_locator = {r["locator"]: r for r in rows}
    mboxed, rebuilt = by_locator["message[1]"], by_locator[""]
    assert (mboxed["produced_as"], package.read(mboxed["file"])) == ("original", sent)
    assert rebuilt["produced_as"] == "reconstructed" and "changed since it was indexed" in rebuilt["note"]
    message = email.message_from_bytes(package.read(rebuilt["file"]), policy=policy.default)
    assert message["Subject"] == "PPE procurement" and message["X-Lantern-Reconstructed"].startswith("not the original")
    assert "agreed in principle" in message.get_content()
