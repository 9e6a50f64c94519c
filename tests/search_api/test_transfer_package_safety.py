"""What the records-transfer package writes from the data is data: file names inside the ZIP cannot climb
out of the package or carry control characters, manifest cells are not spreadsheet formulas, and a
rebuilt email cannot be given extra headers by its subject."""

from __future__ import annotations

import csv
import email
import hashlib
import io
from email import policy

from indexer.sources.originals import SourceDigests
from search_api.transfer_package import Package, _manifest_csv, _row, rebuilt_email
from search_api.transfer_selection import Unit

HOSTILE_SUBJECT = "=HYPERLINK(\"http://evil.example\")/../../etc/passwd\x07\x1b[31m"
HOSTILE_CUSTODIAN = "../../..\\Windows\x00evil"


def test_names_in_the_package_stay_inside_it_and_carry_no_control_characters(tmp_path):
    source = tmp_path / "hostile.eml"
    source.write_bytes(b"From: a@example.com\nSubject: x\n\nbody\n")
    top = {"id": "../../item\x01id", "kind": "email", "custodian": HOSTILE_CUSTODIAN, "subject": HOSTILE_SUBJECT,
           "date": "2024-03-01T09:00:00Z", "source_path": str(source), "locator": "",
           "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest()}
    package = Package(None, "unused", "transfer-test", "tester", {}, [])
    path, data, produced, _ = package._file(Unit("email", ("email", top["id"]), top, [(top, "uncopied business")]), SourceDigests())
    assert produced == "original" and data == source.read_bytes()
    parts = path.split("/")
    assert len(parts) == 3 and parts[1] == "email" and path.endswith(".eml")
    assert all(part not in ("", ".", "..") and ".." not in part and "\\" not in part for part in parts)
    assert all(ch.isprintable() for ch in path)


def test_manifest_cells_that_start_a_formula_are_quoted():
    row = _row("transfer-test", "a/b.eml", "0" * 64, 3, "original",
               {"id": "i1", "subject": HOSTILE_SUBJECT, "custodian": "-1+1", "from": {"raw": "@SUM(A1)"}}, "uncopied business", "")
    [parsed] = list(csv.DictReader(io.StringIO(_manifest_csv([row]).decode("utf-8"))))
    assert parsed["subject"].startswith("'=") and parsed["custodian"] == "'-1+1" and parsed["participants"] == "'@SUM(A1)"


def test_a_rebuilt_email_is_marked_and_its_subject_cannot_add_headers():
    data = rebuilt_email({"subject": "Quarterly\r\nBcc: victim@example.com", "from": {"raw": "Jane <jane@example.com>"},
                          "to": [{"raw": "tom@dhsc.gov.uk"}], "date": "2024-03-01T09:00:00Z", "body": "The text.",
                          "attachment_names": ["costings.csv"]}, "inside a PST")
    message = email.message_from_bytes(data, policy=policy.default)
    assert message["Bcc"] is None and message["Subject"] == "Quarterly Bcc: victim@example.com"
    assert message["X-Lantern-Reconstructed"] == "not the original message: inside a PST"
    assert "The text." in message.get_content() and "[Attachments not included: costings.csv]" in message.get_content()
