"""SMS Backup & Restore (SyncTech) XML backups: generated files covering received, sent and draft SMS,
group MMS with text and file parts, the app's surrogate-pair emoji references, truncated files and
XML attacks. (No real backup with a compatible licence is in the shared corpora.)"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from indexer import errors
from indexer.model import Item, Problem
from indexer.sources import choose, sms
from indexer.sources.base import Limits, SourceContext
from search_api.search import SearchRequest, run_search

ACCOUNT = "+447700900999"
NOTE_TEXT = b"Shopping list and the codeword saffronnarwhal."
HEADER = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<!--File Created By SMS Backup & Restore v10.05.602-->\n" \
         "<?xml-stylesheet type=\"text/xsl\" href=\"sms.xsl\"?>\n"


def ms(*parts: int) -> str:
    """SMS Backup & Restore's `date`: milliseconds since the epoch, for a UTC wall time."""
    return str(int(datetime(*parts, tzinfo=timezone.utc).timestamp()) * 1000)


def sms_element(address: str, date: str, kind: int, body: str, contact: str = "null", subject: str = "null") -> str:
    return (f'  <sms protocol="0" address={quoteattr(address)} date="{date}" type="{kind}" subject={quoteattr(subject)} '
            f'body={body} toa="null" sc_toa="null" service_center="null" read="1" status="-1" locked="0" '
            f'date_sent="0" sub_id="1" readable_date="ignored" contact_name={quoteattr(contact)} />\n')


def part(seq: int, content_type: str, name: str = "null", text: str | None = None, data: bytes | str | None = None) -> str:
    encoded = base64.b64encode(data).decode() if isinstance(data, bytes) else data
    extra = f" text={quoteattr(text)}" if text is not None else ""
    extra += f' data="{encoded}"' if encoded is not None else ""
    return (f'      <part seq="{seq}" ct="{content_type}" name={quoteattr(name)} chset="106" cd="null" fn="null" '
            f'cid="&lt;{name}&gt;" cl={quoteattr(name)} ctt_s="null" ctt_t="null"{extra} />\n')


def mms_element(date: str, box: int, address: str, contact: str, parts: list[str], addrs: list[tuple[str, int]],
                sub: str = "null") -> str:
    addr_lines = "".join(f'      <addr address="{a}" type="{t}" charset="106" />\n' for a, t in addrs)
    return (f'  <mms date="{date}" rr="null" sub={quoteattr(sub)} ct_t="application/vnd.wap.multipart.related" '
            f'read_status="null" seen="1" msg_box="{box}" address={quoteattr(address)} sub_cs="null" resp_st="null" '
            f'm_type="{132 if box == 1 else 128}" '
            f'readable_date="ignored" contact_name={quoteattr(contact)}>\n    <parts>\n{"".join(parts)}    </parts>\n'
            f'    <addrs>\n{addr_lines}    </addrs>\n  </mms>\n')


SMILE = '"Lunch? &#55357;&#56832;"'  # the app writes 😀 as two UTF-16 surrogate references
MESSAGES = [
    sms_element("07700 900123", ms(2020, 3, 1, 10, 0), 1, SMILE, contact="Matt (Work)"),
    sms_element("+447700900123", ms(2020, 7, 1, 9, 30), 2, '"Yes, 1pm.&#10;See you there"', contact="Matt (Work)"),
    sms_element("+447700900123", ms(2020, 7, 1, 9, 31), 3, '"unsent draft"', contact="Matt (Work)"),
    sms_element("+447700900777", ms(2020, 7, 2, 8, 0), 1, '"Your code is 123456"', subject="Verify"),
    mms_element(ms(2020, 7, 3, 18, 0), 1, "+447700900123~+447700900456", "Matt (Work), Sue", [
        part(-1, "application/smil", "smil.xml", text="<smil><body/></smil>"),
        part(0, "text/plain", "txt000.txt", text="Group plan attached"),
        part(1, "text/plain", "note.txt", data=NOTE_TEXT),
    ], [("+447700900123", 137), ("+447700900456", 151), (ACCOUNT, 151)]),
    mms_element(ms(2020, 7, 3, 18, 5), 2, "+447700900123~+447700900456", "Matt (Work), Sue", [
        part(0, "text/plain", "txt000.txt", text="Count me in"),
        part(1, "text/plain", "txt001.txt", text="and Sue"),
    ], [("insert-address-token", 137), ("+447700900123", 151), ("+447700900456", 151)]),
]


def _write(path: Path, messages: list[str] = MESSAGES, count: int | None = None, tail: str = "</smses>\n") -> Path:
    count = len(messages) if count is None else count
    path.write_text(f'{HEADER}<smses count="{count}" backup_set="6a1b" backup_date="{ms(2020, 8, 1)}" type="full">\n'
                    + "".join(messages) + tail, encoding="utf-8")
    return path


@pytest.fixture
def context(source_context):
    """Build a SourceContext for a backup (Tika at the configured URL)."""
    return lambda path, account=ACCOUNT, limits=Limits(): source_context(path, "SMS Unit", account=account, limits=limits)


def _read(path: Path, ctx: SourceContext) -> tuple[list[Item], list[Problem]]:
    produced = list(sms.read(path, ctx))
    return [p for p in produced if isinstance(p, Item)], [p for p in produced if isinstance(p, Problem)]


def test_accepts_backups_only(tmp_path):
    backup = _write(tmp_path / "sms-20200801.xml")
    renamed = _write(tmp_path / "backup.bak")
    calls = tmp_path / "calls-20200801.xml"
    calls.write_text(f'{HEADER}<calls count="0"></calls>\n')
    assert sms.accepts(backup, backup.read_bytes()[:4096]) == 95 and choose(backup, backup.read_bytes()[:4096]) is sms
    assert sms.accepts(renamed, renamed.read_bytes()[:4096]) == 70
    assert sms.accepts(calls, calls.read_bytes()[:4096]) == 0


def test_sms_senders_times_bodies_and_conversations(tmp_path, context):
    path = _write(tmp_path / "sms.xml")
    items, problems = _read(path, context(path))
    assert problems == []
    messages = [i for i in items if i.kind == "sms"]
    assert [i.locator for i in messages] == [*(f"smses/sms[{n}]" for n in range(1, 5)), "smses/mms[1]", "smses/mms[2]"]
    received, sent, draft, other, group_in, group_out = messages
    assert received.body == "Lunch? 😀" and received.channel == "sms"
    assert (received.date, received.date_original, received.timezone) == ("2020-03-01T10:00:00Z", ms(2020, 3, 1, 10, 0), "+00:00")
    sender = received.sender
    assert (sender.raw, sender.name, sender.address) == ("07700 900123", "Matt (Work)", "+447700900123")
    assert [a.address for a in received.to] == [ACCOUNT]
    assert (sent.sender.raw, sent.sender.address) == (ACCOUNT, ACCOUNT) and [a.address for a in sent.to] == ["+447700900123"]
    assert sent.body == "Yes, 1pm.\nSee you there" and (sent.date, sent.timezone) == ("2020-07-01T09:30:00Z", "+01:00")
    assert draft.sender.address == ACCOUNT and draft.body == "unsent draft"
    assert received.conversation_id == sent.conversation_id == draft.conversation_id != other.conversation_id
    assert [received.seq, sent.seq, draft.seq, other.seq] == [0, 1, 2, 0]
    assert received.conversation_name == "Matt (Work)" and other.conversation_name == "+447700900777"
    assert (received.subject, other.subject) == (None, "Verify")  # "null" means absent
    assert {a.address for a in received.participants} == {"+447700900123", ACCOUNT}


def test_mms_text_parts_senders_and_group_conversation(tmp_path, context, services):
    path = _write(tmp_path / "sms.xml")
    items, _ = _read(path, context(path))
    group_in = next(i for i in items if i.locator == "smses/mms[1]")
    group_out = next(i for i in items if i.locator == "smses/mms[2]")
    assert group_in.body == "Group plan attached" and group_out.body == "Count me in\nand Sue"
    assert group_in.sender.address == "+447700900123" and group_out.sender.address == ACCOUNT
    assert group_in.conversation_id == group_out.conversation_id
    assert (group_in.seq, group_out.seq, group_in.conversation_name) == (0, 1, "Matt (Work), Sue")
    assert {a.address for a in group_in.participants} == {"+447700900123", "+447700900456", ACCOUNT}
    assert {a.address for a in group_out.to} == {"+447700900123", "+447700900456"}
    assert group_in.attachment_names == ["note.txt"]
    children = [i for i in items if i.parent_id == group_in.id]
    assert [(c.kind, c.file_name, c.family_id, c.locator) for c in children] == [
        ("attachment", "note.txt", group_in.id, "smses/mms[1]/attachment[1]")]
    assert "saffronnarwhal" in children[0].body


def test_unknown_account_sends_as_me_and_keeps_group_mms_together(tmp_path, context, services):
    path = _write(tmp_path / "sms.xml", [MESSAGES[1], *MESSAGES[4:6]])
    items, _ = _read(path, context(path, account=None))
    sent, group_in, group_out = [i for i in items if i.kind == "sms"]
    assert (sent.sender.raw, sent.sender.name) == ("me", "me")
    # the received MMS lists the custodian's own number among its addrs; the conversation must not depend on it
    assert group_in.conversation_id == group_out.conversation_id and (group_in.seq, group_out.seq) == (0, 1)


def test_backup_ingests_and_attachment_and_emoji_text_are_searchable(tmp_path, ingest_files, services, settings):
    custodian = f"SMS Gen {uuid.uuid4().hex[:6]}"
    summary, report = ingest_files([_write(tmp_path / "sms-20200801.xml")], custodian=custodian, account=ACCOUNT)
    assert report == []
    assert summary.items_by_kind["sms"] == 6 and summary.items_by_kind["attachment"] == 1

    def search(q: str) -> list[dict]:
        return run_search(services, settings.items_alias, SearchRequest(q=q, size=10, custodian=[custodian]))["hits"]

    hit = search("saffronnarwhal")
    assert len(hit) == 1 and hit[0]["kind"] == "attachment" and hit[0]["channel"] == "sms"
    parent = services.get(index=settings.items_alias, id=hit[0]["parent_id"])["_source"]
    assert parent["kind"] == "sms" and parent["body"] == "Group plan attached"
    lunch = search("lunch")
    assert len(lunch) == 1 and lunch[0]["from"]["address"] == "+447700900123"


def test_surrogate_pairs_split_across_read_chunks_are_repaired(tmp_path, context):
    messages = [sms_element("+447700900123", ms(2021, 1, 1, 0, n // 60, n % 60), 1, f'"n{n} &#55357;&#56832;&#55357;&#56397;"')
                for n in range(600)]  # ~180 KB: many 16 KB parser reads, references at every offset
    path = _write(tmp_path / "sms.xml", messages)
    items, problems = _read(path, context(path))
    assert problems == [] and len(items) == 600
    assert all(i.body == f"n{n} 😀👍" for n, i in enumerate(items))


def test_half_written_final_element_keeps_earlier_messages(tmp_path, context):
    text = _write(tmp_path / "full.xml").read_text(encoding="utf-8")
    path = tmp_path / "sms.xml"
    path.write_text(text[: text.index("<mms", text.index("<mms") + 1) + 40], encoding="utf-8")
    items, problems = _read(path, context(path))
    assert [i.locator for i in items if i.kind == "sms"] == [*(f"smses/sms[{n}]" for n in range(1, 5)), "smses/mms[1]"]
    assert len(problems) == 1
    assert (problems[0].code, problems[0].locator) == (errors.Corrupt.code, "smses/*[6]")
    assert "after 5 messages" in problems[0].reason


def test_declared_count_larger_than_the_content_is_reported(tmp_path, context):
    path = _write(tmp_path / "sms.xml", MESSAGES[:2], count=9)
    items, problems = _read(path, context(path))
    assert len(items) == 2
    assert [(p.code, p.locator) for p in problems] == [(errors.Corrupt.code, "smses")]
    assert "count=9" in problems[0].reason


def test_entity_expansion_attack_is_refused_with_a_problem(tmp_path, context):
    path = tmp_path / "sms.xml"
    entities = "".join(f'<!ENTITY lol{n} "{"&lol%d;" % (n - 1) * 10}">' for n in range(1, 10))
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE smses [<!ENTITY lol0 "lol">{entities}]>\n'
                    f'<smses count="1">{sms_element("+447700900123", ms(2020, 1, 1), 1, chr(34) + "&lol9;" + chr(34))}</smses>\n')
    assert choose(path, path.read_bytes()[:4096]) is sms
    items, problems = _read(path, context(path))
    assert items == []
    assert len(problems) == 1 and problems[0].code == errors.Corrupt.code and "entity-expansion" in problems[0].reason


def test_external_entities_are_refused(tmp_path, context):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    path = tmp_path / "sms.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE smses [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
                    f'<smses count="1"><sms address="+447700900123" date="{ms(2020, 1, 1)}" type="1" body="&xxe;" /></smses>\n')
    items, problems = _read(path, context(path))
    assert items == [] and [p.code for p in problems] == [errors.Corrupt.code]


def test_bad_and_oversized_mms_parts_are_reported_and_the_message_kept(tmp_path, context):
    message = mms_element(ms(2020, 7, 3, 18, 0), 1, "+447700900123", "Matt (Work)", [
        part(0, "text/plain", "txt000.txt", text="see attached"),
        part(1, "image/jpeg", "broken.jpg", data="!!!not base64!!!"),
        part(2, "application/pdf", "big.pdf", data=bytes(400)),
    ], [("+447700900123", 137)])
    path = _write(tmp_path / "sms.xml", [message])
    items, problems = _read(path, context(path, limits=Limits(max_attachment_bytes=100)))
    assert [i.kind for i in items] == ["sms"] and items[0].attachment_names == ["broken.jpg", "big.pdf"]
    assert [(p.locator, p.code) for p in problems] == [
        ("smses/mms[1]/attachment[1]", errors.Corrupt.code), ("smses/mms[1]/attachment[2]", errors.TooLarge.code)]
    assert all(p.item_id == items[0].id for p in problems) and len(items[0].problems) == 2


def test_a_different_root_element_is_corrupt(tmp_path, context):
    path = tmp_path / "sms.xml"
    path.write_text('<?xml version="1.0"?>\n<!-- <smses> -->\n<calls count="0"></calls>\n')
    with pytest.raises(errors.Corrupt):
        list(sms.read(path, context(path)))


def test_unknown_declared_encoding_is_corrupt_not_a_crash(tmp_path, context):
    path = tmp_path / "sms.xml"
    path.write_bytes(b"<?xml version='1.0' encoding='x-no-such-encoding' ?>\n<smses count=\"0\"></smses>\n")
    items, problems = _read(path, context(path))
    assert items == []
    assert [(p.code, "unknown character encoding" in p.reason) for p in problems] == [(errors.Corrupt.code, True)]
