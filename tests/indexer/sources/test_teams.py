"""Microsoft Teams messages exported through Microsoft Graph: generated list responses and plain
arrays (no public Teams sample exists) covering HTML bodies, deletions, system events, cards,
quoted replies, file links and channel threads."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest

from indexer import errors
from indexer.digests import file_sha256
from indexer.model import Custody, Item, Problem
from indexer.sources import choose, teams
from indexer.sources.base import Limits, SourceContext
from search_api.search import SearchRequest, run_search

CHAT = "19:3b1f0d6e2c6a4a7c9f1e8b7d6c5a4b3e@thread.v2"
ALICE = {"id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2", "displayName": "Alice Smith", "userIdentityType": "aadUser"}
BOB = {"id": "2f8b5e6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "displayName": "Bob Jones", "userIdentityType": "aadUser"}
CAROL = {"id": "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f", "displayName": "Carol Diaz", "userIdentityType": "aadUser"}
POLLY = {"id": "e1b2c3d4-0000-4000-8000-000000000001", "displayName": "Polly", "applicationIdentityType": "bot"}
DETAIL = "#microsoft.graph.{}EventMessageDetail"


def _message(number: int, minute: str, **fields) -> dict:
    """One Graph chatMessage of the chat, with the fields Graph always sends."""
    message = {
        "id": f"16146{number:08d}", "replyToId": None, "etag": f"16146{number:08d}", "messageType": "message",
        "createdDateTime": f"2021-03-01T09:{minute}Z", "lastModifiedDateTime": f"2021-03-01T09:{minute}Z",
        "lastEditedDateTime": None, "deletedDateTime": None, "subject": None, "summary": None,
        "chatId": CHAT, "importance": "normal", "locale": "en-us", "webUrl": None, "channelIdentity": None,
        "policyViolation": None, "eventDetail": None, "from": None,
        "body": {"contentType": "text", "content": ""}, "attachments": [], "mentions": [], "reactions": [],
    }
    return message | fields


def _event(number: int, minute: str, kind: str, **detail) -> dict:
    return _message(number, minute, messageType="systemEventMessage",
                    body={"contentType": "html", "content": "<systemEventMessage/>"},
                    eventDetail={"@odata.type": DETAIL.format(kind), **detail})


def _user(who: dict) -> dict:
    return {"application": None, "device": None, "user": who}


QUOTE = {"messageId": "1614600000002", "messagePreview": "Hello Bob Jones, the quarterly figures",
         "messageSender": {"application": None, "device": None, "user": ALICE}}
CARD = {"type": "AdaptiveCard", "version": "1.4", "body": [
    {"type": "TextBlock", "text": "Poll: lunch venue?"},
    {"type": "FactSet", "facts": [{"title": "Option A", "value": "Pizza velociraptorbean"}]}]}
# (message, expected event) in the order they happened.
CHAT_MESSAGES = [
    (_event(1, "00:00.000", "membersAdded", initiator=_user(ALICE), members=[BOB, CAROL], visibleHistoryStartDateTime="0001-01-01T00:00:00Z"), "added"),
    (_message(2, "01:10.500", **{"from": _user(ALICE), "mentions": [{"id": 0, "mentionText": "Bob Jones", "mentioned": _user(BOB)}],
              "body": {"contentType": "html", "content": '<div><p>Hello <at id="0">Bob Jones</at>, the <b>quarterly</b> figures '
                       "&amp; notes are ready: kestrelmango</p><p>Second paragraph</p><script>alert(1)</script></div>"}}), None),
    (_message(3, "02:00.000", **{"from": _user(BOB), "body": {"contentType": "text", "content": "Thanks, see the report"},
              "attachments": [{"id": "a1", "contentType": "reference", "name": "Report Q1.docx", "content": None,
                               "contentUrl": "https://contoso.sharepoint.invalid/sites/finance/Report%20Q1.docx"}]}), None),
    (_message(4, "03:00.000", **{"from": _user(CAROL), "deletedDateTime": "2021-03-01T09:04:00Z",
              "body": {"contentType": "html", "content": ""}}), "deleted"),
    (_event(5, "05:00.000", "chatRenamed", initiator=_user(ALICE), chatId=CHAT, chatDisplayName="Quarterly figures"), "subject_changed"),
    (_message(6, "06:00.000", **{"from": {"application": POLLY, "device": None, "user": None},
              "body": {"contentType": "html", "content": '<attachment id="card1"></attachment>'},
              "attachments": [{"id": "card1", "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                               "content": json.dumps(CARD), "name": None}]}), None),
    (_message(7, "07:00.000", **{"from": _user(BOB),
              "body": {"contentType": "html", "content": '<attachment id="1614600000002"></attachment><p>Got it</p>'},
              "attachments": [{"id": "1614600000002", "contentType": "messageReference", "contentUrl": None,
                               "content": json.dumps(QUOTE), "name": None}]}), None),
    (_event(8, "08:00.000", "callStarted", initiator=_user(ALICE), callEventType="call", callId="c1"), "call"),
    (_event(9, "20:00.000", "callEnded", initiator=_user(ALICE), callDuration="PT11M", callEventType="call", callId="c1",
            callParticipants=[{"participant": _user(ALICE)}, {"participant": _user(BOB)}]), "call"),
    (_event(10, "21:00.000", "membersDeleted", initiator=_user(ALICE), members=[CAROL]), "removed"),
    (_event(11, "22:00.000", "membersLeft", initiator=_user(BOB), members=[BOB]), "left"),
    (_event(12, "23:00.000", "teamDescriptionUpdated", initiator=_user(ALICE), teamId="t1", teamDescription="x"), "other_system"),
    (_message(13, "24:00.000", messageType="unknownFutureValue"), "other_system"),
]
CHANNEL = {"teamId": "fbe2bde7-abcd-4321-9876-1234567890ab", "channelId": "19:general0123@thread.tacv2"}


def _chat_file(path: Path, **extra) -> Path:
    """A Graph list response of the chat, newest first as Graph returns it."""
    value = [message for message, _ in reversed(CHAT_MESSAGES)]
    body = {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#chats('{CHAT}')/messages", "@odata.count": len(value), "value": value}
    path.write_text(json.dumps(body | extra, indent=2), encoding="utf-8")
    return path


def _channel_file(path: Path) -> Path:
    """Channel messages as a plain array: a root with nested replies, a flat reply, a lone post."""
    def post(number: int, minute: str, who: dict, text: str, **fields) -> dict:
        return _message(number, minute, chatId=None, channelIdentity=CHANNEL, **{"from": _user(who)},
                        body={"contentType": "html", "content": f"<p>{text}</p>"}, **fields)

    root = post(20, "30:00.000", ALICE, "Budget review is on Friday", subject="Budget review")
    root["replies"] = [post(21, "31:00.000", BOB, "I will bring the numbers", replyToId=root["id"])]
    lone = post(23, "40:00.000", CAROL, "Unrelated announcement", subject="Parking")
    flat_reply = post(22, "35:00.000", CAROL, "Count me in", replyToId=root["id"])
    path.write_text(json.dumps([lone, root, flat_reply], indent=2), encoding="utf-8")
    return path


def _ctx(path: Path) -> SourceContext:
    """Teams never extracts files (only links), so no Tika is needed for unit reads."""
    return SourceContext(str(path), file_sha256(path), Custody("Teams Unit", "private"), None, Limits())  # type: ignore[arg-type]


def _read(path: Path) -> tuple[list[Item], list[Problem]]:
    produced = list(teams.read(path, _ctx(path)))
    return [p for p in produced if isinstance(p, Item)], [p for p in produced if isinstance(p, Problem)]


def test_graph_files_are_claimed_and_other_json_is_not(tmp_path):
    chat = _chat_file(tmp_path / "chat.json")
    channel = _channel_file(tmp_path / "channel.json")
    assert choose(chat, chat.read_bytes()[:4096]) is teams
    assert teams.accepts(channel, channel.read_bytes()[:4096]) > 0
    other = tmp_path / "package.json"
    other.write_text('{"name": "x", "version": "1.0.0"}')
    assert teams.accepts(other, other.read_bytes()) == 0
    assert teams.accepts(tmp_path, b"") == 0


def test_chat_messages_in_time_order_with_senders_and_times(tmp_path):
    items, problems = _read(_chat_file(tmp_path / "chat.json"))
    assert problems == []
    assert len(items) == len(CHAT_MESSAGES)
    assert [i.seq for i in items] == list(range(len(CHAT_MESSAGES)))
    assert [i.date_original for i in items] == [m["createdDateTime"] for m, _ in CHAT_MESSAGES]
    assert items[1].date == "2021-03-01T09:01:10.500000Z" and items[1].timezone == "+00:00"
    assert items[0].locator == f"value[{len(CHAT_MESSAGES) - 1}]"  # the oldest is last in Graph's list
    assert items[1].sender.name == "Alice Smith" and items[1].sender.address == ALICE["id"]
    assert items[5].sender.name == "Polly" and items[5].sender.address == POLLY["id"]
    assert {i.conversation_id for i in items} == {items[0].conversation_id} and items[0].conversation_id.startswith("teams:")
    assert all(i.channel == "teams" and i.kind == "message" for i in items)
    assert {p.name for p in items[0].participants} == {"Alice Smith", "Bob Jones", "Carol Diaz", "Polly"}


def test_system_events_and_deletions(tmp_path):
    items, _ = _read(_chat_file(tmp_path / "chat.json"))
    assert [i.event for i in items] == [event for _, event in CHAT_MESSAGES]
    added, renamed, ended = items[0], items[4], items[8]
    assert added.body == "Alice Smith added Bob Jones, Carol Diaz" and added.sender.name == "Alice Smith"
    assert renamed.body == "Alice Smith renamed the chat to Quarterly figures"
    assert ended.body == "Call ended after PT11M: Alice Smith, Bob Jones" and ended.sender.name == "Alice Smith"
    assert items[7].body == "Alice Smith started a call"
    assert items[9].body == "Alice Smith removed Carol Diaz" and items[10].body == "Bob Jones left"
    assert items[11].body == "Alice Smith teamDescriptionUpdated"
    assert items[12].body == "Someone system event (unknownFutureValue)" and items[12].sender is None
    assert items[3].body == "" and items[3].sender.name == "Carol Diaz"
    assert items[0].conversation_name == "Quarterly figures"


def test_html_is_stripped_and_inline_attachment_content_appended(tmp_path):
    items, _ = _read(_chat_file(tmp_path / "chat.json"))
    assert items[1].body == "Hello\nBob Jones\n, the\nquarterly\nfigures & notes are ready: kestrelmango\nSecond paragraph"
    assert "alert" not in items[1].body
    assert items[2].body == "Thanks, see the report" and items[2].attachment_names == ["Report Q1.docx"]
    assert "sharepoint" not in items[2].body  # the link is never fetched nor indexed as text
    assert items[5].body == "Poll: lunch venue?\nOption A\nPizza velociraptorbean"
    assert items[6].body == "Got it\nAlice Smith wrote: Hello Bob Jones, the quarterly figures"


def test_channel_replies_share_the_thread_of_their_root(tmp_path):
    items, problems = _read(_channel_file(tmp_path / "channel.json"))
    assert problems == []
    assert [i.body for i in items] == ["Budget review is on Friday", "I will bring the numbers", "Count me in", "Unrelated announcement"]
    assert [i.locator for i in items] == ["messages[1]", "messages[1].replies[0]", "messages[2]", "messages[0]"]
    assert items[0].subject == "Budget review" and items[3].subject == "Parking"
    assert items[0].thread_id and items[0].thread_id == items[1].thread_id == items[2].thread_id
    assert items[3].thread_id is None
    assert len({i.conversation_id for i in items}) == 1
    assert items[0].conversation_name == "Alice Smith, Bob Jones, Carol Diaz"


def test_conversations_are_kept_apart_in_one_file(tmp_path):
    chat = json.loads(_chat_file(tmp_path / "chat.json").read_text())["value"]
    channel = json.loads(_channel_file(tmp_path / "channel.json").read_text())
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(chat + channel))
    items, _ = _read(mixed)
    counts = Counter(i.conversation_id for i in items)
    assert sorted(counts.values()) == [4, len(CHAT_MESSAGES)]
    for conversation in counts:
        assert sorted(i.seq for i in items if i.conversation_id == conversation) == list(range(counts[conversation]))


def test_bad_records_are_reported_and_the_rest_indexed(tmp_path):
    value = [message for message, _ in CHAT_MESSAGES[:3]]
    value.insert(1, "not a message")
    value[2] = value[2] | {"createdDateTime": "last Tuesday"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('x')/messages", "value": value,
                                "@odata.nextLink": "https://graph.microsoft.invalid/v1.0/chats/x/messages?$skiptoken=abc"}))
    items, problems = _read(path)
    assert len(items) == 3
    by_locator = {p.locator: p for p in problems}
    assert by_locator["value[1]"].code == errors.Corrupt.code
    assert by_locator["@odata.nextLink"].code == errors.Corrupt.code and "truncated" in by_locator["@odata.nextLink"].reason
    undated = next(i for i in items if i.locator == "value[2]")
    assert undated.date is None and undated.date_original == "last Tuesday" and by_locator["value[2]"].item_id == undated.id
    assert undated.seq == 2  # undated messages come after the dated ones


@pytest.mark.parametrize("content", [b"{not json", b'{"value": 3}', b'"just a string"'])
def test_unusable_files_raise_corrupt(tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(errors.Corrupt):
        list(teams.read(path, _ctx(path)))


def test_ingested_chat_is_searchable(tmp_path, ingest_files, services, settings):
    custodian = f"Teams Tester {uuid.uuid4().hex[:6]}"
    summary, report = ingest_files([_chat_file(tmp_path / "chat.json"), _channel_file(tmp_path / "channel.json")], custodian=custodian)
    assert report == [] and summary.items_by_kind["message"] == len(CHAT_MESSAGES) + 4

    def search(q: str, **filters) -> list[dict]:
        return run_search(services, settings.items_alias, SearchRequest(q=q, size=20, custodian=[custodian], **filters))["hits"]

    hit = search("kestrelmango")
    assert len(hit) == 1 and hit[0]["channel"] == "teams" and hit[0]["conversation_name"] == "Quarterly figures"
    assert hit[0]["from"]["name"] == "Alice Smith" and hit[0]["date"] == "2021-03-01T09:01:10.500000Z"
    assert [h["from"]["name"] for h in search("velociraptorbean")] == ["Polly"]
    assert len(search('"Report Q1.docx"')) == 1
    assert len(search("", channel=["teams"])) == len(CHAT_MESSAGES) + 4


def test_json_nested_too_deeply_is_corrupt_not_a_crash(tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"@odata.context": "chats(\'1\')/messages", "messageType": "x", "value": [' + b"[" * 100_000
                     + b"]" * 100_000 + b"]}")
    with pytest.raises(errors.Corrupt, match="nested too deeply"):
        _read(path)


def test_lone_surrogate_escapes_are_indexed_written_out(tmp_path):
    path = tmp_path / "surrogate.json"
    message = _message(1, "10:00.000", body={"contentType": "text", "content": "before \ud800 after"})
    path.write_text(json.dumps({"@odata.context": f"chats('{CHAT}')/messages", "value": [message]}), encoding="utf-8")
    items, problems = _read(path)
    assert [i.body for i in items] == ["before \\ud800 after"]
    assert problems == []


def test_a_message_that_is_only_an_image_names_it(tmp_path):
    hosted = f"https://graph.microsoft.com/v1.0/chats/{CHAT}/messages/1614600000001/hostedContents/aWQ9eF8wLXd1cy1kMS/$value"
    image_only = _message(1, "10:00.000", **{"from": _user(ALICE)}, body={"contentType": "html", "content": (
        f'<p><img alt="image" src="{hosted}" width="250" height="140" itemid="0-wus-d1-2a" '
        'itemtype="http://schema.skype.com/AMSImage" style="vertical-align:bottom"></p>')})
    captioned = _message(2, "11:00.000", **{"from": _user(BOB)}, body={"contentType": "html", "content": (
        f'<p>Whiteboard from today <img alt="Whiteboard photo" src="{hosted}"> '
        '<img itemtype="http://schema.skype.com/Emoji" alt="👍" src="https://statics.teams.cdn.office.net/like.png"></p>')})
    path = tmp_path / "images.json"
    path.write_text(json.dumps({"@odata.context": f"chats('{CHAT}')/messages", "value": [captioned, image_only]}), encoding="utf-8")
    items, problems = _read(path)
    assert problems == []
    assert [(i.body, i.attachment_names) for i in items] == [
        ("[image: image 1]", ["image 1"]),
        ("Whiteboard from today [image: Whiteboard photo] 👍", ["Whiteboard photo"]),
    ]
    assert "graph.microsoft.com" not in items[0].body  # the hosted content is never fetched nor indexed as text
