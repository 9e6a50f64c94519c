"""Exports: CSV and JSON Lines of a search, and the production ZIP (natives, text, manifest of SHA-256)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from email.message import EmailMessage

import pytest

from search_api.exports import CSV_COLUMNS, safe_file_name

CUSTODIAN = "Export Test"
MARKER = "ruddleshank"
HOSTILE_ATTACHMENT = "..\\..\\evil:notes.txt"


def _eml(subject: str, body: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Dana Export <dana@example.org>"
    message["To"] = "case@example.org"
    message["Subject"] = subject
    message["Date"] = "Tue, 03 Mar 2020 09:00:00 +0000"
    message.set_content(body)
    if attachment:
        message.add_attachment(attachment[1], "text", "plain", filename=attachment[0])
    return message.as_bytes()


@pytest.fixture(scope="module")
def exported(services, settings, tmp_path_factory):
    """Three loose EMLs of one custodian: one kept as it was, one changed after ingest, one deleted."""
    from indexer.pipeline import custody_for, run_ingest

    folder = tmp_path_factory.mktemp("exports")
    kept = folder / "Board minutes..final\x07.eml"  # a file name no archive should carry as it is
    kept.write_bytes(_eml(f"=cmd|' /C calc'!A0 {MARKER} figures", f"The {MARKER} figures, as agreed.",
                          (HOSTILE_ATTACHMENT, f"attachment {MARKER} text".encode())))
    changed = folder / "changed.eml"
    changed.write_bytes(_eml("Changed later", f"{MARKER} changed"))
    gone = folder / "gone.eml"
    gone.write_bytes(_eml("Gone later", f"{MARKER} gone"))
    summary = run_ingest(settings, [kept, changed, gone], custody_for(settings, CUSTODIAN, None, "private", "exports"), folder / "r.jsonl")
    assert summary.items == 4, summary
    changed.write_bytes(changed.read_bytes() + b"\nedited after collection\n")
    gone.unlink()
    return {"kept": kept, "changed": changed, "gone": gone}


def _get(app_client, path: str, q: str = MARKER, **params):
    return app_client.get(f"/api/v1/exports/{path}", params={"q": q, "custodian": CUSTODIAN, **params})


def test_csv_lists_every_hit_with_metadata_and_no_formulas(app_client, exported):
    response = _get(app_client, "results.csv", sort="date_asc")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(records) == 4 and {r["custodian"] for r in records} == {CUSTODIAN}
    assert {r["kind"] for r in records} == {"email", "attachment"}
    hostile = next(r for r in records if r["subject"].startswith("'="))
    assert hostile["subject"] == f"'=cmd|' /C calc'!A0 {MARKER} figures"


def test_jsonl_has_one_item_per_line_with_its_text(app_client, exported):
    lines = _get(app_client, "results.jsonl").text.splitlines()
    items = [json.loads(line) for line in lines]
    assert len(items) == 4
    assert all(MARKER in item["body"] for item in items)
    assert all("body_html" not in item for item in items)


def test_empty_results_and_malformed_queries(app_client, exported):
    assert _get(app_client, "results.csv", q="nosuchwordanywhere").text.splitlines() == [",".join(CSV_COLUMNS)]
    assert _get(app_client, "results.jsonl", q="nosuchwordanywhere").text == ""
    bad = _get(app_client, "production.zip", q="(ruddleshank")
    assert bad.status_code == 400 and bad.json()["position"] == 0


@pytest.fixture(scope="module")
def production(app_client, exported):
    with app_client.stream("GET", "/api/v1/exports/production.zip", params={"q": MARKER, "custodian": CUSTODIAN}) as response:
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        chunks = list(response.iter_bytes())
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
    return archive, manifest, len(chunks)


def test_production_zip_is_streamed_and_valid(production):
    archive, manifest, chunks = production
    assert chunks > 1
    assert archive.testzip() is None
    about = json.loads(archive.read("production.json"))
    assert about["items"] == 4 and about["search"]["q"] == MARKER


def test_manifest_hashes_every_file_in_the_zip(production):
    archive, manifest, _ = production
    listed = {row["path"]: row for row in manifest}
    assert len(listed) == len(manifest)
    assert set(archive.namelist()) == set(listed) | {"manifest.csv"}
    for name, row in listed.items():
        data = archive.read(name)
        assert hashlib.sha256(data).hexdigest() == row["sha256"], name
        assert len(data) == int(row["bytes"])


def test_natives_are_the_original_bytes_only_when_the_file_is_unchanged(production, exported):
    archive, manifest, _ = production
    natives = {row["source_path"]: row for row in manifest if row["path"].startswith("natives/") and row["kind"] == "email"}
    kept = natives[str(exported["kept"])]
    assert kept["role"] == "native" and kept["note"] == ""
    assert archive.read(kept["path"]) == exported["kept"].read_bytes()
    assert kept["sha256"] == kept["source_sha256"]
    changed = natives[str(exported["changed"])]
    assert changed["role"] == "placeholder" and "changed since it was indexed" in changed["note"]
    assert b"Changed later" in archive.read(changed["path"])
    gone = natives[str(exported["gone"])]
    assert gone["role"] == "placeholder" and "not found" in gone["note"]
    attachment = next(row for row in manifest if row["kind"] == "attachment" and row["role"] == "placeholder")
    assert "inside" in attachment["note"]
    assert f"attachment {MARKER} text".encode() in archive.read(attachment["path"])


def test_extracted_text_of_every_item(app_client, production):
    archive, manifest, _ = production
    texts = [row for row in manifest if row["role"] == "text"]
    assert len(texts) == 4
    for row in texts:
        assert row["path"] == f"text/{row['item_id']}.txt"
        assert archive.read(row["path"]).decode("utf-8") == app_client.get(f"/api/v1/items/{row['item_id']}").json()["body"]


def test_every_file_name_in_the_zip_is_sanitised(production):
    archive, _, _ = production
    for name in archive.namelist():
        folder, _, leaf = name.rpartition("/")
        assert folder in ("", "natives", "text"), name
        assert leaf and ".." not in leaf and "\\" not in leaf and ":" not in leaf, name
        assert all(ch.isprintable() for ch in leaf), name
    assert any(name.endswith("-evil_notes.txt.txt") for name in archive.namelist())
    assert any("Board minutes.final" in name for name in archive.namelist())


@pytest.mark.parametrize("raw, safe", [
    ("../../etc/passwd", "etc_passwd"),
    ("..\\..\\windows\\system32", "windows_system32"),
    ("a\x00b\x1fc.txt", "a_b_c.txt"),
    ("...", "file"),
    ("", "file"),
    ("report:final?.pdf", "report_final_.pdf"),
    ("x" * 300 + ".docx", "x" * 115 + ".docx"),
])
def test_safe_file_name(raw, safe):
    assert safe_file_name(raw) == safe


def test_cli_export_mirrors_the_api(app_client, settings, exported, tmp_path):
    env = {**os.environ, "LANTERN_INDEX_PREFIX": settings.index_prefix}
    done = subprocess.run([sys.executable, "-m", "lantern.cli", "export", "results", MARKER, "--custodian", CUSTODIAN, "--format", "jsonl"],
                          capture_output=True, text=True, env=env, check=True)
    from_cli = sorted(json.loads(line)["id"] for line in done.stdout.splitlines())
    from_api = sorted(json.loads(line)["id"] for line in _get(app_client, "results.jsonl").text.splitlines())
    assert from_cli == from_api and len(from_cli) == 4
    out = tmp_path / "results.csv"
    subprocess.run([sys.executable, "-m", "lantern.cli", "export", "results", MARKER, "--custodian", CUSTODIAN, "--out", str(out)],
                   capture_output=True, env=env, check=True)
    assert len(list(csv.reader(out.open(encoding="utf-8", newline="")))) == 5
    bundle = tmp_path / "production.zip"
    subprocess.run([sys.executable, "-m", "lantern.cli", "export", "production", MARKER, "--custodian", CUSTODIAN, "--out", str(bundle)],
                   capture_output=True, env=env, check=True)
    assert zipfile.ZipFile(bundle).testzip() is None
