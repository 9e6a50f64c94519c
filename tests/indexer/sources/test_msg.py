"""Outlook .msg files through the real pipeline: messages written from scratch (tests/builders/
outlook.py: fields, recipients, attachments, dates, bodies, encrypted, signed, Exchange senders,
damaged) and the real msg-extractor samples and an Outlook message saved as .eml (marked
`corpora`; each names its generated sibling)."""

from __future__ import annotations

import base64
import struct
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import compressed_rtf
import pytest
from extract_msg.msg_classes.msg import MSGFile

from builders.images import png_with_text
from builders.outlook import CC, TO, Attachment, Message, msg_bytes, ole_bytes, read_streams
from indexer.sources import choose, msg
from search_api.search import SearchRequest, run_search

STRANGE_DATE = "msg/msgextractor-strangeDate.msg"
UNICODE = "msg/msgextractor-unicode.msg"
OUTLOOK_AS_EML = "eml/mailparser-mail_outlook_1.eml"


def _custodian(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


def _docs(services, settings, custodian: str) -> list[dict]:
    response = services.search(index=settings.items_alias, body={
        "query": {"term": {"custodian": custodian}}, "size": 500, "sort": [{"locator": "asc"}]})
    return sorted((h["_source"] for h in response["hits"]["hits"]), key=lambda d: (d["kind"] != "email", d["locator"]))


def _parsed(address: dict) -> dict:
    """An address as the reader wrote it (enrichment adds the resolved `person` key)."""
    return {k: v for k, v in address.items() if k != "person"}


def _search(services, settings, q: str, custodian: str) -> list[dict]:
    return run_search(services, settings.items_alias, SearchRequest(q=q, custodian=[custodian], size=50))["hits"]


# --- building variants of real .msg files -------------------------------------------------------

def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _embed(outer: Path, inner: Path, name: str) -> bytes:
    """`outer` with `inner` attached as an embedded message (PR_ATTACH_METHOD = 5, ATTACH_EMBEDDED_MSG)."""
    streams = read_streams(outer.read_bytes())
    attachment = "__attach_version1.0_#00000000"
    streams[(attachment, "__properties_version1.0")] = b"\x00" * 8 + b"".join(
        struct.pack("<IIQ", tag, 6, value) for tag, value in ((0x37050003, 5), (0x0E210003, 0), (0x370B0003, 0xFFFFFFFF)))
    streams[(attachment, "__substg1.0_3001001F")] = _utf16(name)
    for path, data in read_streams(inner.read_bytes()).items():
        if path[0] == "__nameid_version1.0":
            continue  # an embedded message uses its parent's named-property map
        if path == ("__properties_version1.0",):
            data = data[:24] + data[32:]  # embedded messages have a 24-byte properties header, not 32
        streams[(attachment, "__substg1.0_3701000D", *path)] = data
    root = bytearray(streams[("__properties_version1.0",)])
    root[12:16] = root[20:24] = struct.pack("<I", 1)  # next attachment id, attachment count
    streams[("__properties_version1.0",)] = bytes(root)
    return ole_bytes(streams)


def _signed(source: bytes) -> bytes:
    """`source` as a clear-signed S/MIME message: its one attachment holds the multipart/signed MIME."""
    content = EmailMessage()
    content.set_content("Signed content mentions curlewbank.")
    content.add_attachment(b"The annex mentions godwitmarsh.", maintype="text", subtype="plain", filename="annex.txt")
    signature = base64.encodebytes(b"\x30\x82" + bytes(range(256))).decode()
    mime = (b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="sb42"\r\n'
            b"\r\n--sb42\r\n" + content.as_bytes() + b"\r\n--sb42\r\nContent-Type: application/pkcs7-signature; "
            b'name="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + signature.encode() + b"\r\n--sb42--\r\n")
    streams = read_streams(source)
    for body in ("__substg1.0_1000001F", "__substg1.0_10090102"):
        streams.pop((body,), None)
    streams[("__substg1.0_001A001F",)] = _utf16("IPM.Note.SMIME.MultipartSigned")
    attachment = "__attach_version1.0_#00000000"
    streams[(attachment, "__properties_version1.0")] = b"\x00" * 8 + b"".join(
        struct.pack("<IIQ", tag, 6, value) for tag, value in ((0x37050003, 1), (0x0E210003, 0)))  # ATTACH_BY_VALUE
    streams[(attachment, "__substg1.0_37010102")] = mime
    streams[(attachment, "__substg1.0_370E001F")] = _utf16("multipart/signed")
    streams[(attachment, "__substg1.0_3707001F")] = _utf16("smime.p7m")
    root = bytearray(streams[("__properties_version1.0",)])
    root[12:16] = root[20:24] = struct.pack("<I", 1)
    streams[("__properties_version1.0",)] = bytes(root)
    return ole_bytes(streams)


# --- the real samples ---------------------------------------------------------------------------

@pytest.mark.corpora(sibling="test_generated_msg_fields_recipients_and_attachments")
def test_unicode_msg_fields_and_attachments(services, settings, ingest_files, corpora):
    custodian = _custodian("Msg Unicode")
    summary, _ = ingest_files([corpora / UNICODE], custodian=custodian)
    email, *attachments = _docs(services, settings, custodian)

    assert email["subject"] == "Test for TIF files"
    assert _parsed(email["from"]) == {"raw": "Brian Zhou <brizhou@gmail.com>", "name": "Brian Zhou", "address": "brizhou@gmail.com"}
    assert [a["address"] for a in email["to"]] == ["brianzhou@me.com"]
    assert [a["raw"] for a in email["cc"]] == ["Brian Zhou <brizhou@gmail.com>"]
    assert (email["date"], email["timezone"]) == ("2013-11-18T08:26:24Z", "+02:00")
    assert email["message_id"] == "<CADtJ4eNjQSkGcBtVteCiTF+YFG89+AcHxK3QZ=-Mt48xygkvdQ@mail.gmail.com>"
    assert email["body"].startswith("This is a test email to experiment with the MS Outlook MSG Extractor")
    assert email["attachment_names"] == ["import OleFileIO.tif", "raised value error.tif"]
    assert [(a["file_name"], a["locator"], a["parent_id"], a["content_type"]) for a in attachments] == [
        ("import OleFileIO.tif", "/attachment[1]", email["id"], "image/tiff"),
        ("raised value error.tif", "/attachment[2]", email["id"], "image/tiff")]
    assert summary.items_by_kind == {"email": 1, "attachment": 2}
    assert [h["id"] for h in _search(services, settings, "\"MSG Extractor\"", custodian)] == [email["id"]]


@pytest.mark.corpora(sibling="test_generated_msg_image_attachment_text_is_ocred")
def test_msg_tif_attachment_text_is_ocred(services, settings, ingest_files, corpora):
    """Needs Tika started with tesseract installed (scripts/install-system-packages.sh): the TIFFs are screenshots."""
    custodian = _custodian("Msg Ocr")
    ingest_files([corpora / UNICODE], custodian=custodian)
    hits = _search(services, settings, "Refactoring", custodian)
    assert sorted(h["file_name"] for h in hits) == ["import OleFileIO.tif", "raised value error.tif"]


@pytest.mark.corpora(sibling="test_generated_msg_without_sent_time_is_dated_by_its_creation_time")
def test_msg_without_sent_time_is_dated_by_its_creation_time(services, settings, ingest_files, corpora):
    custodian = _custodian("Msg Strange Date")
    _, report = ingest_files([corpora / STRANGE_DATE], custodian=custodian)
    (email,) = _docs(services, settings, custodian)
    assert report == []
    assert email["subject"] == "MSG Test File"
    assert email["date"].startswith("2016-02-23T14:57:50.904")  # PR_CREATION_TIME; the file has no submit time
    assert any("no sent or received time" in p for p in email["problems"])
    assert [a["address"] for a in email["to"]] == ["time2talk@online-convert.com"]
    assert "sender" not in email and "from" not in email
    assert "John Doe" in email["body"]
    assert "<b>" in email["body_html"] or "<p>" in email["body_html"]


@pytest.mark.corpora(sibling="test_generated_msg_saved_as_eml_is_read_as_msg")
def test_outlook_message_saved_as_eml_is_read_as_msg(services, settings, ingest_files, corpora):
    path = corpora / OUTLOOK_AS_EML
    assert choose(path, path.read_bytes()[:4096]) is msg
    custodian = _custodian("Msg As Eml")
    _, report = ingest_files([path], custodian=custodian)
    email, *attachments = _docs(services, settings, custodian)

    assert "unsupported" not in {e["code"] for e in report}
    assert email["subject"] == "Newsletter Prüfung Personalwesen / Prüfung Eröffnungsbilanz"
    assert email["from"]["address"] == "nueblingv@w-vwa.de"
    assert [_parsed(a) for a in email["to"]] == [{"raw": "Gaiser-Schönenborn, Andrea <A.Gaiser-Schoenenborn@kreis-tuebingen.de>",
                            "name": "Gaiser-Schönenborn, Andrea", "address": "a.gaiser-schoenenborn@kreis-tuebingen.de"}]
    assert (email["date"], email["timezone"]) == ("2017-09-18T10:00:18Z", "+02:00")
    assert email["message_id"] == "<20170918100018.6AE0948009C@www.w-vwa.de>"
    assert email["attachment_names"] == ["newsletter.png", "spacer.gif", "image004.jpg", "image006.jpg", "image008.jpg"]
    assert [a["locator"] for a in attachments] == [f"/attachment[{n}]" for n in range(1, 6)]
    assert [h["id"] for h in _search(services, settings, "Eröffnungsbilanz", custodian) if h["kind"] == "email"] == [email["id"]]


# --- generated variants -------------------------------------------------------------------------

@pytest.mark.corpora(sibling="test_generated_embedded_msg_is_read_with_its_attachments")
def test_embedded_msg_becomes_an_email_with_its_own_attachments(services, settings, ingest_files, corpora, tmp_path):
    path = tmp_path / "forward.msg"
    path.write_bytes(_embed(corpora / STRANGE_DATE, corpora / OUTLOOK_AS_EML, "Newsletter"))
    custodian = _custodian("Msg In Msg")
    _, report = ingest_files([path], custodian=custodian)
    email, embedded, *inner = _docs(services, settings, custodian)

    assert email["attachment_names"] == ["Newsletter.msg"]
    # The attached message is read by the msg reader, as a top-level one: fields, not a Tika text blob.
    assert (embedded["kind"], embedded["file_name"], embedded["locator"]) == ("email", "Newsletter.msg", "/attachment[1]")
    assert (embedded["parent_id"], embedded["family_id"], embedded["depth"]) == (email["id"], email["id"], 1)
    assert embedded["subject"] == "Newsletter Prüfung Personalwesen / Prüfung Eröffnungsbilanz"
    assert embedded["from"]["address"] == "nueblingv@w-vwa.de"
    assert [a["address"] for a in embedded["to"]] == ["a.gaiser-schoenenborn@kreis-tuebingen.de"]
    assert (embedded["date"], embedded["message_id"]) == ("2017-09-18T10:00:18Z", "<20170918100018.6AE0948009C@www.w-vwa.de>")
    assert embedded["attachment_names"] == ["newsletter.png", "spacer.gif", "image004.jpg", "image006.jpg", "image008.jpg"]
    assert sorted((i["file_name"], i["locator"], i["parent_id"], i["family_id"]) for i in inner) == sorted(
        (name, f"/attachment[1]/attachment[{n}]", embedded["id"], email["id"]) for n, name in
        enumerate(("newsletter.png", "spacer.gif", "image004.jpg", "image006.jpg", "image008.jpg"), start=1))
    assert [h["id"] for h in _search(services, settings, "Personalwesen", custodian)] == [embedded["id"]]
    assert not [e for e in report if e["code"] in ("corrupt", "reader_error")]


def test_encrypted_msg_is_reported_and_its_headers_indexed(services, settings, ingest_files, tmp_path):
    path = tmp_path / "encrypted.msg"
    path.write_bytes(msg_bytes(Message(subject="Sealed figures", sender_email="brian@example.org", body=None,
                                       message_class="IPM.Note.SMIME",
                                       attachments=[Attachment("smime.p7m", b"\x30\x82 opaque", "application/pkcs7-mime")])))
    custodian = _custodian("Msg Encrypted")
    _, report = ingest_files([path], custodian=custodian)
    (email,) = _docs(services, settings, custodian)

    assert email["subject"] == "Sealed figures" and email["from"]["address"] == "brian@example.org"
    assert email["extraction"] == "failed" and not email.get("body") and "attachment_names" not in email
    assert [(e["code"], e["locator"], e["item_id"]) for e in report] == [("encrypted", "", email["id"])]


def test_signed_msg_is_read_from_its_signed_content(services, settings, ingest_files, tmp_path):
    path = tmp_path / "signed.msg"
    path.write_bytes(_signed(msg_bytes(Message(subject="Signed note", body="Outer body is replaced."))))
    custodian = _custodian("Msg Signed")
    _, report = ingest_files([path], custodian=custodian)
    email, annex = _docs(services, settings, custodian)

    assert report == []
    assert email["body"] == "Signed content mentions curlewbank."
    assert email["attachment_names"] == ["annex.txt"]
    assert (annex["file_name"], annex["locator"], annex["parent_id"]) == ("annex.txt", "/attachment[1]", email["id"])
    assert any("signed message" in p for p in email["problems"])
    assert [h["id"] for h in _search(services, settings, "godwitmarsh", custodian)] == [annex["id"]]


def test_html_only_and_rtf_only_msg_bodies_become_text(services, settings, ingest_files, tmp_path):
    html_only = tmp_path / "html-only.msg"
    html_only.write_bytes(msg_bytes(Message(body=None, html=(
        b"<html><head><style>p {color: red}</style></head><body><p>Wenn Sie diesen Newsletter nicht lesen "
        b"k&ouml;nnen, klicken Sie hier.</p></body></html>"))))
    wrapped = tmp_path / "rtf-wrapped-html.msg"  # Outlook's HTML stored inside the RTF body (\fromhtml1)
    wrapped.write_bytes(msg_bytes(Message(body=None, rtf_compressed=compressed_rtf.compress(
        rb"{\rtf1\ansi\ansicpg1252\fromhtml1 \deff0{\fonttbl{\f0\fswiss Arial;}}{\*\htmltag19 <html>}{\*\htmltag50 <body>}"
        rb"{\*\htmltag64 <p>}\htmlrtf {\htmlrtf0 Dear John Doe, the wrapped note mentions ibisgrove.{\*\htmltag72 </p>}"
        rb"\htmlrtf }\htmlrtf0 {\*\htmltag58 </body>}{\*\htmltag27 </html>}}"))))
    rtf_only = tmp_path / "rtf-only.msg"
    rtf = compressed_rtf.compress(rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 The rich text mentions quokkaridge.\par}")
    rtf_only.write_bytes(msg_bytes(Message(body=None, rtf_compressed=rtf)))
    custodian = _custodian("Msg Bodies")
    _, report = ingest_files([html_only, wrapped, rtf_only], custodian=custodian)
    emails = {Path(d["source_path"]).name: d for d in _docs(services, settings, custodian) if d["kind"] == "email"}

    assert "encrypted" not in {e["code"] for e in report}
    assert "Wenn Sie diesen Newsletter nicht lesen können" in emails["html-only.msg"]["body"]
    assert "<" not in emails["html-only.msg"]["body"] and "color" not in emails["html-only.msg"]["body"]
    assert "<p>" in emails["html-only.msg"]["body_html"]
    assert "John Doe" in emails["rtf-wrapped-html.msg"]["body"] and "\\rtf" not in emails["rtf-wrapped-html.msg"]["body"]
    assert [h["id"] for h in _search(services, settings, "ibisgrove", custodian)] == [emails["rtf-wrapped-html.msg"]["id"]]
    assert emails["rtf-only.msg"]["body"] == "The rich text mentions quokkaridge."
    assert "body_html" not in emails["rtf-only.msg"]


def test_exchange_sender_keeps_x500_raw_and_prefers_smtp(services, settings, ingest_files, tmp_path):
    x500 = "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP (FYDIBOHF23SPDLT)/CN=RECIPIENTS/CN=JSMITH"
    sent = datetime(2020, 3, 1, 10, 0, 0, tzinfo=timezone.utc)
    exchange = dict(sender_name="Jane Smith", sender_email=x500, sender_addrtype="EX", submit_time=None,
                    creation_time=datetime(2016, 2, 23, 14, 57, tzinfo=timezone.utc))
    exchange_only = tmp_path / "exchange-only.msg"
    exchange_only.write_bytes(msg_bytes(Message(**{**exchange, "submit_time": sent})))
    with_smtp = tmp_path / "with-smtp.msg"
    with_smtp.write_bytes(msg_bytes(Message(**exchange, sender_smtp="Jane.Smith@dhsc.gov.uk")))
    custodian = _custodian("Msg Exchange")
    ingest_files([exchange_only, with_smtp], custodian=custodian)
    emails = {Path(d["source_path"]).name: d for d in _docs(services, settings, custodian)}

    assert _parsed(emails["exchange-only.msg"]["from"]) == {"raw": f"Jane Smith <{x500}>", "name": "Jane Smith"}
    assert emails["exchange-only.msg"]["date"] == "2020-03-01T10:00:00Z"
    assert not any("creation time" in p for p in emails["exchange-only.msg"].get("problems", []))
    assert _parsed(emails["with-smtp.msg"]["from"]) == {"raw": "Jane Smith <Jane.Smith@dhsc.gov.uk>", "name": "Jane Smith",
                                               "address": "jane.smith@dhsc.gov.uk"}


def _ansi_msg(encoding: str, subject: str, body: str, sender: tuple[str, str], recipient: tuple[str, str],
              fixed: dict[int, int], html_charset: str | None) -> bytes:
    """A non-Unicode .msg as an older Outlook writes one (MS-OXMSG): 8-bit string streams (PT_STRING8,
    `...001E`) in the writer's code page, PR_MESSAGE_CODEPAGE left out, the code page only implied by
    the fixed properties in `fixed` (tag → value) and by the charset the HTML body declares."""
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={html_charset}">' if html_charset else ""
    html = f"<html><head>{meta}</head><body><p>{body}</p></body></html>"
    streams = {
        ("__properties_version1.0",): b"\x00" * 8 + struct.pack("<IIII", 1, 0, 1, 0) + b"\x00" * 8 + b"".join(
            struct.pack("<IIQ", tag, 6, value) for tag, value in fixed.items()),
        ("__substg1.0_001A001E",): b"IPM.Note",
        ("__substg1.0_0037001E",): subject.encode(encoding),
        ("__substg1.0_1000001E",): body.encode(encoding),
        ("__substg1.0_10130102",): html.encode(encoding),
        ("__substg1.0_0C1A001E",): sender[0].encode(encoding),
        ("__substg1.0_0C1F001E",): sender[1].encode("ascii"),
        ("__substg1.0_0C1E001E",): b"SMTP",
        ("__recip_version1.0_#00000000", "__properties_version1.0"): b"\x00" * 8 + struct.pack("<IIQ", 0x0C150003, 6, 1),
        ("__recip_version1.0_#00000000", "__substg1.0_3001001E"): recipient[0].encode(encoding),
        ("__recip_version1.0_#00000000", "__substg1.0_3003001E"): recipient[1].encode("ascii"),
    }
    return ole_bytes(streams)


def test_msg_without_message_codepage_is_decoded_from_its_other_signals(services, settings, ingest_files, tmp_path):
    """A Big5 message with PR_INTERNET_CPID 950, locale 1028 (zh-TW) and a big5 HTML body, but no
    PR_MESSAGE_CODEPAGE: extract-msg alone reads it as ISO-8859-15 mojibake. A message with no signal
    at all is decoded by detection, and that guess is reported."""
    body = "本週預算會議決定增加疫苗採購。"
    big5 = tmp_path / "big5.msg"
    big5.write_bytes(_ansi_msg("big5", "預算會議紀要", body, ("王小明", "wang@example.tw"), ("陳大文", "chan@example.tw"),
                               {0x3FDE0003: 950, 0x3FF10003: 1028}, "big5"))
    silent = tmp_path / "silent.msg"
    silent.write_bytes(_ansi_msg("cp1251", "Протокол совещания", "Совещание по бюджету утвердило закупку вакцин для регионов.",
                                 ("Иван Петров", "ivan@example.ru"), ("Анна Смирнова", "anna@example.ru"), {}, None))
    custodian = _custodian("Msg Codepage")
    _, report = ingest_files([big5, silent], custodian=custodian)
    emails = {Path(d["source_path"]).name: d for d in _docs(services, settings, custodian)}

    chinese = emails["big5.msg"]
    assert (chinese["subject"], chinese["body"]) == ("預算會議紀要", body)
    assert _parsed(chinese["from"]) == {"raw": "王小明 <wang@example.tw>", "name": "王小明", "address": "wang@example.tw"}
    assert [a["raw"] for a in chinese["to"]] == ["陳大文 <chan@example.tw>"]
    assert body in chinese["body_html"]
    assert [h["id"] for h in _search(services, settings, "疫苗", custodian)] == [chinese["id"]]
    assert not [e for e in report if e["source_path"].endswith("big5.msg")]

    russian = emails["silent.msg"]
    assert russian["subject"] == "Протокол совещания" and russian["from"]["name"] == "Иван Петров"
    guessed = [e for e in report if e["source_path"].endswith("silent.msg")]
    assert [(e["code"], e["item_id"]) for e in guessed] == [("corrupt", russian["id"])]
    assert "detected" in guessed[0]["reason"]


def test_damaged_msg_is_reported_corrupt(ingest_files, tmp_path):
    damaged = tmp_path / "damaged.msg"
    damaged.write_bytes(msg_bytes(Message(attachments=[Attachment("big.bin", bytes(range(256)) * 64)]))[:1536])
    _, report = ingest_files([damaged], custodian=_custodian("Msg Damaged"))
    assert [(e["code"], e["locator"]) for e in report] == [("corrupt", "")]
    assert "not a readable Outlook message" in report[0]["reason"]


def test_ole_files_that_hold_no_message_are_not_claimed(tmp_path):
    streams = {("WordDocument",): b"\x00" * 4096, ("\x05SummaryInformation",): b"\x00" * 64}
    document = tmp_path / "letter.doc"
    document.write_bytes(ole_bytes(streams))
    renamed = tmp_path / "letter.eml"
    renamed.write_bytes(document.read_bytes())
    head = document.read_bytes()[:4096]
    assert msg.accepts(document, head) == 0
    assert msg.accepts(renamed, head) == 0
    assert msg.accepts(tmp_path / "x.msg", head) == 100  # the name alone is enough to try; read() reports what fails
    assert msg.accepts(tmp_path, b"") == 0


@pytest.mark.corpora(sibling="test_generated_msg_saved_as_eml_is_read_as_msg")
@pytest.mark.parametrize("name", [STRANGE_DATE, UNICODE])
def test_real_msg_samples_are_claimed_by_the_msg_reader(corpora, name):
    path = corpora / name
    assert choose(path, path.read_bytes()[:4096]) is msg


# --- generated messages: the siblings of the real-sample tests ----------------------------------

GENERATED_HEADERS = ("Received: from mail.example.org by mx.example.net; Thu, 4 Mar 2021 11:30:05 +0200\r\n"
                     "Date: Thu, 4 Mar 2021 11:30:00 +0200\r\nMessage-ID: <field-test@example.org>\r\n"
                     "From: =?utf-8?q?Zo=C3=AB_Ng?= <zoe.ng@example.org>\r\nSubject: Vorläufige Prüfung\r\n\r\n")


def test_generated_msg_fields_recipients_and_attachments(services, settings, ingest_files, tmp_path):
    path = tmp_path / "fields.msg"
    path.write_bytes(msg_bytes(Message(
        subject="Vorläufige Prüfung — 予算", body="The provisional audit mentions the Eröffnungsbilanz in full.",
        sender_name="Zoë Ng", sender_email="zoe.ng@example.org",
        recipients=[(TO, "Brian Zhou", "brianzhou@example.com"), (TO, "Ana Ruiz", "ana.ruiz@example.com"),
                    (CC, "Zoë Ng", "zoe.ng@example.org")],
        transport_headers=GENERATED_HEADERS, message_id="<field-test@example.org>",
        attachments=[Attachment("notes.txt", "Attached notes mention marshwort.".encode(), "text/plain"),
                     Attachment("Übersicht.csv", b"line,amount\nfirst,12\n", "text/csv")])))
    custodian = _custodian("Msg Generated")
    summary, report = ingest_files([path], custodian=custodian)
    email, *attachments = _docs(services, settings, custodian)

    assert report == []
    assert email["subject"] == "Vorläufige Prüfung — 予算"
    assert _parsed(email["from"]) == {"raw": "Zoë Ng <zoe.ng@example.org>", "name": "Zoë Ng", "address": "zoe.ng@example.org"}
    assert [a["address"] for a in email["to"]] == ["brianzhou@example.com", "ana.ruiz@example.com"]
    assert [a["raw"] for a in email["cc"]] == ["Zoë Ng <zoe.ng@example.org>"]
    assert (email["date"], email["timezone"]) == ("2021-03-04T09:30:00Z", "+02:00")
    assert email["message_id"] == "<field-test@example.org>"
    assert email["body"].startswith("The provisional audit mentions")
    assert email["attachment_names"] == ["notes.txt", "Übersicht.csv"]
    assert [(a["file_name"], a["locator"], a["parent_id"]) for a in attachments] == [
        ("notes.txt", "/attachment[1]", email["id"]), ("Übersicht.csv", "/attachment[2]", email["id"])]
    assert summary.items_by_kind == {"email": 1, "attachment": 2}
    assert [h["id"] for h in _search(services, settings, "Eröffnungsbilanz", custodian)] == [email["id"]]
    assert [h["id"] for h in _search(services, settings, "marshwort", custodian)] == [attachments[0]["id"]]


def test_generated_msg_image_attachment_text_is_ocred(services, settings, ingest_files, tmp_path):
    """Needs Tika started with tesseract installed (scripts/install-system-packages.sh)."""
    path = tmp_path / "scan.msg"
    path.write_bytes(msg_bytes(Message(attachments=[Attachment("scan.png", png_with_text("Refactoring plover"), "image/png")])))
    custodian = _custodian("Msg Generated Ocr")
    ingest_files([path], custodian=custodian)
    assert [h["file_name"] for h in _search(services, settings, "Refactoring", custodian)] == ["scan.png"]


def test_generated_msg_without_sent_time_is_dated_by_its_creation_time(services, settings, ingest_files, tmp_path):
    path = tmp_path / "draft.msg"
    created = datetime(2016, 2, 23, 14, 57, 50, 904000, tzinfo=timezone.utc)
    path.write_bytes(msg_bytes(Message(subject="Draft without a sender", submit_time=None, creation_time=created,
                                       sender_name=None, sender_email=None, body=None,
                                       html=b"<html><body><p>Dear <b>John Doe</b>, a draft.</p></body></html>")))
    custodian = _custodian("Msg Generated Draft")
    _, report = ingest_files([path], custodian=custodian)
    (email,) = _docs(services, settings, custodian)
    assert report == []
    assert email["date"].startswith("2016-02-23T14:57:50.904")
    assert any("no sent or received time" in p for p in email["problems"])
    assert [a["address"] for a in email["to"]] == ["bob@example.org"]
    assert "from" not in email
    assert "John Doe" in email["body"] and "<b>" in email["body_html"]


def test_generated_msg_saved_as_eml_is_read_as_msg(services, settings, ingest_files, tmp_path):
    path = tmp_path / "newsletter.eml"
    path.write_bytes(msg_bytes(Message(subject="Newsletter Prüfung Eröffnungsbilanz", body="Newsletter body.")))
    assert choose(path, path.read_bytes()[:4096]) is msg
    custodian = _custodian("Msg Generated As Eml")
    _, report = ingest_files([path], custodian=custodian)
    (email,) = _docs(services, settings, custodian)
    assert "unsupported" not in {e["code"] for e in report}
    assert email["subject"] == "Newsletter Prüfung Eröffnungsbilanz" and email["kind"] == "email"


def test_generated_embedded_msg_is_read_with_its_attachments(services, settings, ingest_files, tmp_path):
    inner = Message(subject="Inner briefing", body="The forwarded briefing mentions sandpiperholt.",
                    attachments=[Attachment("annex.txt", b"The inner annex mentions dunlincove.", "text/plain")])
    path = tmp_path / "forward.msg"
    path.write_bytes(msg_bytes(Message(subject="Fwd: Inner briefing", attachments=[Attachment("Inner briefing", message=inner)])))
    custodian = _custodian("Msg Generated In Msg")
    _, report = ingest_files([path], custodian=custodian)
    docs = {d["locator"]: d for d in _docs(services, settings, custodian)}
    outer, embedded, annex = docs[""], docs["/attachment[1]"], docs["/attachment[1]/attachment[1]"]
    assert report == []
    assert (embedded["kind"], embedded["subject"], embedded["parent_id"], embedded["family_id"]) == (
        "email", "Inner briefing", outer["id"], outer["id"])
    assert (annex["file_name"], annex["parent_id"], annex["family_id"]) == ("annex.txt", embedded["id"], outer["id"])
    assert [h["id"] for h in _search(services, settings, "sandpiperholt", custodian)] == [embedded["id"]]
    assert [h["id"] for h in _search(services, settings, "dunlincove", custodian)] == [annex["id"]]
def _attached(files: dict[str, bytes], **fields) -> bytes:
    """A generated message with `files` attached by value."""
    return msg_bytes(Message(subject="MSG Test File", body="Dear John Doe, the figures.",
                             attachments=[Attachment(name, data, "text/plain") for name, data in files.items()], **fields))


def test_msg_dup_group_counts_the_attachments(services, settings, ingest_files, tmp_path):
    """The same message held by two custodians is one group; the same message with another attachment is
    not, so "show each duplicate once" never hides an attachment nobody has seen."""
    variants = {"first.msg": {"annex.txt": b"annex: ternfield costs"}, "other-annex.msg": {"annex.txt": b"annex: other costs"},
                "no-annex.msg": {}}
    for name, files in variants.items():
        (tmp_path / name).write_bytes(_attached(files))
    holder, other_holder = _custodian("Msg Dups"), _custodian("Msg Dups Copy")
    assert ingest_files([tmp_path / name for name in variants], custodian=holder)[1] == []
    assert ingest_files([tmp_path / "first.msg"], custodian=other_holder)[1] == []
    docs = _docs(services, settings, holder)
    emails = {Path(d["source_path"]).name: d for d in docs if d["kind"] == "email"}
    assert emails["first.msg"]["attachment_names"] == ["annex.txt"]
    assert sorted(d["body"] for d in docs if d["kind"] == "attachment") == ["annex: other costs", "annex: ternfield costs"]
    (copy,) = [d for d in _docs(services, settings, other_holder) if d["kind"] == "email"]
    groups = {name: email["dup_group"] for name, email in emails.items()}
    assert copy["dup_group"] == groups["first.msg"] and copy["id"] != emails["first.msg"]["id"]
    assert groups["first.msg"].startswith("email:")
    assert len({groups["first.msg"], groups["other-annex.msg"], groups["no-annex.msg"]}) == 3


# --- the failure branches, forced (real input that reached them would be a bug of its own) --------

class ParserBug(Exception):
    """What extract-msg or the email parser raises in these tests."""


def _raise(*args, **kwargs):
    raise ParserBug("forced failure")


def test_an_attachment_that_breaks_the_msg_reader_is_reported_and_the_message_indexed(
        services, settings, ingest_files, tmp_path, monkeypatch):
    path = tmp_path / "two-annexes.msg"
    path.write_bytes(_attached({"first.txt": b"first annex", "second.txt": b"second annex"}))
    real = msg.member_items  # each attachment goes back to the readers through it
    monkeypatch.setattr(msg, "member_items", lambda member, *rest: _raise() if member.name == "first.txt" else real(member, *rest))
    custodian = _custodian("Msg Attachment Bug")
    _, report = ingest_files([path], custodian=custodian)
    assert [(e["code"], e["locator"], e["reason"]) for e in report] == [
        ("reader_error", "/attachment[1]", "attachment 'first.txt' could not be read: ParserBug: forced failure")]
    email, *attachments = _docs(services, settings, custodian)
    assert email["attachment_names"] == ["first.txt", "second.txt"]
    assert [(a["locator"], a["body"]) for a in attachments] == [("/attachment[2]", "second annex")]


def test_transport_headers_that_break_the_parser_are_reported_and_the_mapi_fields_kept(
        services, settings, ingest_files, tmp_path, monkeypatch):
    path = tmp_path / "headers.msg"
    path.write_bytes(_attached({}, transport_headers="Subject: from the headers\r\n"))
    monkeypatch.setattr(msg, "parse_message", _raise)
    custodian = _custodian("Msg Header Bug")
    _, report = ingest_files([path], custodian=custodian)
    assert [(e["code"], e["locator"], e["reason"]) for e in report] == [
        ("corrupt", "", "transport headers could not be parsed: ParserBug")]
    (email,) = _docs(services, settings, custodian)
    assert email["subject"] == "MSG Test File" and "John Doe" in email["body"]


def test_a_body_that_breaks_decoding_is_reported_and_the_message_indexed(
        services, settings, ingest_files, tmp_path, monkeypatch):
    path = tmp_path / "html.msg"
    path.write_bytes(msg_bytes(Message(subject="MSG Test File", body=None, html=b"<p>Dear John Doe</p>")))
    monkeypatch.setattr(msg, "_html", _raise)
    custodian = _custodian("Msg Body Bug")
    _, report = ingest_files([path], custodian=custodian)
    assert [(e["code"], e["locator"], e["reason"]) for e in report] == [
        ("corrupt", "", "the message body could not be decoded (ParserBug: forced failure)")]
    (email,) = _docs(services, settings, custodian)
    assert email["subject"] == "MSG Test File" and email["extraction"] == "partial"


def test_an_attachment_table_that_breaks_extract_msg_is_reported_and_the_message_indexed(
        services, settings, ingest_files, tmp_path, monkeypatch):
    path = tmp_path / "annexed.msg"
    path.write_bytes(_attached({"annex.txt": b"annex"}))
    monkeypatch.setattr(MSGFile, "attachments", property(_raise))
    custodian = _custodian("Msg Table Bug")
    _, report = ingest_files([path], custodian=custodian)
    assert [(e["code"], e["locator"], e["reason"]) for e in report] == [
        ("corrupt", "", "the attachments could not be read (ParserBug: forced failure)")]
    (email,) = _docs(services, settings, custodian)
    assert email["subject"] == "MSG Test File" and email["extraction"] == "partial"
