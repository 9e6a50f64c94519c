"""Hostile chat and SMS exports: broken and deeply nested JSON, XML bombs and external entities,
invalid UTF-8, hostile zip members and huge lines in WhatsApp, Slack, Teams, Telegram, Signal and
SMS Backup & Restore files."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bench.hostile import Case, expect
from bench.hostile.archives import aes_zip, raw_zip, stored, zip_bytes

MiB = 1024 * 1024
_WA_LINE = "[06/01/2020, 10:00:00] Alice: "
_WA_CHAT = "".join(f"[06/01/2020, 10:{n:02d}:00] {'Alice' if n % 2 else 'Bob'}: message {n} about the contract\n"
                   for n in range(20)).encode()


def _big_whatsapp(path: Path) -> None:
    with path.open("wb") as handle:
        handle.write(_WA_CHAT + _WA_LINE.encode())
        block = b"blah " * (MiB // 5)
        for _ in range(100 * MiB // len(block)):
            handle.write(block)
        handle.write(b"\n")


def _whatsapp() -> list[Case]:
    rng = random.Random(30)
    chat = ("WhatsApp Chat with Bob.txt", _WA_CHAT)
    cases = [
        Case("whatsapp/WhatsApp Chat with Invalid.txt", _WA_CHAT + b"[06/01/2020, 11:00:00] Bob: caf\xe9 \xff\xfe\xc3\n" * 20,
             "a chat with invalid UTF-8 lines", indexed=True),
        Case("whatsapp/WhatsApp Chat with Garbage.txt", _WA_CHAT + rng.randbytes(128 * 1024),
             "a chat that turns into binary garbage", indexed=True),
        Case("whatsapp/WhatsApp Chat with NoChat.zip", zip_bytes([("photo.jpg", b"\xff\xd8\xff\xe0 not really")]),
             "an export zip without its chat text", **expect("corrupt")),
        Case("whatsapp/WhatsApp Chat with Traversal.zip",
             raw_zip([stored(b"_chat.txt", _WA_CHAT + b"[06/01/2020, 12:00:00] Bob: \xe2\x80\x8e<attached: ../../evil.jpg>\n"),
                      stored(b"../../evil.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")]),
             "an export with a member named ../../evil.jpg", **expect("unsafe_path", indexed=True)),
        Case("whatsapp/WhatsApp Chat with Bomb.zip", _whatsapp_bomb(chat), "an export whose media member is 64 MiB of zeros", **expect("too_large", indexed=True)),
        Case("whatsapp/WhatsApp Chat with Encrypted.zip", aes_zip([chat]), "an AES-encrypted export",
             **expect("encrypted")),
        Case("whatsapp/WhatsApp Chat with Truncated.zip", zip_bytes([chat, ("a.txt", b"x" * 5000)])[:300],
             "an export zip cut short", **expect("corrupt")),
        Case("whatsapp/WhatsApp Chat with Only Stamps.txt", b"[06/01/2020, 10:00:00] \n" * 10_000,
             "10,000 timestamps with nothing after them", indexed=True),
        Case("large/WhatsApp Chat with Huge Line.txt", _big_whatsapp, "a chat message of one 100 MiB line", large=True,
             indexed=True),
    ]
    return cases


def _whatsapp_bomb(chat: tuple[str, bytes]) -> bytes:
    import io
    import zipfile

    from bench.hostile.archives import FIXED_TIME, zeros_member

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(chat[0], FIXED_TIME), chat[1])
        zeros_member(archive, "IMG-0001.jpg", 64 * MiB, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _slack_zip(members: dict[str, bytes]) -> bytes:
    base = {"users.json": b'[{"id": "U1", "name": "alice", "real_name": "Alice"}]',
            "channels.json": b'[{"id": "C1", "name": "general"}]'}
    return zip_bytes(list({**base, **members}.items()))


def _deep_json(depth: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * depth + closer * depth


def _slack() -> list[Case]:
    day = "general/2020-01-06.json"
    good = json.dumps([{"type": "message", "user": "U1", "text": "hello", "ts": "1578304800.000100"}]).encode()
    variants = {
        "broken-users-json": ({"users.json": b'[{"id": "U1", "name": '}, ("corrupt",), None),
        "broken-day-file": ({day: b'[{"type": "message", "text": "cut'}, ("corrupt",), None),
        "deep-day-file": ({day: _deep_json(200_000)}, ("corrupt",), None),
        "deep-users-json": ({"users.json": _deep_json(200_000, b'{"a":', b"}")}, ("corrupt",), None),
        "day-file-object": ({day: b'{"not": "an array"}'}, ("corrupt",), None),
        "messages-wrong-types": ({day: b'[1, "two", null, [3], {"ts": {"x": 1}, "text": 5, "user": []}]'}, ("corrupt",), None),
        "invalid-utf8-day": ({day: b'[{"type": "message", "text": "caf\xe9 \xff", "ts": "1578304800.000100"}]'},
                             ("corrupt",), None),
        "channels-is-string": ({"channels.json": b'"general"', day: good}, (), None),
        "traversal-member": ({"../evil/2020-01-06.json": good, day: good}, ("unsafe_path",), True),
        "lone-surrogates": ({day: b'[{"type": "message", "user": "U1", "text": "\\ud800\\udfff\\ud800 x", '
                                  b'"ts": "1578304800.000100"}]'}, (), True),
        "huge-ts": ({day: b'[{"type": "message", "user": "U1", "text": "x", "ts": "99999999999.999999999"}]'}, (), None),
    }
    return [Case(f"slack/{label}.zip", _slack_zip(members), f"Slack export: {label.replace('-', ' ')}",
                 **expect(*codes, indexed=indexed)) for label, (members, codes, indexed) in variants.items()]


_TEAMS_HEAD = b'{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats(\'19:x\')/messages", "value": ['
_TEAMS_MESSAGE = (b'{"id": "1", "messageType": "message", "createdDateTime": "2020-01-06T10:00:00Z", '
                  b'"from": {"user": {"displayName": "Alice"}}, "body": {"contentType": "text", "content": "%s"}}')


def _teams() -> list[Case]:
    message = _TEAMS_MESSAGE % b"hello"
    variants = {
        "truncated": (_TEAMS_HEAD + message[:40], ("corrupt",), False),
        "deep-nesting": (_TEAMS_HEAD + b'{"messageType": "message", "body": ' + _deep_json(200_000) + b"}]}",
                         ("corrupt",), False),
        "value-not-list": (b'{"@odata.context": "chats(\'1\')/messages", "messageType": "x", "value": "chatMessage"}',
                           ("corrupt",), False),
        "wrong-types": (_TEAMS_HEAD + b'{"messageType": 5, "createdDateTime": [], "from": "x", "body": 7}, 3, null]}',
                        ("corrupt",), None),
        "invalid-utf8": (_TEAMS_HEAD + (_TEAMS_MESSAGE % b"caf\xe9 \xff") + b"]}", ("corrupt",), False),
        "lone-surrogate": (_TEAMS_HEAD + (_TEAMS_MESSAGE % b"\\udc00 broken \\ud800") + b"]}", (), True),
        "html-bomb": (_TEAMS_HEAD + message.replace(b'"text", "content": "hello"', b'"html", "content": "'
                                                  + b"<div>" * 100_000 + b'"') + b"]}", (), True),
        "bad-dates": (_TEAMS_HEAD + message.replace(b"2020-01-06T10:00:00Z", b"not a date") + b"]}", (), True),
    }
    return [Case(f"teams/{label}.json", data, f"Teams export: {label.replace('-', ' ')}", **expect(*codes, indexed=indexed))
            for label, (data, codes, indexed) in variants.items()]


_TG_HEAD = b'{"name": "Bob", "type": "personal_chat", "id": 1, "messages": ['
_TG_MESSAGE = (b'{"id": 1, "type": "message", "date": "2020-01-06T10:00:00", "date_unixtime": "1578304800", '
               b'"from": "Bob", "from_id": "user1", "text": "%s"}')


def _telegram() -> list[Case]:
    message = _TG_MESSAGE % b"hello"
    variants = {
        "truncated": (_TG_HEAD + message + b", " + message[:30], ("corrupt",), None),
        "deep-nesting": (_TG_HEAD + b'{"id": 2, "date_unixtime": "1", "from_id": "u", "text": ' + _deep_json(200_000) + b"}]}",
                         ("corrupt",), None),
        "wrong-types": (_TG_HEAD + b'{"id": [], "type": 5, "date": 7, "date_unixtime": "x", "from_id": "u", "text": {"a": 1}}, '
                        b'"str", null]}', ("corrupt",), None),
        "invalid-utf8": (_TG_HEAD + (_TG_MESSAGE % b"caf\xe9 \xff") + b"]}", ("corrupt",), None),
        "messages-not-list": (b'{"name": "x", "type": "personal_chat", "id": 1, "date_unixtime": "1", "from_id": "u", '
                              b'"messages": {"a": 1}}', ("corrupt",), False),
    }
    found = [Case(f"telegram/{label}.json", data, f"Telegram export: {label.replace('-', ' ')}",
                  **expect(*codes, indexed=indexed)) for label, (data, codes, indexed) in variants.items()]
    traversal = _TG_HEAD + message[:-1] + b', "photo": "../../../../etc/passwd"}]}'
    found.append(Case("telegram/media-traversal.zip", zip_bytes([("result.json", traversal)]),
                      "a zipped Telegram export whose photo path is ../../../../etc/passwd",
                      **expect("unsupported", indexed=True)))
    return found


_SMS_HEAD = b"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
_SMS_ONE = b'<sms protocol="0" address="+447700900123" date="1578304800000" type="1" body="%s" contact_name="Bob" />'


def _sms() -> list[Case]:
    laughs = (b'<!DOCTYPE smses [<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10) for n in range(1, 10))
        + b"]>")
    variants = {
        "billion-laughs": (_SMS_HEAD + laughs + b'<smses count="1">' + (_SMS_ONE % b"&lol9;") + b"</smses>", ("corrupt",), False),
        "quadratic-blowup": (_SMS_HEAD + b'<!DOCTYPE smses [<!ENTITY a "' + b"a" * 100_000 + b'">]><smses count="1">'
                             + (_SMS_ONE % (b"&a;" * 10_000)) + b"</smses>", ("corrupt", "extraction_failed"), None),
        "external-entity": (_SMS_HEAD + b'<!DOCTYPE smses [<!ENTITY x SYSTEM "file:///etc/passwd">]><smses count="1">'
                            + (_SMS_ONE % b"&x;") + b"</smses>", ("corrupt",), False),
        "external-dtd": (_SMS_HEAD + b'<!DOCTYPE smses SYSTEM "http://127.0.0.1:9/evil.dtd"><smses count="1">'
                         + (_SMS_ONE % b"hi") + b"</smses>", (), True),  # never fetched: expat loads no external DTD
        "parameter-entity": (_SMS_HEAD + b'<!DOCTYPE smses [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><smses count="1">'
                             + (_SMS_ONE % b"hi") + b"</smses>", ("corrupt",), False),
        "truncated": (_SMS_HEAD + b'<smses count="3">' + (_SMS_ONE % b"one") + (_SMS_ONE % b"two")[:40], ("corrupt",), None),
        "wrong-root-after-smses-word": (_SMS_HEAD + b"<!-- <smses --><html><body>hello</body></html>", ("corrupt",), False),
        "invalid-utf8": (_SMS_HEAD + b'<smses count="1">' + (_SMS_ONE % b"caf\xe9 \xff") + b"</smses>", ("corrupt",), None),
        "bogus-encoding": (b"<?xml version='1.0' encoding='x-bogus' ?>\n<smses count=\"1\">" + (_SMS_ONE % b"hi")
                           + b"</smses>", ("corrupt",), False),
        "deep-elements": (_SMS_HEAD + b'<smses count="1">' + b"<x>" * 100_000 + b"</x>" * 100_000 + b"</smses>", (), None),
        "bad-mms-base64": (_SMS_HEAD + b'<smses count="1"><mms date="1578304800000" msg_box="1" address="+447700900123">'
                           b'<parts><part ct="image/jpeg" name="a.jpg" data="!!!not base64!!!" /></parts>'
                           b'<addrs><addr address="+447700900123" type="137" /></addrs></mms></smses>', ("corrupt",), True),
        "bad-attribute-values": (_SMS_HEAD + b'<smses count="x"><sms address="" date="yesterday" type="z" body="b" />'
                                 b'<sms date="99999999999999999999" /></smses>', (), None),
    }
    return [Case(f"sms/{label}.xml", data, f"SMS backup: {label.replace('-', ' ')}", **expect(*codes, indexed=indexed))
            for label, (data, codes, indexed) in variants.items()]


_SIGNAL = b'{"envelope": {"source": "+447700900123", "sourceNumber": "+447700900123", "timestamp": 1578304800000, ' \
          b'"dataMessage": {"timestamp": 1578304800000, "message": "%s"}}, "account": "+447700900999"}\n'


def _signal() -> list[Case]:
    good = _SIGNAL % b"hello"
    variants = {
        "broken-lines": (good + b'{"envelope": {"source": \n' + b"not json at all\n" + good, ("corrupt",), True),
        "deep-line": (good + _deep_json(200_000, b'{"a":', b"}") + b"\n", ("corrupt",), True),
        "invalid-utf8": (good + (_SIGNAL % b"caf\xe9 \xff"), ("corrupt",), True),
        "wrong-types": (good + b'{"envelope": {"timestamp": "soon", "dataMessage": {"message": 5, "attachments": 3}}}\n',
                        ("corrupt",), True),
        "huge-timestamp": (good + (_SIGNAL % b"x").replace(b"1578304800000", b"9" * 400), ("corrupt",), True),
    }
    return [Case(f"signal/{label}.jsonl", data, f"signal-cli log: {label.replace('-', ' ')}", **expect(*codes, indexed=indexed))
            for label, (data, codes, indexed) in variants.items()]


def cases() -> list[Case]:
    """Every hostile chat and SMS case."""
    return [*_whatsapp(), *_slack(), *_teams(), *_telegram(), *_sms(), *_signal()]
