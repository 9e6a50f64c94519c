"""Signal via signal-cli's JSON output (`signal-cli -o json receive`, JSON-RPC `receive` notifications):
generated logs covering direct and group chats, sent transcripts, quotes, deletes, reactions, edits,
disappearing-message timers, calls, skipped receipts, bad lines, and the attachments folder.
(No real signal-cli log with a compatible licence is in the shared corpora.)"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources import choose, signal
from indexer.sources.base import SourceContext
from search_api.search import SearchRequest, run_search

ACCOUNT = "+447700900999"
ALICE = {"source": "+447700900111", "sourceNumber": "+447700900111", "sourceUuid": "a1a1a1a1-0000-4000-8000-000000000001",
         "sourceName": "Alice", "sourceDevice": 1}
BOB = {"source": "+447700900222", "sourceNumber": "+447700900222", "sourceUuid": "b2b2b2b2-0000-4000-8000-000000000002",
       "sourceName": "Bob", "sourceDevice": 2}
ALICE_UUID_ONLY = {"source": ALICE["sourceUuid"], "sourceNumber": None, "sourceUuid": ALICE["sourceUuid"], "sourceName": None,
                   "sourceDevice": 1}
ME = {"source": ACCOUNT, "sourceNumber": ACCOUNT, "sourceUuid": "c3c3c3c3-0000-4000-8000-000000000003", "sourceName": "Me",
      "sourceDevice": 1}
GROUP = {"groupId": "RmFsY29uVGVhbUlk", "groupName": "Falcon Team", "revision": 3, "type": "DELIVER"}
NOTE_TEXT = b"Signal attachment: the codeword is marmaladewren."


def ms(*parts: int) -> int:
    """A signal-cli timestamp (ms since the epoch) for a UTC wall time plus 123 ms."""
    return int(datetime(*parts, tzinfo=timezone.utc).timestamp()) * 1000 + 123


T1, T2, T3, T4 = ms(2021, 6, 1, 9, 0), ms(2021, 6, 1, 9, 1), ms(2021, 6, 1, 9, 2), ms(2021, 6, 1, 9, 3)


def envelope(who: dict, timestamp: int, **content) -> dict:
    return {"envelope": {**who, "timestamp": timestamp, "serverReceivedTimestamp": timestamp + 5,
                         "serverDeliveredTimestamp": timestamp + 9, **content}, "account": ACCOUNT}


def data(timestamp: int, message: str | None = None, **extra) -> dict:
    return {"timestamp": timestamp, "message": message, "expiresInSeconds": 0, "viewOnce": False, **extra}


LINES: list[dict | str] = [
    envelope(ALICE, T1, dataMessage=data(T1, "Hello from Signal\nsecond line")),  # line 1
    envelope(ALICE, T1 + 1, typingMessage={"action": "STARTED", "timestamp": T1 + 1}),  # 2: skipped
    envelope(ALICE, T1 + 2, receiptMessage={"when": T1 + 2, "isDelivery": True, "timestamps": [T1]}),  # 3: skipped
    envelope(ME, T2, syncMessage={"sentMessage": {
        "destination": ALICE["sourceNumber"], "destinationNumber": ALICE["sourceNumber"], "destinationUuid": ALICE["sourceUuid"],
        **data(T2, "Reply from me", quote={"id": T1, "author": ALICE["sourceNumber"], "authorNumber": ALICE["sourceNumber"],
                                           "text": "Hello from Signal", "attachments": []})}}),  # 4
    envelope(BOB, T3, dataMessage=data(T3, "Group hello", groupInfo=GROUP, attachments=[
        {"contentType": "text/plain", "filename": "minutes.txt", "id": "Xk3mG1AbCdEf.txt", "size": len(NOTE_TEXT)}])),  # 5
    envelope(ALICE_UUID_ONLY, T4, dataMessage=data(T4, "sent without a number", groupInfo=GROUP)),  # 6
    envelope(ALICE, T4 + 10, dataMessage=data(T4 + 10, remoteDelete={"timestamp": T1})),  # 7
    envelope(BOB, T4 + 20, dataMessage=data(T4 + 20, groupInfo=GROUP, reaction={
        "emoji": "👍", "targetAuthorNumber": BOB["sourceNumber"], "targetSentTimestamp": T3, "isRemove": False})),  # 8
    envelope(ALICE, T4 + 30, dataMessage=data(T4 + 30, expiresInSeconds=3600, isExpirationUpdate=True)),  # 9
    envelope(ALICE, T4 + 40, dataMessage=data(T4 + 40, expiresInSeconds=0, isExpirationUpdate=True)),  # 10
    {"envelope": {**BOB, "timestamp": T4 + 50,
                  "dataMessage": {"timestamp": T4 + 50, "message": None, "expiresInSeconds": 604800}},
     "account": ACCOUNT},  # 11: an older signal-cli without isExpirationUpdate
    {"jsonrpc": "2.0", "method": "receive", "params": {"envelope": {**BOB, "timestamp": T4 + 60, "dataMessage": data(
        T4 + 60, "via the JSON-RPC service", expiresInSeconds=604800)}, "account": ACCOUNT}},  # 12
    "{this line is not json",  # 13
    "",  # 14: blank
    envelope(ALICE, T4 + 70, editMessage={"targetSentTimestamp": T4, "dataMessage": data(T4 + 70, "sent without a number (fixed)",
                                                                                           groupInfo=GROUP)}),  # 15
    envelope(BOB, T4 + 80, callMessage={"offerMessage": {"id": 42, "type": "VIDEO_CALL", "opaque": "AAAA"}}),  # 16
    envelope(BOB, T4 + 90, dataMessage=data(T4 + 90, groupInfo=GROUP | {"type": "UPDATE"})),  # 17
    envelope(ME, T4 + 100, syncMessage={"sentMessage": {
        "destination": None, "destinationNumber": None, "destinationUuid": None,
        **data(T4 + 100, "Photo for the team", groupInfo=GROUP,
               attachments=[{"contentType": "image/jpeg", "filename": None, "id": "NotSaved99.jpg", "size": 1000}])}}),  # 18
    envelope(ME, T4 + 110, syncMessage={"readMessages": [{"sender": ALICE["sourceNumber"], "timestamp": T1}]}),  # 19: skipped
]


def _write_log(path: Path, lines: list[dict | str] = LINES) -> Path:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines) + "\n",
                    encoding="utf-8")
    return path


def _write_folder(root: Path) -> Path:
    (root / "attachments").mkdir(parents=True)
    _write_log(root / "messages.jsonl")
    (root / "attachments" / "Xk3mG1AbCdEf.txt").write_bytes(NOTE_TEXT)
    return root


@pytest.fixture
def context(source_context):
    """Build a SourceContext for a file or folder (Tika at the configured URL)."""
    return lambda path, account=None: source_context(path, "Signal Unit", account=account)


def _read(path: Path, ctx: SourceContext) -> tuple[list[Item], list[Problem]]:
    produced = list(signal.read(path, ctx))
    return [p for p in produced if isinstance(p, Item)], [p for p in produced if isinstance(p, Problem)]


def _by_line(items: list[Item]) -> dict[int, Item]:
    return {int(i.locator.rpartition("line[")[2].split("]")[0]): i for i in items if i.kind == "message"}


def test_accepts_signal_cli_logs_and_folders_only(tmp_path):
    log = _write_log(tmp_path / "receive.jsonl")
    single = _write_log(tmp_path / "one.json", LINES[:1])
    folder = _write_folder(tmp_path / "signal-export")
    bare_folder = tmp_path / "no-attachments"
    bare_folder.mkdir()
    _write_log(bare_folder / "receive.jsonl")
    other = tmp_path / "other.jsonl"
    other.write_text('{"event": "login", "user": "x"}\n{"event": "logout"}\n')
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(LINES[0], indent=2))
    for path in (log, single, folder):
        head = b"" if path.is_dir() else path.read_bytes()[:4096]
        assert signal.accepts(path, head) == 85 and choose(path, head) is signal
    for path in (bare_folder, other, pretty):
        head = b"" if path.is_dir() else path.read_bytes()[:4096]
        assert signal.accepts(path, head) == 0


def test_messages_senders_times_and_conversations(tmp_path, context):
    path = _write_log(tmp_path / "receive.jsonl")
    items, problems = _read(path, context(path))
    lines = _by_line(items)
    assert sorted(lines) == [1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18]  # typing, receipts, read syncs skipped
    first = lines[1]
    assert first.body == "Hello from Signal\nsecond line" and first.channel == "signal" and first.kind == "message"
    assert (first.date, first.date_original) == ("2021-06-01T09:00:00.123000Z", str(T1))
    assert first.timezone == "+01:00"  # an epoch time, shown in the source's zone (London, summer)
    assert (first.sender.raw, first.sender.name, first.sender.address) == ("+447700900111", "Alice", "+447700900111")
    sent = lines[4]
    assert (sent.sender.raw, sent.sender.address) == (ACCOUNT, ACCOUNT)
    assert [a.address for a in sent.to] == ["+447700900111"]
    assert sent.in_reply_to == first.id  # the quote points at the quoted message's item
    direct = {lines[n].conversation_id for n in (1, 4, 7, 9, 10)}
    group = {lines[n].conversation_id for n in (5, 6, 8, 15, 17, 18)}
    assert len(direct) == 1 and len(group) == 1 and direct != group
    assert [lines[n].seq for n in (1, 4, 7, 9, 10)] == [0, 1, 2, 3, 4]
    assert {lines[n].conversation_name for n in (1, 4)} == {"Alice"} and lines[5].conversation_name == "Falcon Team"
    uuid_only = lines[6].sender
    # a uuid-only envelope is mapped to the number another line gave for that uuid
    assert (uuid_only.raw, uuid_only.address, uuid_only.name) == ("+447700900111", "+447700900111", "Alice")
    assert {p.address for p in lines[5].participants} == {ACCOUNT, "+447700900111", "+447700900222"}
    assert [(p.locator, p.code) for p in problems] == [("line[13]", errors.Corrupt.code)]


def test_deletes_reactions_edits_timers_calls_and_group_updates_are_events(tmp_path, context):
    path = _write_log(tmp_path / "receive.jsonl")
    lines = _by_line(_read(path, context(path))[0])
    assert (lines[7].event, lines[7].body, lines[7].in_reply_to) == ("deleted", "This message was deleted", lines[1].id)
    assert (lines[8].event, lines[8].body, lines[8].in_reply_to) == ("other_system", "reacted 👍", lines[5].id)
    assert (lines[9].event, lines[10].event, lines[11].event) == ("disappearing_on", "disappearing_off", "disappearing_on")
    assert lines[9].body == "set disappearing messages to 3600 seconds"
    assert (lines[12].event, lines[12].body) == (None, "via the JSON-RPC service")  # same timer as before: no event
    assert (lines[15].event, lines[15].body, lines[15].in_reply_to) == ("edited", "sent without a number (fixed)", lines[6].id)
    assert (lines[16].event, lines[16].body, lines[16].sender.name) == ("call", "video call offered", "Bob")
    assert (lines[17].event, lines[17].body) == ("other_system", "updated the group")


def test_a_bare_log_names_attachments_without_reading_them(tmp_path, context):
    path = _write_log(tmp_path / "receive.jsonl")
    items, problems = _read(path, context(path))
    lines = _by_line(items)
    assert lines[5].attachment_names == ["minutes.txt"] and lines[18].attachment_names == ["NotSaved99.jpg"]
    assert not [i for i in items if i.kind == "attachment"]
    assert all(p.code == errors.Corrupt.code for p in problems)


def test_folder_attachments_are_extracted_and_missing_ones_reported(tmp_path, context, services):
    folder = _write_folder(tmp_path / "signal-export")
    items, problems = _read(folder, context(folder))
    message = next(i for i in items if i.body == "Group hello")
    assert message.locator == "messages.jsonl:line[5]"
    children = [i for i in items if i.parent_id == message.id]
    assert [(c.kind, c.file_name, c.family_id, c.locator) for c in children] == [
        ("attachment", "minutes.txt", message.id, "messages.jsonl:line[5]/attachment[1]")]
    assert "marmaladewren" in children[0].body
    missing = {(p.locator, p.code) for p in problems}
    assert ("messages.jsonl:line[18]/attachment[1]", errors.Unreadable.code) in missing
    assert ("messages.jsonl:line[13]", errors.Corrupt.code) in missing


def test_the_custodians_account_is_the_sender_when_the_log_has_none(tmp_path, context):
    sent = envelope(ME, T2, syncMessage={"sentMessage": {"destinationNumber": "07700 900111", **data(T2, "no account field")}})
    del sent["account"]
    path = _write_log(tmp_path / "receive.jsonl", [sent])
    items, _ = _read(path, context(path, account="+44 7700 900999"))
    assert (items[0].sender.raw, items[0].sender.address) == ("+44 7700 900999", ACCOUNT)
    assert items[0].conversation_name == "07700 900111" and items[0].to[0].address == "+447700900111"


def test_folder_ingests_as_one_unit_and_attachment_text_is_searchable(tmp_path, ingest_files, services, settings):
    custodian = f"Signal Gen {uuid.uuid4().hex[:6]}"
    _write_folder(tmp_path / "evidence" / "signal-export")
    summary, report = ingest_files([tmp_path / "evidence"], custodian=custodian)
    assert summary.files == 1 and summary.items_by_kind["message"] == 14 and summary.items_by_kind["attachment"] == 1
    assert {(e["locator"], e["code"]) for e in report} == {
        ("messages.jsonl:line[13]", errors.Corrupt.code), ("messages.jsonl:line[18]/attachment[1]", errors.Unreadable.code)}

    def search(q: str) -> list[dict]:
        return run_search(services, settings.items_alias, SearchRequest(q=q, size=10, custodian=[custodian]))["hits"]

    hit = search("marmaladewren")
    assert len(hit) == 1 and hit[0]["kind"] == "attachment" and hit[0]["channel"] == "signal"
    parent = services.get(index=settings.items_alias, id=hit[0]["parent_id"])["_source"]
    assert parent["body"] == "Group hello" and parent["conversation_name"] == "Falcon Team"
    assert len(search('"second line"')) == 1


def test_deeply_nested_and_out_of_range_lines_are_corrupt_and_the_rest_indexed(tmp_path, context):
    path = tmp_path / "hostile.jsonl"
    lines = [json.dumps(envelope(ALICE, T1, dataMessage=data(T1, "first message"))),
             '{"a":' * 100_000 + "1" + "}" * 100_000,
             json.dumps(envelope(BOB, 10**300, dataMessage=data(10**300, "from the far future"))),
             json.dumps(envelope(BOB, T2, dataMessage=data(T2, "last message")))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items, problems = _read(path, context(path))
    assert [i.body for i in items] == ["first message", "last message"]
    assert [(p.locator, p.code) for p in problems] == [("line[2]", errors.Corrupt.code), ("line[3]", errors.Corrupt.code)]
    assert "nested too deeply" in problems[0].reason


# --- signal-export Markdown (Signal Desktop) ----------------------------------------------------

SIGNAL_EXPORT_CHAT = (
    "[2021-03-14 09:12:05] Me: Are the survey results in?\n"
    "[2021-03-14 09:15:40] Aya: Yes, the curlewmarsh figures are attached\n"
    "![2021-03-14T09-15-40.000_00_figures.png](./media/2021-03-14T09-15-40.000_00_figures.png)  \n"
    "[2021-03-14 09:16:02] Jim: (This message was deleted)\n"
)


def test_signal_export_markdown_is_reported_unsupported_not_taken_for_whatsapp(tmp_path, source_context):
    from indexer.sources import signal_export, whatsapp

    chat = tmp_path / "Aya" / "chat.md"
    chat.parent.mkdir()
    chat.write_text(SIGNAL_EXPORT_CHAT, encoding="utf-8")
    head = chat.read_bytes()[:4096]
    assert whatsapp.accepts(chat, head) > 0  # the lines alone look like an iOS WhatsApp export
    assert choose(chat, head) is signal_export
    produced = list(signal_export.read(chat, source_context(chat, "Signal Export Tester")))
    items = [p for p in produced if isinstance(p, Item)]
    problems = [p for p in produced if isinstance(p, Problem)]
    assert [(i.kind, i.channel, i.file_name) for i in items] == [("document", "file", "chat.md")]
    assert "curlewmarsh" in items[0].body  # nothing lost: the text is searchable
    assert [(p.code, p.locator, p.item_id) for p in problems] == [(errors.Unsupported.code, "", items[0].id)]
    assert "signal-export" in problems[0].reason
    notes = tmp_path / "notes.md"
    notes.write_text("# Meeting notes\n[2021-03-14 09:12] agenda: budget\n", encoding="utf-8")
    assert signal_export.accepts(notes, notes.read_bytes()) == 0
