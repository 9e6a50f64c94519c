"""Unix mailboxes read message by message: messages with few or unusual headers, and mailboxes
that start with a byte-order mark (generated; the real-world mbox cases of issue 17)."""

from __future__ import annotations

from pathlib import Path

from indexer.model import Item, Problem
from indexer.sources import choose, mbox

SEPARATOR = b"From alice@example.org Tue Nov 17 11:36:14 2009\n"
NORMAL = (b"From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: quarterly figures\n"
          b"Date: Tue, 17 Nov 2009 11:36:14 -0800\n\nThe figures are attached.\n")
# Valid RFC 5322: a header block needs no From, Subject or Date (digests and list archives hold such parts).
UNUSUAL = (b"Comments: forwarded from the list archive\nContent-Type: text/plain; charset=us-ascii\n"
           b"Content-Transfer-Encoding: 7bit\n\nThe minutes of the meeting about the pylon survey.\n")


def _read(path: Path, source_context) -> tuple[list[Item], list[Problem]]:
    produced = list(mbox.read(path, source_context(path, "Mbox Tester")))
    return [p for p in produced if isinstance(p, Item)], [p for p in produced if isinstance(p, Problem)]


def test_message_with_only_unusual_headers_is_indexed(tmp_path, source_context):
    path = tmp_path / "archive.mbox"
    path.write_bytes(SEPARATOR + NORMAL + b"\n" + SEPARATOR + UNUSUAL)
    items, problems = _read(path, source_context)
    assert problems == []
    assert [(i.locator, i.subject) for i in items] == [("message[1]", "quarterly figures"), ("message[2]", None)]
    unusual = items[1]
    assert (unusual.kind, unusual.sender, unusual.date, unusual.extraction) == ("email", None, None, "ok")
    assert unusual.body == "The minutes of the meeting about the pylon survey."


def test_a_message_without_any_header_is_still_reported(tmp_path, source_context):
    path = tmp_path / "headerless.mbox"
    path.write_bytes(SEPARATOR + NORMAL + b"\n" + SEPARATOR + b"\njust text, no header block at all\n")
    items, problems = _read(path, source_context)
    assert [i.locator for i in items] == ["message[1]"]
    assert [(p.locator, p.code) for p in problems] == [("message[2]", "corrupt")]


def test_mbox_starting_with_a_utf8_bom_is_read_message_by_message(tmp_path, source_context):
    path = tmp_path / "exported.mbox"
    second = NORMAL.replace(b"quarterly figures", b"second message")
    path.write_bytes(b"\xef\xbb\xbf" + SEPARATOR + NORMAL + b"\n" + SEPARATOR + second + b"\n")
    renamed = tmp_path / "exported.txt"  # recognised by its content, whatever the name
    renamed.write_bytes(path.read_bytes())
    assert choose(path, path.read_bytes()[:4096]) is mbox
    assert choose(renamed, renamed.read_bytes()[:4096]) is mbox
    items, problems = _read(path, source_context)
    assert problems == []
    assert [(i.locator, i.subject) for i in items] == [("message[1]", "quarterly figures"), ("message[2]", "second message")]
    assert items[0].sender.address == "alice@example.org"
    assert items[0].body == "The figures are attached."  # the blank line before the next "From " is not the body's


def test_a_bom_mboxs_messages_are_read_back_as_the_reader_numbered_them(tmp_path):
    """The transfer package's original of `message[N]` is the message the reader indexed as message[N]."""
    from indexer.digests import file_sha256
    from indexer.sources.originals import original_email

    path = tmp_path / "exported.mbox"
    second = NORMAL.replace(b"quarterly figures", b"second message")
    path.write_bytes(b"\xef\xbb\xbf" + SEPARATOR + NORMAL + b"\n" + SEPARATOR + second + b"\n")
    digest = file_sha256(path)
    assert original_email(str(path), "message[1]", digest).data == NORMAL
    assert original_email(str(path), "message[2]", digest).data == second
