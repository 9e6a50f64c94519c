"""WhatsApp exports: the five real whatstk samples, every generated layout, zips with media
(searched through the real Tika and OpenSearch) and hostile or damaged input."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest

from indexer import errors, sources
from indexer.digests import file_sha256
from indexer.extract import TikaExtractor
from indexer.model import Custody, Item, Problem
from indexer.sources import whatsapp
from indexer.sources.base import Limits, SourceContext
from indexer.sources.support.chat import conversation_key
from search_api.search import SearchRequest, run_search

LRM, NNBSP = "\u200e", "\u202f"


def _context(path: Path, extractor: TikaExtractor, limits: Limits = Limits(), zone: str = "Europe/London") -> SourceContext:
    return SourceContext(str(path), file_sha256(path), Custody("WhatsApp Tester", "private"), extractor, limits, ZoneInfo(zone), "GB")


@pytest.fixture
def read_export(settings):
    """`read_export(path, limits=..., zone=...)` → (items, problems, ctx) from `whatsapp.read` directly."""
    extractor = TikaExtractor(settings.effective_tika_url)

    def run(path: Path, limits: Limits = Limits(), zone: str = "Europe/London"):
        ctx = _context(path, extractor, limits, zone)
        produced = list(whatsapp.read(path, ctx))
        items = [p for p in produced if isinstance(p, Item)]
        problems = [p for p in produced if isinstance(p, Problem)]
        return items, problems, ctx

    yield run
    extractor.close()


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2020, 3, 1, 10, 0, 0)), data, compress_type=method)
    return path


def _docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    package = document.part.package  # drop the template's thumbnail: an image Tika finds no text in
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package.rels.pop(rel_id)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _messages(items: list[Item]) -> list[Item]:
    return [i for i in items if i.kind == "message"]


# --- the real samples -----------------------------------------------------------------------

SAMPLES = {
    # file: (first sender, first UTC date, first original, last sender, last UTC date, last original)
    "whatstk-lorem.txt": ("Mary", "2020-01-15T02:22:56Z", "15-01-20 02:22:56", "Mary", "2020-05-11T21:32:48Z", "11-05-20 22:32:48"),
    "whatstk-pokemon.txt": (None, "2016-04-15T14:04:00Z", "15.04.2016, 15:04", "Wobbuffet", "2016-10-31T12:23:00Z", "31.10.2016, 12:23"),
    "whatstk-lorem-merge-part1.txt": ("John", "2019-10-20T09:16:00Z", "2019-10-20, 10:16", "Giuseppe", "2020-01-10T00:00:00Z", "2020-01-10, 00:00"),
    "whatstk-example-12h.txt": ("You", "2016-04-15T14:04:00Z", "2016-04-15, 3:04 PM", "Wobbuffet", "2016-10-31T14:23:00Z", "2016-10-31, 02:23 PM"),
    "whatstk-samplechat_4.txt": ("You", "2016-04-15T14:04:10Z", "15-04-2016, 03:04:10 PM", "Wobbuffet", "2016-10-31T12:23:10Z", "31-10-2016, 12:23:10 PM"),
}


@pytest.mark.corpora(sibling=["test_android_export_reads_senders_multiline_bodies_and_events", "test_separators_and_two_digit_years_share_one_parser", "test_us_12h_layout_with_narrow_no_break_space_is_read_month_first"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_real_sample_gives_one_item_per_timestamped_line(name, corpora, read_export):
    path = corpora / "whatsapp" / name
    first_sender, first_date, first_original, last_sender, last_date, last_original = SAMPLES[name]
    # These samples have no multi-line messages: every line that starts with a date or "[" is one message.
    expected = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if re.match(r"\[?\d", line))
    assert sources.choose(path, path.read_bytes()[:4096]) is whatsapp
    items, problems, ctx = read_export(path)
    assert problems == []
    assert len(items) == expected and all(i.kind == "message" and i.channel == "whatsapp" for i in items)
    assert [i.seq for i in items] == list(range(expected))
    assert {i.conversation_id for i in items} == {conversation_key("whatsapp", ctx, path.stem)}
    assert items[0].conversation_name == path.stem
    first, last = items[0], items[-1]
    assert (first.sender.raw if first.sender else None, first.date, first.date_original) == (first_sender, first_date, first_original)
    assert (last.sender.raw, last.date, last.date_original) == (last_sender, last_date, last_original)
    assert [i.locator for i in items[:2]] == ["line[1]", "line[2]"]


@pytest.mark.corpora(sibling="test_android_export_reads_senders_multiline_bodies_and_events")
def test_pokemon_sample_marks_both_encryption_notices_without_a_sender(corpora, read_export):
    items, _, _ = read_export(corpora / "whatsapp" / "whatstk-pokemon.txt")
    assert [(i.event, i.sender) for i in items[:2]] == [("encryption_notice", None), ("encryption_notice", None)]
    assert items[0].body.startswith("Messages and calls are end-to-end encrypted.")
    assert items[-1].body == "Wo-bbu-ffet"  # the trailing blank line is not part of the last message
    assert "Pokemon Chat" not in [p.raw for p in items[2].participants]


@pytest.mark.corpora(sibling="test_times_going_backwards_keep_the_export_order")
def test_12h_sample_keeps_export_order_when_times_go_backwards(corpora, read_export):
    items, _, _ = read_export(corpora / "whatsapp" / "whatstk-example-12h.txt")
    oak, ash = items[8], items[9]
    assert (oak.sender.raw, oak.seq, oak.date) == ("Prof. Oak", 8, "2016-08-07T22:45:00Z")
    assert (ash.sender.raw, ash.seq, ash.date) == ("Ash Ketchum", 9, "2016-08-07T17:45:00Z")
    assert (items[0].event, items[0].body) == ("other_system", "You created group \u201cSample Group\u201d")


@pytest.mark.corpora(sibling="test_a_sender_that_is_an_impossible_phone_stays_a_name")
def test_lorem_sample_keeps_an_impossible_phone_as_a_name(corpora, read_export):
    items, _, _ = read_export(corpora / "whatsapp" / "whatstk-lorem.txt")
    phone = next(i.sender for i in items if i.sender.raw.startswith("+"))
    assert (phone.raw, phone.name, phone.address) == ("+1 123 456 789", "+1 123 456 789", None)
    assert sorted(p.raw for p in items[0].participants) == ["+1 123 456 789", "Giuseppe", "John", "Mary"]


@pytest.mark.corpora(sibling="test_ios_zip_media_text_is_searchable_after_ingest")
def test_real_samples_ingest_and_search(corpora, ingest_files, services, settings):
    paths = [corpora / "whatsapp" / name for name in sorted(SAMPLES)]
    expected = sum(sum(1 for line in p.read_text(encoding="utf-8").splitlines() if re.match(r"\[?\d", line)) for p in paths)
    summary, report = ingest_files(paths, custodian="WhatsApp Samples Custodian")
    assert report == []
    assert summary.items_by_kind["message"] == expected
    found = run_search(services, settings.items_alias, SearchRequest(q="Sinnoh", size=10, custodian=["WhatsApp Samples Custodian"]))
    assert found["total"] == 3
    assert {h["channel"] for h in found["hits"]} == {"whatsapp"}
    assert {h["from"]["raw"] for h in found["hits"]} == {"Meowth"}


# --- generated text layouts -----------------------------------------------------------------

ANDROID = (
    f"{LRM}12/03/2020, 09:15 - Messages and calls are end-to-end encrypted. No one outside of this chat, "
    "not even WhatsApp, can read or listen to them. Tap to learn more.\n"
    "12/03/2020, 09:16 - \u202a+44 7700 900123\u202c: First line\nsecond line\n\nfourth line after a blank\n"
    "13/03/2020, 18:05 - Bob Smith: IMG-20200313-WA0001.jpg (file attached)\n"
    "13/03/2020, 18:06 - Bob Smith: <Media omitted>\n"
    "13/03/2020, 18:07 - Bob Smith: This message was deleted\n"
    "13/03/2020, 18:08 - \u202a+44 7700 900123\u202c: You deleted this message\n"
    "14/03/2020, 08:00 - Your security code with Bob Smith changed. Tap to learn more.\n"
    "14/03/2020, 08:01 - Bob Smith turned on disappearing messages. New messages will disappear from this chat "
    "7 days after they're sent, except when kept. Tap to change.\n"
    "14/03/2020, 08:02 - You turned off disappearing messages.\n"
)


def test_android_export_reads_senders_multiline_bodies_and_events(tmp_path, read_export):
    path = _write_text(tmp_path / "WhatsApp Chat with Bob Smith.txt", ANDROID)
    items, problems, ctx = read_export(path)
    assert problems == []
    assert [i.event for i in items] == [
        "encryption_notice", None, None, "media_omitted", "deleted", "deleted", "security_code",
        "disappearing_on", "disappearing_off",
    ]
    assert [i.seq for i in items] == list(range(9))
    assert {(i.conversation_id, i.conversation_name) for i in items} == {(conversation_key("whatsapp", ctx, "Bob Smith"), "Bob Smith")}
    phone = items[1]
    assert (phone.sender.raw, phone.sender.address) == ("+44 7700 900123", "+447700900123")
    assert phone.body == "First line\nsecond line\n\nfourth line after a blank"
    assert (phone.date, phone.date_original, phone.locator) == ("2020-03-12T09:16:00Z", "12/03/2020, 09:16", "line[2]")
    assert items[2].attachment_names == ["IMG-20200313-WA0001.jpg"]  # text alone: the name is kept, no file to read
    assert (items[3].sender.raw, items[3].body) == ("Bob Smith", "<Media omitted>")
    assert [i.sender.raw for i in items[4:]] == ["Bob Smith", "+44 7700 900123", "Bob Smith", "Bob Smith", "You"]
    assert items[0].sender is None and items[0].locator == "line[1]"
    assert {p.raw for p in items[0].participants} == {"+44 7700 900123", "Bob Smith", "You"}


def test_group_system_lines_name_their_actor(tmp_path, read_export):
    lines = [
        'Alice created group "Project Falcon"', "Alice added Bob and Carol",
        'Alice changed the subject from "Project Falcon" to "Falcon: phase 2"', "Alice changed this group's icon",
        "Bob: Alice added Carol by mistake I think", "Carol left", "Dave joined using this group's invite link",
        "Alice removed Dave", "Alice pinned a message",
        "Alice changed their phone number to a new number. Tap to message or add the new number.",
    ]
    text = "".join(f"01/02/2021, 10:{n:02d} - {line}\n" for n, line in enumerate(lines))
    items, problems, _ = read_export(_write_text(tmp_path / "group.txt", text))
    assert problems == []
    assert [(i.event, i.sender.raw if i.sender else None) for i in items] == [
        ("other_system", "Alice"), ("added", "Alice"), ("subject_changed", "Alice"), ("icon_changed", "Alice"),
        (None, "Bob"), ("left", "Carol"), ("joined", "Dave"), ("removed", "Alice"), ("pinned", "Alice"),
        ("other_system", None),
    ]
    assert items[4].body == "Alice added Carol by mistake I think"
    assert items[2].body == lines[2]
    assert items[0].date == "2021-02-01T10:00:00Z"  # 01/02 is ambiguous: read day-first (UK)


def test_calls_and_edits_are_events_but_talk_about_calls_is_not(tmp_path, read_export):
    text = (f"[01/02/2021, 10:00:00] Bob: {LRM}Missed voice call, {LRM}Tap to call back\n"
            "[01/02/2021, 10:01:00] Bob: Video call tomorrow?\n"
            "[01/02/2021, 10:02:00] Bob: fixed the typo <This message was edited>\n")
    items, problems, _ = read_export(_write_text(tmp_path / "_chat.txt", text))
    assert problems == []
    assert [(i.event, i.sender.raw) for i in items] == [("call", "Bob"), (None, "Bob"), ("edited", "Bob")]
    assert items[0].body == f"Missed voice call, {LRM}Tap to call back"


def test_us_12h_layout_with_narrow_no_break_space_is_read_month_first(tmp_path, read_export):
    text = (f"3/1/24, 9:05{NNBSP}AM - Alice: morning\n3/14/24, 12:30{NNBSP}PM - Bob: lunch?\n"
            f"3/15/24, 12:05{NNBSP}AM - Alice: midnight snack\n")
    items, problems, _ = read_export(_write_text(tmp_path / "us.txt", text), zone="America/New_York")
    assert problems == []
    assert [i.date for i in items] == ["2024-03-01T14:05:00Z", "2024-03-14T16:30:00Z", "2024-03-15T04:05:00Z"]
    assert items[1].date_original == f"3/14/24, 12:30{NNBSP}PM"
    assert items[1].timezone == "-04:00"
    assert [i.body for i in items] == ["morning", "lunch?", "midnight snack"]


def test_spanish_a_m_p_m_and_lowercase_am_pm(tmp_path, read_export):
    text = ("14/2/2023, 9:05 a. m. - Ana: hola\n14/2/2023, 7:40 p.\u00a0m. - Luis: adiós\n"
            "15/2/2023, 12:10 am - Ana: tarde\n")
    items, problems, _ = read_export(_write_text(tmp_path / "es.txt", text))
    assert problems == []
    assert [i.date for i in items] == ["2023-02-14T09:05:00Z", "2023-02-14T19:40:00Z", "2023-02-15T00:10:00Z"]
    assert [i.sender.raw for i in items] == ["Ana", "Luis", "Ana"]


def test_times_going_backwards_keep_the_export_order(tmp_path, read_export):
    text = ("2016-08-07, 10:45 PM - Prof. Oak: late reply\n2016-08-07, 5:45 PM - Ash Ketchum: earlier, but exported after\n"
            "2016-08-08, 9:00 AM - Prof. Oak: next day\n")
    items, problems, _ = read_export(_write_text(tmp_path / "backwards.txt", text), zone="UTC")
    assert problems == []
    assert [(i.seq, i.sender.raw, i.date) for i in items] == [
        (0, "Prof. Oak", "2016-08-07T22:45:00Z"), (1, "Ash Ketchum", "2016-08-07T17:45:00Z"), (2, "Prof. Oak", "2016-08-08T09:00:00Z")]


def test_a_sender_that_is_an_impossible_phone_stays_a_name(tmp_path, read_export):
    text = "[20-10-19 10:16:03] +1 123 456 789: Lorem ipsum\n[20-10-19 10:17:00] +44 7700 900123: dolor sit\n"
    items, problems, _ = read_export(_write_text(tmp_path / "phones.txt", text))
    assert problems == []
    impossible, real = (i.sender for i in items)
    assert (impossible.raw, impossible.name, impossible.address) == ("+1 123 456 789", "+1 123 456 789", None)
    assert real.raw == "+44 7700 900123" and real.address == "+447700900123"
    assert sorted(p.raw for p in items[0].participants) == ["+1 123 456 789", "+44 7700 900123"]


def test_spanish_hours_counted_from_zero_before_noon(tmp_path, read_export):
    # Android in Spanish writes the first hour after midnight as "00:08 a. m." (and "0:08 a. m.").
    text = ("14/2/2023, 00:08 a.\u00a0m. - Ana: ¿sigues despierto?\n14/2/2023, 0:09 a. m. - Luis: sí\n"
            "14/2/2023, 12:10 p. m. - Ana: a mediodía\n")
    items, problems, _ = read_export(_write_text(tmp_path / "es.txt", text))
    assert problems == []
    assert [i.date for i in items] == ["2023-02-14T00:08:00Z", "2023-02-14T00:09:00Z", "2023-02-14T12:10:00Z"]
    assert items[0].date_original == "14/2/2023, 00:08 a.\u00a0m."


def test_sender_kept_when_no_space_follows_the_colon(tmp_path, read_export):
    text = "12/03/2020, 09:00 - John Doe:.\n12/03/2020, 09:01 - Jane Roe: ok\n12/03/2020, 09:02 - John Doe:\n"
    items, problems, _ = read_export(_write_text(tmp_path / "terse.txt", text))
    assert problems == []
    assert [(i.sender.raw, i.event, i.body) for i in items] == [("John Doe", None, "."), ("Jane Roe", None, "ok"),
                                                                ("John Doe", None, "")]
    assert {p.raw for p in items[0].participants} == {"John Doe", "Jane Roe"}


def test_separators_and_two_digit_years_share_one_parser(tmp_path, read_export):
    text = "05.06.21, 07:08 - A: dots\n05-06-2021 07:09:10 - B: dashes\n[05/06/2021, 07:10:11] C: brackets\n2021-06-05, 07:11 - D: iso\n"
    items, problems, _ = read_export(_write_text(tmp_path / "mixed.txt", text))
    assert problems == []
    assert [i.date for i in items] == ["2021-06-05T06:08:00Z", "2021-06-05T06:09:10Z", "2021-06-05T06:10:11Z", "2021-06-05T06:11:00Z"]
    assert [i.date_original for i in items] == ["05.06.21, 07:08", "05-06-2021 07:09:10", "05/06/2021, 07:10:11", "2021-06-05, 07:11"]


def test_truncated_last_line_is_reported_and_the_rest_indexed(tmp_path, read_export):
    text = "12/03/2020, 09:00 - A: one\n12/03/2020, 09:01 - B: two\nand more\n12/03/2020, 09:"
    items, problems, _ = read_export(_write_text(tmp_path / "cut.txt", text))
    assert [i.body for i in items] == ["one", "two\nand more"]
    assert [(p.code, p.locator) for p in problems] == [("corrupt", "line[4]")]
    assert "12/03/2020, 09:" in problems[0].reason


def test_impossible_date_keeps_the_message_without_a_date(tmp_path, read_export):
    text = "13/01/2020, 10:00 - A: fine\n31/02/2020, 10:00 - B: no such day\n"
    items, problems, _ = read_export(_write_text(tmp_path / "bad.txt", text))
    assert [(i.body, i.date, i.date_original) for i in items] == [
        ("fine", "2020-01-13T10:00:00Z", "13/01/2020, 10:00"), ("no such day", None, "31/02/2020, 10:00")]
    assert [(p.code, p.locator, p.item_id) for p in problems] == [("corrupt", "line[2]", items[1].id)]
    assert items[1].problems == [problems[0].reason]


def test_text_before_the_first_message_and_bad_bytes_are_reported(tmp_path, read_export):
    path = tmp_path / "odd.txt"
    path.write_bytes(b"12/03/2020, 09:00 - A: caf\xe9\n12/03/2020, 09:01 - B: ok\n")
    items, problems, _ = read_export(path)
    assert [i.body for i in items] == ["caf\ufffd", "ok"]
    assert [(p.code, p.locator) for p in problems] == [("corrupt", "line[1]")]
    orphan = _write_text(tmp_path / "orphan.txt", "exported by a tool\n12/03/2020, 09:00 - A: x\n")
    items, problems, _ = read_export(orphan)
    assert [i.body for i in items] == ["x"]
    assert [(p.code, p.locator) for p in problems] == [("corrupt", "line[1]")]


def test_only_whatsapp_text_is_accepted(tmp_path):
    prose = _write_text(tmp_path / "notes.txt", "Meeting notes\n12/03/2020 was a Thursday\n")
    chat = _write_text(tmp_path / "_chat.txt", "[12/03/2020, 09:00:00] A: hi\n")
    renamed = _write_text(tmp_path / "chat.log", "12/03/2020, 09:00 - A: hi\n")
    assert whatsapp.accepts(prose, prose.read_bytes()) == 0
    assert whatsapp.accepts(chat, chat.read_bytes()) == 85
    assert whatsapp.accepts(renamed, renamed.read_bytes()) == 60
    assert whatsapp.accepts(tmp_path, b"") == 0
    assert sources.choose(chat, chat.read_bytes()) is whatsapp


def test_a_text_without_message_lines_is_corrupt(tmp_path, read_export):
    with pytest.raises(errors.Corrupt, match="no WhatsApp message lines"):
        read_export(_write_text(tmp_path / "empty.txt", "nothing here\n"))


# --- zip exports ----------------------------------------------------------------------------

IOS_CHAT = (
    f"[01/03/2020, 10:00:00] Falcon Team: {LRM}Messages and calls are end-to-end encrypted. No one outside of this chat, "
    "not even WhatsApp, can read or listen to them.\n"
    f"[01/03/2020, 10:00:05] Falcon Team: {LRM}Alice added Bob\n"
    "[01/03/2020, 10:01:00] Alice: Morning all\n"
    f"[01/03/2020, 10:02:00] Bob: {LRM}<attached: 00000013-Minutes.docx>\n"
    f"[01/03/2020, 10:03:00] Alice: {LRM}<attached: 00000014-notes.txt>\n"
    f"[01/03/2020, 10:04:00] Alice: {LRM}<attached: 00000015-PHOTO-2020-03-01-10-04-00.jpg>\n"
    f"[01/03/2020, 10:05:00] Bob: {LRM}image omitted\n"
    f"[01/03/2020, 10:06:00] Alice: {LRM}This message was deleted.\n"
    f"[02/03/2020, 09:00:00] Falcon Team: {LRM}Alice turned on disappearing messages. New messages will disappear "
    "from this chat 7 days after they're sent.\n"
)


def _ios_zip(path: Path) -> Path:
    return _write_zip(path, {
        "_chat.txt": IOS_CHAT.encode(),
        "00000013-Minutes.docx": _docx_bytes("The board approved the vellichorum budget."),
        "00000014-notes.txt": b"Remember the quintavorax deadline on Friday.\n",
    })


def test_ios_zip_links_media_to_messages(tmp_path, read_export, services):
    path = _ios_zip(tmp_path / "WhatsApp Chat - Falcon Team.zip")
    assert sources.choose(path, path.read_bytes()[:4096]) is whatsapp
    items, problems, ctx = read_export(path)
    messages = _messages(items)
    assert [(m.event, m.sender.raw if m.sender else None) for m in messages] == [
        ("encryption_notice", None), ("added", "Alice"), (None, "Alice"), (None, "Bob"), (None, "Alice"),
        (None, "Alice"), ("media_omitted", "Bob"), ("deleted", "Alice"), ("disappearing_on", "Alice"),
    ]
    assert {m.conversation_id for m in messages} == {conversation_key("whatsapp", ctx, "Falcon Team")}
    assert messages[0].conversation_name == "Falcon Team"
    assert messages[3].locator == "_chat.txt/line[4]" and messages[3].date == "2020-03-01T10:02:00Z"
    attachments = [i for i in items if i.kind == "attachment"]
    assert [(a.file_name, a.parent_id, a.family_id, a.locator) for a in attachments] == [
        ("00000013-Minutes.docx", messages[3].id, messages[3].id, "_chat.txt/line[4]/attachment[1]"),
        ("00000014-notes.txt", messages[4].id, messages[4].id, "_chat.txt/line[5]/attachment[1]"),
    ]
    assert "vellichorum" in attachments[0].body and "quintavorax" in attachments[1].body
    assert messages[3].attachment_names == ["00000013-Minutes.docx"]
    assert [(p.code, p.locator, p.reason) for p in problems] == [(
        "corrupt", "_chat.txt/line[6]/attachment[1]",
        "attachment '00000015-PHOTO-2020-03-01-10-04-00.jpg' referenced but not in the export")]
    assert problems[0].item_id == messages[5].id


def test_ios_zip_media_text_is_searchable_after_ingest(tmp_path, ingest_files, services, settings):
    path = _ios_zip(tmp_path / "WhatsApp Chat - Falcon Team.zip")
    summary, report = ingest_files([path], custodian="WhatsApp Zip Custodian")
    assert summary.items_by_kind == {"message": 9, "attachment": 2}
    assert [(r["code"], r["locator"]) for r in report] == [("corrupt", "_chat.txt/line[6]/attachment[1]")]
    found = run_search(services, settings.items_alias, SearchRequest(q="vellichorum", custodian=["WhatsApp Zip Custodian"]))
    assert found["total"] == 1
    hit = found["hits"][0]
    assert (hit["kind"], hit["channel"], hit["file_name"]) == ("attachment", "whatsapp", "00000013-Minutes.docx")
    parent = services.get(index=settings.items_alias, id=hit["parent_id"])["_source"]
    assert (parent["kind"], parent["from"]["raw"], parent["conversation_name"]) == ("message", "Bob", "Falcon Team")
    assert parent["attachment_names"] == ["00000013-Minutes.docx"] and hit["family_id"] == parent["id"]
    notes = run_search(services, settings.items_alias, SearchRequest(q="quintavorax", custodian=["WhatsApp Zip Custodian"]))
    assert [h["file_name"] for h in notes["hits"]] == ["00000014-notes.txt"]


def test_android_zip_reads_file_attached_and_reports_unreferenced_members(tmp_path, read_export, services):
    chat = ("01/03/2020, 10:00 - Bob: DOC-20200301-WA0002.txt (file attached)\nthe agenda\n"
            "01/03/2020, 10:01 - Bob: see (this) note\n")
    path = _write_zip(tmp_path / "export.zip", {
        "WhatsApp Chat with Bob.txt": chat.encode(),
        "DOC-20200301-WA0002.txt": b"Agenda: the orbislanthe merger.\n",
        "IMG-20200301-WA0003.jpg": b"\xff\xd8\xff\xe0 not really a photo",
    })
    items, problems, _ = read_export(path)
    messages = _messages(items)
    assert messages[0].conversation_name == "Bob"
    assert messages[0].body == "DOC-20200301-WA0002.txt (file attached)\nthe agenda"
    assert messages[1].attachment_names == []  # "(this)" is not a file
    attachment = next(i for i in items if i.kind == "attachment")
    assert (attachment.parent_id, "orbislanthe" in attachment.body) == (messages[0].id, True)
    assert [(p.code, p.locator) for p in problems] == [("unsupported", "IMG-20200301-WA0003.jpg")]


def test_truncated_zip_is_corrupt(tmp_path, read_export, ingest_files):
    whole = _ios_zip(tmp_path / "whole.zip").read_bytes()
    path = tmp_path / "WhatsApp Chat - Cut.zip"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    cut_elsewhere = tmp_path / "cut.zip"
    cut_elsewhere.write_bytes(whole[: len(whole) * 2 // 3])
    assert whatsapp.accepts(cut_elsewhere, cut_elsewhere.read_bytes()[:4096]) == 85  # by its first member's name
    with pytest.raises(errors.Corrupt, match="truncated or damaged"):
        read_export(path)
    summary, report = ingest_files([path], custodian="WhatsApp Cut Custodian")
    assert summary.items == 0
    assert [r["code"] for r in report] == ["corrupt"] and "truncated" in report[0]["reason"]


def test_unsafe_member_names_are_skipped_and_never_written(tmp_path, read_export, services):
    chat = f"[01/03/2020, 10:00:00] Eve: {LRM}<attached: evil.txt>\n[01/03/2020, 10:01:00] Eve: hello\n"
    path = _write_zip(tmp_path / "WhatsApp Chat - Eve.zip", {
        "_chat.txt": chat.encode(), "../../evil.txt": b"escape", "/abs/evil2.txt": b"absolute",
        "media/../../evil3.txt": b"nested",
    })
    items, problems, _ = read_export(path)
    assert [i.body for i in items] == ["<attached: evil.txt>", "hello"]
    assert all(i.kind == "message" for i in items)
    unsafe = [p for p in problems if "unsafe member name" in p.reason]
    assert sorted(p.locator for p in unsafe) == ["../../evil.txt", "/abs/evil2.txt", "media/../../evil3.txt"]
    assert {p.code for p in unsafe} == {"unsafe_path"}
    refused = [p for p in problems if p.locator == "_chat.txt/line[1]/attachment[1]"]
    assert [p.code for p in refused] == ["corrupt"] and "refused" in refused[0].reason
    assert not list(tmp_path.parent.glob("evil*")) and not Path("/abs").exists()


def test_zip_bomb_and_oversized_members_are_refused(tmp_path, read_export, services):
    chat = (f"[01/03/2020, 10:00:00] Bob: {LRM}<attached: 00000001-zeros.txt>\n"
            f"[01/03/2020, 10:01:00] Bob: {LRM}<attached: 00000002-big.txt>\n")
    path = _write_zip(tmp_path / "WhatsApp Chat - Bomb.zip", {
        "_chat.txt": chat.encode(), "00000001-zeros.txt": bytes(12 * 1024 * 1024), "00000002-big.txt": b"x" * 5000,
    })
    items, problems, _ = read_export(path, limits=Limits(max_attachment_bytes=4000))
    assert len(items) == 2 and all(i.kind == "message" for i in items)
    assert ("too_large", "00000001-zeros.txt") in [(p.code, p.locator) for p in problems]
    big = [p for p in problems if p.locator == "_chat.txt/line[2]/attachment[1]"]
    assert [p.code for p in big] == ["too_large"] and "4000-byte limit" in big[0].reason
    assert items[1].problems == [big[0].reason]


def test_export_past_the_total_size_limit_is_reported(tmp_path, read_export, monkeypatch, services):
    monkeypatch.setattr(whatsapp, "MAX_TOTAL_BYTES", 400)
    chat = f"[01/03/2020, 10:00:00] Bob: {LRM}<attached: 00000001-a.txt>\n"
    path = _write_zip(tmp_path / "WhatsApp Chat - Big.zip", {"_chat.txt": chat.encode(), "00000001-a.txt": b"y" * 500})
    items, problems, _ = read_export(path)
    assert [i.kind for i in items] == ["message"]
    assert [(p.code, p.locator) for p in problems] == [("too_large", ""), ("too_large", "_chat.txt/line[1]/attachment[1]")]


def test_broken_member_is_reported_and_the_rest_read(tmp_path, read_export, services):
    chat = (f"[01/03/2020, 10:00:00] Bob: {LRM}<attached: 00000001-broken.txt>\n"
            f"[01/03/2020, 10:01:00] Bob: {LRM}<attached: 00000002-fine.txt>\n")
    path = _write_zip(tmp_path / "WhatsApp Chat - Broken.zip", {
        "_chat.txt": chat.encode(), "00000001-broken.txt": b"A" * 200, "00000002-fine.txt": b"The zephyrquill report.\n",
    }, method=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    offset = data.index(b"A" * 200)
    data[offset + 50] = ord("B")  # the central directory still lists it; its CRC no longer matches
    path.write_bytes(bytes(data))
    items, problems, _ = read_export(path)
    assert [(p.code, p.locator) for p in problems] == [("corrupt", "_chat.txt/line[1]/attachment[1]")]
    assert "decompressed" in problems[0].reason or "CRC" in problems[0].reason
    fine = [i for i in items if i.kind == "attachment"]
    assert [f.file_name for f in fine] == ["00000002-fine.txt"] and "zephyrquill" in fine[0].body


def test_zip_without_a_chat_text_is_not_whatsapp(tmp_path, read_export):
    path = _write_zip(tmp_path / "photos.zip", {"IMG-1.jpg": b"\xff\xd8\xff"})
    assert whatsapp.accepts(path, path.read_bytes()[:4096]) == 0
    named = _write_zip(tmp_path / "WhatsApp Chat - Empty.zip", {"IMG-1.jpg": b"\xff\xd8\xff"})
    with pytest.raises(errors.Corrupt, match="no WhatsApp chat text"):
        read_export(named)


def test_overlong_line_is_cut_and_reported_and_the_next_messages_read(tmp_path, read_export):
    path = tmp_path / "WhatsApp Chat with Long.txt"
    path.write_text("[06/01/2020, 10:00:00] Alice: " + "blah " * 600_000 + "\n"
                    "[06/01/2020, 10:01:00] Bob: after the long one\n", encoding="utf-8")
    items, problems, _ = read_export(path)
    assert [i.body for i in items][1] == "after the long one"
    assert len(items[0].body) < whatsapp.MAX_LINE_CHARS + 100 and items[0].body.endswith(whatsapp.CUT_MARK)
    assert [(p.locator, p.code) for p in problems] == [("line[1]", "too_large")]
