"""Telegram Desktop JSON exports: generated single-chat and full-account result.json files in every
layout users hand over (bare file, folder, zip, zip with a top folder), service events, media,
and bad input. (No real Telegram export with a compatible licence is in the shared corpora.)"""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from indexer import errors
from indexer.model import Item, Problem, stable_id
from indexer.sources import choose, telegram
from indexer.sources.base import Limits, SourceContext
from search_api.search import SearchRequest, run_search

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
NOTE_TEXT = b"Minutes of the meeting: the codeword is periwinklefjord."


def unix(*parts: int) -> str:
    """Telegram's `date_unixtime` for a UTC wall time."""
    return str(int(datetime(*parts, tzinfo=timezone.utc).timestamp()))


PERSONAL = {"name": "Alice Example", "type": "personal_chat", "id": 4321, "messages": [
    {"id": 1, "type": "message", "date": "2020-03-01T10:00:00", "date_unixtime": unix(2020, 3, 1, 10, 0),
     "from": "Alice Example", "from_id": "user111", "text": "Morning!\nSecond line", "text_entities": []},
    {"id": 2, "type": "message", "date": "2020-07-01T11:05:00", "date_unixtime": unix(2020, 7, 1, 10, 5),
     "edited": "2020-07-01T11:06:00", "edited_unixtime": unix(2020, 7, 1, 10, 6),
     "from": "Bob Custodian", "from_id": "user222", "reply_to_message_id": 1,
     "text": ["See ", {"type": "bold", "text": "the plan"}, " at ",
              {"type": "text_link", "text": "this page", "href": "https://example.org/plan"},
              " or ", {"type": "link", "text": "https://example.org"}, ", call ", {"type": "phone", "text": "+44 7700 900123"}]},
    {"id": 3, "type": "message", "date": "2020-07-01T11:10:00", "date_unixtime": unix(2020, 7, 1, 10, 10),
     "from": "Alice Example", "from_id": "user111", "file": "files/notes.txt", "file_name": "notes.txt",
     "mime_type": "text/plain", "text": "Minutes attached"},
    {"id": 4, "type": "message", "date": "2020-07-01T11:11:00", "date_unixtime": unix(2020, 7, 1, 10, 11),
     "from": "Alice Example", "from_id": "user111", "file": NOT_INCLUDED, "file_name": "holiday.mp4",
     "media_type": "video_file", "mime_type": "video/mp4", "text": ""},
    {"id": 5, "type": "service", "date": "2020-07-01T11:12:00", "date_unixtime": unix(2020, 7, 1, 10, 12),
     "actor": "Bob Custodian", "actor_id": "user222", "action": "phone_call", "duration_seconds": 42,
     "discard_reason": "hangup", "text": ""},
    {"id": 6, "type": "message", "date": "2020-07-01T12:00:00", "from": "+44 7700 900123", "from_id": "user333",
     "text": "Old export without unix time"},
    {"id": 7, "type": "message", "date": "2020-07-01T12:01:00", "date_unixtime": unix(2020, 7, 1, 11, 1),
     "from": "Alice Example", "from_id": "user111", "photo": "photos/missing.jpg", "text": "lost photo"},
]}

def service(number: int, actor: str, action: str, **extra) -> dict:
    """A service message in the group, one minute after the previous one."""
    actor_id = {"Bob Custodian": "user222", "Dave Brown": "user444", "Erin Green": "user555"}[actor]
    minute = number - 10
    return {"id": number, "type": "service", "date": f"2021-01-05T09:{minute:02d}:00",
            "date_unixtime": unix(2021, 1, 5, 9, minute), "actor": actor, "actor_id": actor_id, "action": action, "text": "",
            **extra}


POLL = {"question": "Which venue?", "closed": False, "total_voters": 0,
        "answers": [{"text": "Leeds", "voters": 0, "chosen": False}]}
GROUP = {"name": "Project Falcon", "type": "private_supergroup", "id": 999, "messages": [
    service(10, "Bob Custodian", "create_group", title="Falcon", members=["Alice Example", "Carol Jones"]),
    service(11, "Bob Custodian", "invite_members", members=["Dave Brown"]),
    {"id": 12, "type": "message", "date": "2021-01-05T09:02:00", "date_unixtime": unix(2021, 1, 5, 9, 2), "from": "Dave Brown",
     "from_id": "user444", "text": "Thanks for adding me"},
    service(13, "Dave Brown", "remove_members", members=["Dave Brown"]),
    service(14, "Bob Custodian", "remove_members", members=["Carol Jones"]),
    service(15, "Bob Custodian", "edit_group_title", title="Project Falcon"),
    service(16, "Bob Custodian", "edit_group_photo", photo="chats/chat_002/photos/photo_1.jpg"),
    service(17, "Erin Green", "join_group_by_link", inviter="Bob Custodian"),
    {"id": 18, "type": "message", "date": "2021-01-05T09:08:00", "date_unixtime": unix(2021, 1, 5, 9, 8), "from": "Bob Custodian",
     "from_id": "user222", "text": "Launch moved to Friday", "poll": POLL},
    service(19, "Bob Custodian", "pin_message", message_id=18),
    service(20, "Bob Custodian", "set_messages_ttl", period=86400),
    service(21, "Bob Custodian", "set_messages_ttl", period=0),
    service(22, "Bob Custodian", "group_call", duration=300),
    service(23, "Bob Custodian", "migrate_to_supergroup"),
    {"id": 24, "type": "unsupported"},
]}

LEFT = {"name": "Old Channel", "type": "public_channel", "id": 777, "messages": [
    {"id": 1, "type": "message", "date": "2019-12-31T23:59:00", "date_unixtime": unix(2019, 12, 31, 23, 59),
     "from": "Old Channel", "from_id": "channel777", "text": "Happy new year"},
]}

FULL = {
    "about": "Here is the data you requested.",
    "personal_information": {"user_id": 222, "first_name": "Bob", "last_name": "Custodian",
                             "phone_number": "+44 7700 900222", "username": "@bob", "bio": ""},
    "contacts": {"about": "contacts",
                 "list": [{"first_name": "Alice", "last_name": "Example", "phone_number": "+44 7700 900111"}]},
    "chats": {"about": "chats", "list": [PERSONAL | {"messages": PERSONAL["messages"][:2]}, GROUP]},
    "left_chats": {"about": "left", "list": [LEFT]},
}


def _write_folder(root: Path, export: dict = PERSONAL) -> Path:
    (root / "files").mkdir(parents=True)
    (root / "result.json").write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    (root / "files" / "notes.txt").write_bytes(NOTE_TEXT)
    return root


def _write_zip(path: Path, prefix: str = "", extra: dict[str, bytes] | None = None) -> Path:
    members = {"result.json": json.dumps(PERSONAL, indent=1).encode(), "files/notes.txt": NOTE_TEXT}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(prefix + name, data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def _write_json(path: Path, export: dict) -> Path:
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def context(source_context):
    """Build a SourceContext for a file or folder (Tika at the configured URL)."""
    return lambda path, limits=Limits(): source_context(path, "Telegram Unit", limits=limits)


def _read(path: Path, ctx: SourceContext) -> tuple[list[Item], list[Problem]]:
    produced = list(telegram.read(path, ctx))
    return [p for p in produced if isinstance(p, Item)], [p for p in produced if isinstance(p, Problem)]


@pytest.fixture(params=["folder", "zip", "zip-in-folder"])
def bundle(request, tmp_path) -> Path:
    """The single-chat export with its media, in each bundled layout."""
    if request.param == "folder":
        return _write_folder(tmp_path / "ChatExport_2020-07-02")
    return _write_zip(tmp_path / "telegram.zip", prefix="ChatExport_2020-07-02/" if request.param == "zip-in-folder" else "")


# --- recognition ---------------------------------------------------------------------------


def test_accepts_every_layout_and_rejects_other_json_and_zips(tmp_path, bundle):
    bare = _write_json(tmp_path / "result.json", PERSONAL)
    full = _write_json(tmp_path / "full.json", FULL)
    other = _write_json(tmp_path / "other.json", {"messages": ["not telegram"], "id": 1})
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("channels.json", "[]")
    for path in (bare, full, bundle):
        head = b"" if path.is_dir() else path.read_bytes()[:4096]
        assert telegram.accepts(path, head) == 90
        assert choose(path, head) is telegram
    plain_folder = tmp_path / "holiday photos"
    plain_folder.mkdir()
    for path in (other, other_zip, plain_folder):
        head = b"" if path.is_dir() else path.read_bytes()[:4096]
        assert telegram.accepts(path, head) == 0


# --- messages ------------------------------------------------------------------------------


def test_single_chat_messages_senders_times_and_bodies(tmp_path, context):
    path = _write_json(tmp_path / "result.json", PERSONAL)
    items, problems = _read(path, context(path))
    assert [i.locator for i in items] == [f"messages[{n}]" for n in range(7)]
    assert [i.seq for i in items] == list(range(7))
    assert {i.conversation_id for i in items} == {items[0].conversation_id} and items[0].conversation_id.startswith("telegram:")
    assert {i.conversation_name for i in items} == {"Alice Example"}
    first, second, _, omitted, call, old, lost = items
    assert first.body == "Morning!\nSecond line"
    assert (first.date, first.date_original, first.timezone) == ("2020-03-01T10:00:00Z", "2020-03-01T10:00:00", "+00:00")
    assert first.sender.raw == "Alice Example" and first.sender.address == "user111"
    assert second.body == "See the plan at this page (https://example.org/plan) or https://example.org, call +44 7700 900123"
    assert (second.date, second.timezone) == ("2020-07-01T10:05:00Z", "+01:00")  # the exporter's offset, from date vs unixtime
    assert second.event == "edited"
    assert second.in_reply_to == first.id == stable_id(first.source_sha256, "messages[0]", first.custody)
    assert (omitted.event, omitted.attachment_names, omitted.body) == ("media_omitted", ["holiday.mp4"], "")
    assert call.event == "call" and call.body == "Bob Custodian phone call (42 s, hangup)"
    assert call.sender.raw == "Bob Custodian" and call.sender.address == "user222"
    assert (old.date, old.timezone, old.date_original) == ("2020-07-01T11:00:00Z", "+01:00", "2020-07-01T12:00:00")
    assert old.sender.raw == "+44 7700 900123" and old.sender.address == "+447700900123"  # a phone-named sender is normalised
    assert lost.attachment_names == ["missing.jpg"] and lost.event is None
    people = {p.raw for p in first.participants}
    assert people == {"Alice Example", "Bob Custodian", "+44 7700 900123"}
    assert problems == []  # a bare result.json names media but never reads them: nothing to report


def test_full_export_service_messages_become_events(tmp_path, context):
    path = _write_json(tmp_path / "result.json", FULL)
    items, problems = _read(path, context(path))
    group = [i for i in items if i.locator.startswith("chats.list[1].")]
    events = {i.locator.rpartition("[")[2].rstrip("]"): (i.event, i.body) for i in group}
    assert events["0"] == ("other_system", "Bob Custodian created the group Falcon")
    assert events["1"] == ("added", "Bob Custodian added Dave Brown")
    assert events["3"] == ("left", "Dave Brown left the group")
    assert events["4"] == ("removed", "Bob Custodian removed Carol Jones")
    assert events["5"] == ("subject_changed", "Bob Custodian changed the group name to Project Falcon")
    assert events["6"][0] == "icon_changed" and events["7"] == ("joined", "Erin Green joined the group via an invite link")
    assert events["8"] == (None, "Launch moved to Friday\nPoll: Which venue?\n- Leeds")
    assert events["9"][0] == "pinned"
    assert events["10"] == ("disappearing_on", "Bob Custodian set messages to auto-delete after 86400 seconds")
    assert events["11"][0] == "disappearing_off" and events["12"] == ("call", "Bob Custodian group call (300 s)")
    assert events["13"][0] == "other_system"
    pinned = next(i for i in group if i.locator.endswith("[9]"))
    assert pinned.in_reply_to == next(i for i in group if i.locator.endswith("[8]")).id
    assert [p.locator for p in problems] == ["chats.list[1].messages[14]"] and problems[0].code == errors.Unsupported.code
    owner = next(i for i in group if i.locator.endswith("[8]")).sender
    assert (owner.raw, owner.name, owner.address) == ("Bob Custodian", "Bob Custodian", "+447700900222")
    names = {p.name or p.raw for p in group[0].participants}
    assert {"Bob Custodian", "Alice Example", "Carol Jones", "Dave Brown", "Erin Green"} <= names
    left = [i for i in items if i.locator.startswith("left_chats.list[0].")]
    assert [(i.body, i.conversation_name, i.date) for i in left] == [("Happy new year", "Old Channel", "2019-12-31T23:59:00Z")]
    conversations = {i.locator.split(".messages")[0]: i.conversation_id for i in items}
    assert len(set(conversations.values())) == 3


# --- media ---------------------------------------------------------------------------------


def test_bundled_media_is_extracted_and_linked_to_its_message(bundle, context, services):
    items, problems = _read(bundle, context(bundle))
    message = next(i for i in items if i.body == "Minutes attached")
    children = [i for i in items if i.parent_id == message.id]
    assert len(children) == 1
    child = children[0]
    assert (child.kind, child.file_name, child.family_id) == ("attachment", "notes.txt", message.id)
    assert child.locator == "messages[2]/attachment[1]"
    assert "periwinklefjord" in child.body
    assert message.attachment_names == ["notes.txt"]
    lost = next(i for i in items if i.body == "lost photo")
    assert [(p.locator, p.code) for p in problems] == [("messages[6]/attachment[1]", errors.Unreadable.code)]
    assert problems[0].item_id == lost.id and lost.problems
    omitted = next(i for i in items if i.event == "media_omitted")
    assert not [i for i in items if i.parent_id == omitted.id]


def test_zip_ingests_and_attachment_text_is_searchable(tmp_path, ingest_files, services, settings):
    custodian = f"Telegram Gen {uuid.uuid4().hex[:6]}"
    summary, report = ingest_files([_write_zip(tmp_path / "telegram.zip", prefix="ChatExport/")], custodian=custodian)
    assert summary.files == 1 and summary.items_by_kind["message"] == 7 and summary.items_by_kind["attachment"] == 1
    assert [(e["locator"], e["code"]) for e in report] == [("messages[6]/attachment[1]", errors.Unreadable.code)]

    def search(q: str) -> list[dict]:
        return run_search(services, settings.items_alias, SearchRequest(q=q, size=10, custodian=[custodian]))["hits"]

    hit = search("periwinklefjord")
    assert len(hit) == 1 and hit[0]["kind"] == "attachment" and hit[0]["channel"] == "telegram"
    parent = services.get(index=settings.items_alias, id=hit[0]["parent_id"])["_source"]
    assert parent["body"] == "Minutes attached" and parent["conversation_name"] == "Alice Example"
    assert len(search("holiday.mp4")) == 1  # an omitted file is findable by name


def test_folder_is_ingested_as_one_unit(tmp_path, ingest_files):
    _write_folder(tmp_path / "evidence" / "ChatExport")
    summary, _ = ingest_files([tmp_path / "evidence"], custodian=f"Telegram Folder {uuid.uuid4().hex[:6]}")
    assert summary.files == 1 and summary.items_by_kind["message"] == 7 and summary.items_by_kind["attachment"] == 1


# --- bad input -----------------------------------------------------------------------------


def test_truncated_json_keeps_earlier_messages_and_reports_where(tmp_path, context):
    text = json.dumps(PERSONAL, indent=1)
    path = tmp_path / "result.json"
    path.write_text(text[: text.index('"id": 4,')], encoding="utf-8")
    items, problems = _read(path, context(path))
    assert [i.locator for i in items] == ["messages[0]", "messages[1]", "messages[2]"]
    assert len(problems) == 1 and problems[0].code == errors.Corrupt.code
    assert problems[0].locator == "after messages[2]"  # the last complete message


def test_bad_message_structure_is_reported_and_the_rest_indexed(tmp_path, context):
    broken = {"name": "X", "type": "personal_chat", "id": 1, "messages": [
        "not an object",
        {"id": 2, "type": "message", "date": "2020-01-01T00:00:00", "date_unixtime": "1577836800",
         "from": "A", "from_id": "user1", "text": "still here"},
    ]}
    path = _write_json(tmp_path / "result.json", broken)
    items, problems = _read(path, context(path))
    assert [i.body for i in items] == ["still here"]
    assert [(p.locator, p.code) for p in problems] == [("messages[0]", errors.Corrupt.code)]


def test_unsafe_zip_members_and_escaping_media_paths_are_reported_not_read(tmp_path, context):
    export = PERSONAL | {"messages": [
        {"id": 1, "type": "message", "date": "2020-01-01T00:00:00", "date_unixtime": "1577836800",
         "from": "A", "from_id": "user1", "file": "../secret.txt", "text": "escape attempt"}]}
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("result.json", json.dumps(export))
        archive.writestr("../secret.txt", "outside")
        archive.writestr("/etc/passwd.txt", "outside")
    items, problems = _read(path, context(path))
    assert [i.body for i in items] == ["escape attempt"] and not [i for i in items if i.kind == "attachment"]
    codes = {p.locator: p.code for p in problems}
    assert codes["../secret.txt"] == errors.UnsafePath.code and codes["/etc/passwd.txt"] == errors.UnsafePath.code
    assert codes["messages[0]/attachment[1]"] == errors.Unsupported.code
    assert not (tmp_path.parent / "secret.txt").exists()


def test_media_above_the_size_limit_is_reported_not_read(tmp_path, context):
    path = _write_zip(tmp_path / "telegram.zip")
    items, problems = _read(path, context(path, Limits(max_attachment_bytes=10)))
    assert not [i for i in items if i.kind == "attachment"]
    assert ("messages[2]/attachment[1]", errors.TooLarge.code) in {(p.locator, p.code) for p in problems}
    assert len([i for i in items if i.kind == "message"]) == 7  # result.json itself is streamed, not size-limited


def test_damaged_zip_raises_corrupt(tmp_path, context):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(errors.Corrupt):
        list(telegram.read(path, context(path)))


def test_zipped_result_json_that_inflates_like_a_bomb_is_refused(tmp_path, context):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        padding = " " * (11 << 20)  # 11 MB of blanks deflate to a few KB
        opening = '{"name": "X", "type": "personal_chat", "id": 1, "messages": [{"from_id": "user1"}'
        archive.writestr("result.json", opening + padding + "]}")
    assert choose(path, path.read_bytes()[:4096]) is telegram
    with pytest.raises(errors.TooLarge):
        list(telegram.read(path, context(path)))


def test_json_nested_too_deeply_is_corrupt_without_quadratic_memory(tmp_path, context):
    path = tmp_path / "result.json"
    message = {"id": 1, "type": "message", "date": "2020-01-01T00:00:00", "date_unixtime": "1577836800",
               "from": "A", "from_id": "user1", "text": "before the bomb"}
    head = json.dumps({"name": "X", "type": "personal_chat", "id": 1, "messages": [message]})[:-2]
    # 200,000 levels: ijson's own prefix tracking would need gigabytes before the first event.
    path.write_text(head + ', {"text": ' + "[" * 200_000 + "]" * 200_000 + "}]}", encoding="utf-8")
    items, problems = _read(path, context(path))
    assert [i.body for i in items] == ["before the bomb"]
    assert [(p.locator, p.code) for p in problems] == [("after messages[0]", errors.Corrupt.code)]
    assert "nested more than" in problems[0].reason


def test_export_without_a_messages_array_is_reported_not_dropped(tmp_path, context):
    path = _write_json(tmp_path / "result.json", {"name": "X", "type": "personal_chat", "id": 1, "messages": {"a": 1}})
    items, problems = _read(path, context(path))
    assert items == []
    assert [(p.code, "holds no messages" in p.reason) for p in problems] == [(errors.Corrupt.code, True)]
