"""Slack workspace exports: the real slack-export-viewer test archive (marked `corpora`), and generated exports
(zip, zip with a top folder, unpacked folder) covering threads, DMs, subtypes, files and bad input."""

from __future__ import annotations

import json
import uuid
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources import choose, slack
from indexer.sources.base import Limits, SourceContext
from search_api.search import SearchRequest, run_search

SAMPLE = "slack/slackexportviewer-testarchive.zip"

USERS = [
    {"id": "U01", "name": "alice", "real_name": "Alice Example",
     "profile": {"real_name": "Alice Example", "display_name": "alice", "email": "Alice@Example.org"}},
    {"id": "U02", "name": "bobby", "profile": {"real_name": "", "display_name": "Bob E", "email": ""}},
    {"id": "U03", "name": "carol", "real_name": "Carol Example",
     "profile": {"real_name": "Carol Example", "display_name": "carol", "phone": "+44 7700 900123"}},
]
CHANNELS = [{"id": "C01", "name": "general", "members": ["U01", "U02", "U03"]},
            {"id": "C02", "name": "random", "members": ["U01", "U02"]}]
GROUPS = [{"id": "G01", "name": "secret-project", "members": ["U01", "U03"]}]
DMS = [{"id": "D01", "members": ["U01", "U02"]}]
MPIMS = [{"id": "G02", "name": "mpdm-alice--bobby--carol-1", "members": ["U01", "U02", "U03"]}]
NESTED = "Acme Slack export/"  # the top folder of a zip made by zipping the unpacked folder
PARENT_TS = "1577872800.000200"  # 2020-01-01 10:00:00 UTC

DAY1 = [
    {"type": "message", "subtype": "channel_join", "user": "U01", "text": "<@U01> has joined the channel", "ts": "1577872800.000100"},
    {"type": "message", "user": "U01", "ts": PARENT_TS, "thread_ts": PARENT_TS, "reply_count": 2,
     "text": "Kick-off at 10 &amp; bring the &lt;draft&gt; to <#C02|random>, see <http://example.org/plan|the plan> "
             "or <https://example.org/raw>, cc <@U02> <!here> <#C01>"},
    {"type": "message", "user": "U02", "ts": "1577872860.000300", "thread_ts": PARENT_TS, "text": "Agreed, zanzibarquokka"},
    {"type": "message", "user": "U01", "ts": "1577872920.000400", "text": "Minutes and budget attached",
     "files": [
         {"id": "F01", "name": "minutes.txt", "title": "Minutes", "mimetype": "text/plain", "url_private": "https://files.slack.invalid/F01"},
         {"id": "F02", "name": "budget.txt", "title": "Budget", "mimetype": "text/plain", "url_private": "https://files.slack.invalid/F02"},
         {"id": "F03", "name": "secret.pdf", "title": "Secret", "mimetype": "application/pdf", "url_private": "https://files.slack.invalid/F03"},
     ]},
    {"type": "message", "subtype": "bot_message", "bot_id": "B01", "username": "deploybot", "ts": "1577872980.000500",
     "text": "", "attachments": [{"pretext": "Deploy finished", "title": "Build 42", "text": "all green",
                                   "fields": [{"title": "Env", "value": "prod"}]}]},
    {"type": "message", "user": "U02", "ts": "1577873040.000600", "text": "fixed typo", "edited": {"user": "U02", "ts": "1577873100.000000"}},
    {"type": "message", "subtype": "message_changed", "ts": "1577873160.000700", "hidden": True,
     "message": {"type": "message", "user": "U03", "text": "corrected wording", "ts": "1577873000.000000"},
     "previous_message": {"type": "message", "user": "U03", "text": "wrong wording", "ts": "1577873000.000000"}},
    {"type": "message", "subtype": "tombstone", "user": "USLACKBOT", "hidden": True, "ts": "1577873220.000800", "text": "This message was deleted."},
    {"type": "message", "subtype": "pinned_item", "user": "U01", "ts": "1577873280.000900", "text": "<@U01> pinned a message to this channel."},
    {"type": "message", "subtype": "channel_topic", "user": "U01", "ts": "1577873340.001000", "text": "<@U01> set the channel topic: Launch"},
    {"type": "message", "subtype": "channel_purpose", "user": "U01", "ts": "1577873400.001100", "text": "<@U01> set the channel purpose: Plans"},
    {"type": "message", "subtype": "channel_name", "user": "U01", "ts": "1577873460.001200", "text": "<@U01> renamed the channel from \"gen\" to \"general\""},
    {"type": "message", "subtype": "channel_leave", "user": "U03", "ts": "1577873520.001300", "text": "<@U03> has left the channel"},
    {"type": "message", "subtype": "bot_add", "user": "U01", "bot_id": "B01", "ts": "1577873580.001400", "text": "added an integration"},
    {"type": "message", "user": "U03", "ts": "1577873640.001500", "text": "line one\nline two"},
]
DAY1_EVENTS = [
    "joined", None, None, None, None, None, "edited", "deleted", "pinned",
    "subject_changed", "subject_changed", "subject_changed", "left", "other_system", None,
]
DAY2 = [
    {"type": "message", "user": "U03", "ts": "1577959200.000100", "thread_ts": PARENT_TS, "text": "Late reply in the thread"},
    {"type": "message", "user": "U01", "ts": "1577959260.000200", "text": "Not in any thread"},
]
DAY4 = ["not an object", {"type": "message", "user": "U02", "ts": "yesterday", "text": "odd time"},
        {"type": "message", "user": "U01", "ts": "1578132000", "text": "after the bad day"}]
FILES = {"general/minutes.txt": b"The quorum word is xylophonequince.\n", "files/budget.txt": b"Budget line: plumcrumbet 1200\n"}


def _export_members() -> dict[str, bytes]:
    """The members of the generated export, by relative path."""
    as_json = lambda value: json.dumps(value, indent=1).encode()  # noqa: E731
    members = {
        "users.json": as_json(USERS), "channels.json": as_json(CHANNELS), "groups.json": as_json(GROUPS),
        "dms.json": as_json(DMS), "mpims.json": as_json(MPIMS),
        "general/2020-01-01.json": as_json(DAY1), "general/2020-01-02.json": as_json(DAY2),
        "general/2020-01-03.json": b'[{"type": "message", "user": "U01", "text": "cut off',
        "general/2020-01-04.json": as_json(DAY4),
        "D01/2020-01-05.json": as_json([{"type": "message", "user": "U01", "ts": "1578218400.000100", "text": "Just us"},
                                        {"type": "message", "user": "U02", "ts": "1578218460.000200", "text": "Indeed"}]),
        "mpdm-alice--bobby--carol-1/2020-01-05.json": as_json([{"type": "message", "user": "U03", "ts": "1578218520.000100", "text": "All three"}]),
        "secret-project/2020-01-05.json": as_json([{"type": "message", "user": "U03", "ts": "1578218580.000100", "text": "Private plans"}]),
    }
    return members | FILES


def _write_folder(root: Path) -> Path:
    for name, data in _export_members().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def _write_zip(path: Path, prefix: str = "", extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (_export_members() | (extra or {})).items():
            archive.writestr(name if name.startswith("/") or name.startswith("..") else prefix + name, data)
    return path


@pytest.fixture
def context(source_context):
    """Build a SourceContext for a file or folder (Tika at the configured URL)."""
    return lambda path, limits=Limits(): source_context(path, "Slack Unit", limits=limits)


def _read(path: Path, ctx: SourceContext) -> tuple[list[Item], list[Problem]]:
    produced = list(slack.read(path, ctx))
    return [p for p in produced if isinstance(p, Item)], [p for p in produced if isinstance(p, Problem)]


@pytest.fixture(params=["folder", "zip", "zip-in-folder"])
def export(request, tmp_path) -> Path:
    """The generated export in each layout Slack users hand over."""
    if request.param == "folder":
        return _write_folder(tmp_path / "Acme Slack export")
    if request.param == "zip":
        return _write_zip(tmp_path / "acme.zip")
    return _write_zip(tmp_path / "acme-nested.zip", prefix=NESTED)


def _at(export: Path, locator: str) -> str:
    """A locator as the reader writes it: the member's path, with the zip's top folder if it has one."""
    return (NESTED if export.name == "acme-nested.zip" else "") + locator


# --- the real sample -------------------------------------------------------------------------


def _sample_day_files(path: Path) -> dict[str, list[dict]]:
    """Independent reading of the sample: every day file's messages, by member name."""
    with zipfile.ZipFile(path) as archive:
        return {name: json.loads(archive.read(name)) for name in sorted(archive.namelist()) if name.count("/") == 1 and name.endswith(".json")}


@pytest.mark.corpora(sibling="test_accepts_exports_but_not_other_zips_or_folders")
def test_sample_is_claimed_by_the_slack_reader(corpora):
    path = corpora / SAMPLE
    assert choose(path, path.read_bytes()[:4096]) is slack


@pytest.mark.corpora(sibling=["test_messages_times_senders_and_events", "test_direct_messages_private_channels_and_group_dms"])
def test_sample_counts_per_channel_match_its_day_files(corpora, context):
    path = corpora / SAMPLE
    days = _sample_day_files(path)
    expected = Counter()
    for name, messages in days.items():
        expected["#" + name.split("/")[0]] += len(messages)
    items, problems = _read(path, context(path))
    assert problems == []
    assert Counter(i.conversation_name for i in items) == expected
    assert all(i.kind == "message" and i.channel == "slack" for i in items)
    for name in expected:
        seqs = [i.seq for i in items if i.conversation_name == name]
        assert seqs == list(range(expected[name]))
    joins = sum(1 for messages in days.values() for m in messages if m.get("subtype") == "channel_join")
    assert sum(1 for i in items if i.event == "joined") == joins
    assert len({i.conversation_id for i in items}) == len(expected)


@pytest.mark.corpora(sibling=["test_messages_times_senders_and_events", "test_bundled_files_are_extracted_and_linked_others_only_named"])
def test_sample_concrete_messages(corpora, context):
    path = corpora / SAMPLE
    items, _ = _read(path, context(path))
    by_locator = {i.locator: i for i in items}
    first = by_locator["enrique/2016-01-14.json#4"]
    assert first.sender.name == "Hamza Faran" and first.sender.address == "U0BMQB6JE"
    assert first.date == "2016-01-15T05:55:52.000006Z" and first.date_original == "1452837352.000006"
    assert first.body == "@Harry Potter: Created an issue for a setup.py so that it can be installed to a standard place"
    upload = by_locator["traveling-sailor/2016-03-26.json#10"]
    assert upload.sender.name == "Hermione Granger"
    assert upload.date == "2016-03-27T04:27:46.000012Z"
    assert upload.attachment_names == ["100_cities.js"]
    assert upload.body == ("@Hermione Granger uploaded a file: 100 cities "
                           "(https://mesos-magellan.slack.com/files/U0BMS113R/F0VNAKDE2/100_cities.js)")
    bot = by_locator["enrique/2016-02-07.json#2"]
    assert bot.sender.address == "B0JL6RASU" and bot.event is None
    assert bot.body.startswith("[enrique:master] 1 new commit by Anthony Bilinski:\ned1acbe (https://github.com/")


@pytest.mark.corpora(sibling="test_generated_zip_ingests_and_attachment_text_is_searchable")
def test_sample_ingests_and_is_searchable(corpora, ingest_files, services, settings):
    custodian = f"Slack Sample {uuid.uuid4().hex[:6]}"
    summary, report = ingest_files([corpora / SAMPLE], custodian=custodian)
    expected = sum(len(m) for m in _sample_day_files(corpora / SAMPLE).values())
    assert report == [] and summary.items_by_kind["message"] == expected
    hits = run_search(services, settings.items_alias, SearchRequest(q="ballybuck", size=10, custodian=[custodian]))["hits"]
    assert len(hits) == 1 and hits[0]["channel"] == "slack" and hits[0]["conversation_name"] == "#traveling-sailor"
    assert hits[0]["from"]["name"] == "Hermione Granger" and hits[0]["date"] == "2016-03-27T04:23:41.000011Z"


# --- generated exports ---------------------------------------------------------------------


def test_accepts_exports_but_not_other_zips_or_folders(export, tmp_path):
    head = b"" if export.is_dir() else export.read_bytes()[:4096]
    assert slack.accepts(export, head) > 0
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("holiday/users.txt", "x")
    assert slack.accepts(other, other.read_bytes()[:4096]) == 0
    (tmp_path / "plain").mkdir()
    assert slack.accepts(tmp_path / "plain", b"") == 0
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert slack.accepts(broken, broken.read_bytes()) == 0


def test_messages_times_senders_and_events(export, context):
    items, _ = _read(export, context(export))
    general = [i for i in items if i.conversation_name == "#general"]
    day1 = [i for i in general if i.locator.startswith(_at(export, "general/2020-01-01.json#"))]
    assert [i.event for i in day1] == DAY1_EVENTS
    assert [i.seq for i in general] == list(range(len(general)))
    parent = day1[1]
    assert parent.date == "2020-01-01T10:00:00.000200Z" and parent.date_original == PARENT_TS
    assert parent.sender.name == "Alice Example" and parent.sender.address == "alice@example.org"
    assert day1[2].sender.name == "Bob E" and day1[2].sender.address == "U02"  # display name, no email: the user id
    assert day1[4].sender.name == "deploybot" and day1[4].sender.address == "B01"
    assert day1[4].body == "Deploy finished\nBuild 42\nall green\nEnv: prod"
    assert day1[5].body == "fixed typo" and day1[5].event is None
    assert day1[6].body == "corrected wording" and day1[6].sender.name == "Carol Example"
    assert day1[7].body == "This message was deleted."
    assert day1[9].body == "@Alice Example set the channel topic: Launch"
    assert day1[14].body == "line one\nline two"
    assert {p.name for p in parent.participants} == {"Alice Example", "Bob E", "Carol Example"}


def test_markup_becomes_plain_text(export, context):
    items, _ = _read(export, context(export))
    parent = next(i for i in items if i.date_original == PARENT_TS)
    assert parent.body == ("Kick-off at 10 & bring the <draft> to #random, see the plan (http://example.org/plan) "
                           "or https://example.org/raw, cc @Bob E @here #general")


def test_thread_replies_stay_in_channel_and_share_a_thread_id(export, context):
    items, _ = _read(export, context(export))
    threaded = [i for i in items if i.thread_id]
    assert [i.body.split()[0] for i in threaded] == ["Kick-off", "Agreed,", "Late"]
    assert len({i.thread_id for i in threaded}) == 1 and threaded[0].thread_id.startswith("slack:")
    assert {i.conversation_name for i in threaded} == {"#general"}
    assert threaded[2].locator == _at(export, "general/2020-01-02.json#0") and threaded[2].date == "2020-01-02T10:00:00.000100Z"
    assert next(i for i in items if i.body == "Not in any thread").thread_id is None


def test_direct_messages_private_channels_and_group_dms(export, context):
    items, _ = _read(export, context(export))
    names = Counter(i.conversation_name for i in items)
    assert names["Alice Example, Bob E"] == 2
    assert names["Alice Example, Bob E, Carol Example"] == 1
    assert names["#secret-project"] == 1
    private = next(i for i in items if i.conversation_name == "#secret-project")
    assert private.sender.name == "Carol Example" and private.sender.address == "U03"
    dm = [i for i in items if i.conversation_name == "Alice Example, Bob E"]
    assert [i.seq for i in dm] == [0, 1] and dm[0].locator == _at(export, "D01/2020-01-05.json#0")
    assert len({i.conversation_id for i in items if i.kind == "message"}) == 4


def test_corrupt_day_file_and_bad_records_are_reported_and_the_rest_indexed(export, context):
    items, problems = _read(export, context(export))
    by_locator = {p.locator: p for p in problems}
    assert by_locator[_at(export, "general/2020-01-03.json")].code == errors.Corrupt.code
    assert "invalid JSON" in by_locator[_at(export, "general/2020-01-03.json")].reason
    assert by_locator[_at(export, "general/2020-01-04.json#0")].code == errors.Corrupt.code
    odd = next(i for i in items if i.locator == _at(export, "general/2020-01-04.json#1"))
    assert odd.date is None and odd.date_original == "yesterday" and odd.problems
    assert by_locator[_at(export, "general/2020-01-04.json#1")].item_id == odd.id
    later = next(i for i in items if i.locator == _at(export, "general/2020-01-04.json#2"))
    assert later.date == "2020-01-04T10:00:00Z" and later.body == "after the bad day"
    assert len(problems) == 3


def test_bundled_files_are_extracted_and_linked_others_only_named(export, context, services):
    items, problems = _read(export, context(export))
    message = next(i for i in items if i.body == "Minutes and budget attached")
    assert message.attachment_names == ["minutes.txt", "budget.txt", "secret.pdf"]
    children = [i for i in items if i.parent_id == message.id]
    assert [c.locator for c in children] == [f"{message.locator}/attachment[1]", f"{message.locator}/attachment[2]"]
    assert all(c.kind == "attachment" and c.family_id == message.id for c in children)
    assert "xylophonequince" in children[0].body and children[0].file_name == "minutes.txt"
    assert "plumcrumbet" in children[1].body
    assert not [p for p in problems if p.item_id in {message.id, *(c.id for c in children)}]


def test_generated_zip_ingests_and_attachment_text_is_searchable(tmp_path, ingest_files, services, settings):
    custodian = f"Slack Gen {uuid.uuid4().hex[:6]}"
    summary, report = ingest_files([_write_zip(tmp_path / "acme.zip")], custodian=custodian)
    assert summary.files == 1 and summary.items_by_kind["attachment"] == 2
    assert {entry["locator"] for entry in report} == {"general/2020-01-03.json", "general/2020-01-04.json#0", "general/2020-01-04.json#1"}

    def search(q: str) -> list[dict]:
        return run_search(services, settings.items_alias, SearchRequest(q=q, size=10, custodian=[custodian]))["hits"]

    attachment = search("xylophonequince")
    assert len(attachment) == 1 and attachment[0]["kind"] == "attachment"
    parent = services.get(index=settings.items_alias, id=attachment[0]["parent_id"])["_source"]
    assert parent["body"] == "Minutes and budget attached" and parent["channel"] == "slack"
    reply = search("zanzibarquokka")
    assert len(reply) == 1 and reply[0]["from"] == {"raw": "Bob E", "name": "Bob E", "address": "U02"}
    assert len(search("secret.pdf")) == 1  # a file known only by name is still findable


def test_folder_is_ingested_as_one_unit(tmp_path, ingest_files):
    _write_folder(tmp_path / "evidence" / "export")
    summary, report = ingest_files([tmp_path / "evidence"], custodian=f"Slack Folder {uuid.uuid4().hex[:6]}")
    readable = len(DAY1) + len(DAY2) + sum(isinstance(m, dict) for m in DAY4) + 4  # + the DM, group DM and private channel
    assert summary.files == 1
    assert summary.items_by_kind["message"] == readable and summary.items_by_kind["attachment"] == 2
    assert summary.problems_by_code == Counter({"corrupt": 3}) and len(report) == 3


# --- hostile containers --------------------------------------------------------------------


def test_unsafe_zip_members_and_zip_bombs_are_skipped_with_problems(tmp_path, context):
    path = _write_zip(tmp_path / "hostile.zip", extra={
        "../escape/2020-01-01.json": b"[]", "/etc/2020-01-01.json": b"[]", "files/zeros.bin": bytes(11 * 1024 * 1024),
    })
    items, problems = _read(path, context(path))
    codes = {p.locator: p.code for p in problems}
    assert codes["../escape/2020-01-01.json"] == errors.UnsafePath.code
    assert codes["/etc/2020-01-01.json"] == errors.UnsafePath.code
    assert codes["files/zeros.bin"] == errors.TooLarge.code
    assert any(i.body == "Not in any thread" for i in items)
    assert not (tmp_path / "escape").exists()


def _mark_encrypted(path: Path, member: str) -> None:
    """Set the 'encrypted' flag of one member in both its local and central headers (zipfile cannot write encrypted zips)."""
    data, name = bytearray(path.read_bytes()), member.encode()
    start = data.find(name)
    while start != -1:
        if data[start - 30:start - 26] == b"PK\x03\x04":
            data[start - 30 + 6] |= 0x1
        if data[start - 46:start - 42] == b"PK\x01\x02":
            data[start - 46 + 8] |= 0x1
        start = data.find(name, start + 1)
    path.write_bytes(bytes(data))


def test_encrypted_members_and_too_many_members_are_reported(tmp_path, context):
    path = _write_zip(tmp_path / "locked.zip", extra={"files/locked.txt": b"secret"})
    _mark_encrypted(path, "files/locked.txt")
    items, problems = _read(path, context(path))
    assert [(p.locator, p.code) for p in problems if p.code == errors.Encrypted.code] == [("files/locked.txt", "encrypted")]
    assert any(i.body == "All three" for i in items)
    _, problems = _read(path, context(path, Limits(max_archive_members=3)))
    assert any(p.locator == "" and p.code == errors.TooLarge.code and "only the first 3" in p.reason for p in problems)


def test_members_above_the_size_limit_are_reported_not_read(tmp_path, context):
    path = _write_zip(tmp_path / "acme.zip")
    items, problems = _read(path, context(path, Limits(max_attachment_bytes=300)))
    too_large = {p.locator for p in problems if p.code == errors.TooLarge.code}
    assert {"users.json", "general/2020-01-01.json"} <= too_large
    assert any(i.body == "All three" for i in items)  # small day files are still read, senders by id
    assert next(i for i in items if i.body == "All three").sender.address == "U03"


def test_symlinks_in_a_folder_export_are_not_followed(tmp_path, context):
    folder = _write_folder(tmp_path / "export")
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps([{"type": "message", "user": "U01", "ts": "1578000000", "text": "from outside"}]))
    (folder / "general" / "2020-01-09.json").symlink_to(outside)
    items, problems = _read(folder, context(folder))
    assert not any(i.body == "from outside" for i in items)
    assert any(p.locator == "general/2020-01-09.json" and p.code == errors.Unsupported.code for p in problems)


def test_unreadable_zip_raises_corrupt(tmp_path, context):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(errors.Corrupt):
        list(slack.read(path, context(path)))


def test_day_file_nested_too_deeply_is_corrupt_and_the_rest_indexed(tmp_path, context):
    path = _write_zip(tmp_path / "deep.zip", extra={"general/2020-01-03.json": b"[" * 100_000 + b"]" * 100_000})
    items, problems = _read(path, context(path))
    deep = [p for p in problems if p.locator == "general/2020-01-03.json"]
    assert [(p.code, "nested too deeply" in p.reason) for p in deep] == [(errors.Corrupt.code, True)]
    assert any(i.body == "Not in any thread" for i in items)


def test_member_with_an_empty_name_does_not_stop_the_export(tmp_path, context):
    from bench.hostile.archives import raw_zip, stored  # zipfile cannot write an empty member name

    members = [stored(name.encode(), data) for name, data in _export_members().items()]
    path = tmp_path / "empty-name.zip"
    path.write_bytes(raw_zip(members + [stored(b"", b"a member with no name")]))
    items, problems = _read(path, context(path))
    assert any(i.body == "Not in any thread" for i in items)


def test_file_comment_is_attributed_to_its_commenter(tmp_path, context):
    # Exports from before 2019 hold comments on files as messages without a "user": only the comment names one.
    comment = {"type": "message", "subtype": "file_comment", "ts": "1578304800.000100",
               "text": "<@U03> commented on <@U01>'s file <https://acme.slack.com/files/U01/F01/minutes.txt|Minutes>: "
                       "the quorum is wrong",
               "file": {"id": "F01", "name": "minutes.txt", "title": "Minutes", "user": "U01"},
               "comment": {"id": "Fc01", "created": 1578304800, "timestamp": 1578304800, "user": "U03",
                           "comment": "the quorum is wrong"}}
    path = _write_zip(tmp_path / "comments.zip", extra={"general/2020-01-06.json": json.dumps([comment]).encode()})
    items, _ = _read(path, context(path))
    (item,) = [i for i in items if i.locator == "general/2020-01-06.json#0"]
    assert item.event is None
    assert (item.sender.name, item.sender.raw) == ("Carol Example", "Carol Example")
    assert item.body.startswith("@Carol Example commented on @Alice Example's file Minutes")
