"""Reading an indexed email's original bytes back from its source (indexer.sources.originals), with the
locators the mbox and maildir readers really give: byte for byte, refused for a changed source or a
message that has no bytes of its own."""

from __future__ import annotations

import hashlib
import uuid
from email.message import EmailMessage

from indexer.model import Item
from indexer.sources import maildir, mbox
from indexer.sources.originals import original_email


def _message(subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Jane <jane@example.com>", "tom@dhsc.gov.uk", subject
    message["Date"], message["Message-ID"] = "Mon, 02 Mar 2020 10:00:00 +0000", f"<{uuid.uuid4().hex}@example.com>"
    message.set_content(body)
    return bytes(message).replace(b"\r\n", b"\n")


def _emails(produced) -> list[Item]:
    return [item for item in produced if isinstance(item, Item) and item.kind == "email"]


def test_an_mbox_message_comes_back_as_the_bytes_between_its_from_lines(tmp_path, source_context):
    first, third = _message("First", "one"), _message("Third", "three")
    second = _message("Second", "Minutes below.\n>From the minister: sign it off.\n")  # mboxo-quoted, kept as it is
    path = tmp_path / "jane.mbox"
    path.write_bytes(b"".join(b"From jane@example.com Mon Mar  2 10:00:00 2020\n" + m + b"\n" for m in (first, second, third)))
    ctx = source_context(path, "Jane")
    items = _emails(mbox.read(path, ctx))
    assert [item.locator for item in items] == ["message[1]", "message[2]", "message[3]"]
    for item, expected in zip(items, (first, second, third)):
        original = original_email(item.source_path, item.locator, item.source_sha256)
        assert original.data == expected and original.sha256 == hashlib.sha256(expected).hexdigest()


def test_a_maildir_message_comes_back_as_its_file(tmp_path, source_context):
    root = tmp_path / "Maildir"
    for folder in (root, root / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
    inbox, sent = _message("Inbox", "in"), _message("Sent", "out")
    (root / "new" / "1700000000.M1P1.host").write_bytes(inbox)
    (root / ".Sent" / "cur" / "1700000001.M2P2.host:2,S").write_bytes(sent)
    ctx = source_context(root, "Jane")
    items = {item.locator: item for item in _emails(maildir.read(root, ctx))}
    assert set(items) == {"INBOX/1700000000.M1P1.host", "Sent/1700000001.M2P2.host"}
    assert original_email(ctx.source_path, "INBOX/1700000000.M1P1.host", ctx.source_sha256).data == inbox
    assert original_email(ctx.source_path, "Sent/1700000001.M2P2.host", ctx.source_sha256).data == sent


def test_a_changed_source_or_a_message_without_bytes_of_its_own_is_refused(tmp_path):
    path = tmp_path / "jane.eml"
    path.write_bytes(_message("Loose", "text"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert original_email(str(path), "", digest).data == path.read_bytes()
    nested = original_email(str(path), "message[1]!forwarded.eml", digest)
    assert nested.data is None and "inside another file" in nested.reason
    pst = original_email(str(path), "Inbox/3", digest)
    assert pst.data is None and "readpst" in pst.reason
    path.write_bytes(path.read_bytes() + b"\nadded later\n")
    changed = original_email(str(path), "", digest)
    assert changed.data is None and "changed since it was indexed" in changed.reason
    gone = original_email(str(tmp_path / "gone.eml"), "", digest)
    assert gone.data is None and "no longer there" in gone.reason
