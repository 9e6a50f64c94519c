"""The item model's contract with UTF-8 writers: no lone surrogate reaches the report or OpenSearch."""

from __future__ import annotations

import json
import os

from indexer.model import Custody, Item, Problem, valid_text


def test_undecodable_file_name_bytes_are_written_as_escapes():
    name = os.fsdecode(b"/evidence/caf\xe9-\xff.eml")
    assert valid_text(name) == "/evidence/caf\\xe9-\\xff.eml"
    assert valid_text(name) == os.fsencode(name).decode("utf-8", "backslashreplace")


def test_lone_surrogates_from_json_are_written_out_and_valid_text_is_untouched():
    assert valid_text("a \ud800 b \udfff") == "a \\ud800 b \\udfff"
    assert valid_text("café 😀") == "café 😀"


def test_docs_of_items_and_problems_encode_as_utf8():
    where = os.fsdecode(b"/evidence/\xff.eml")
    item = Item(id="1", kind="email", channel="email", source_path=where, locator="", source_sha256="x",
                custody=Custody("A", "private"), family_id="1", subject="\ud83d broken", attachment_names=["\udcfe.pdf"])
    problem = Problem(where, "", "corrupt", "reason \udc80")
    for doc in (item.to_doc(), problem.to_doc()):
        json.dumps(doc, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    assert item.to_doc()["source_path"] == "/evidence/\\xff.eml"
    assert item.to_doc()["attachment_names"] == ["\\xfe.pdf"]
