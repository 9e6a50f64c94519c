"""MIME edge cases through the real pipeline: TNEF winmail.dat, signed and encrypted messages,
calendar invitations, HTML-only and RTF-only bodies, wrong charsets, RFC 2047 headers and
inline images, delivery reports; generated messages plus the real-world samples in shared/corpora/eml
(marked `corpora`; each names its generated sibling)."""

from __future__ import annotations

import base64
import io
import struct
import uuid
from email.message import EmailMessage
from pathlib import Path

import compressed_rtf
import docx
import pytest
from PIL import Image

from builders.images import png_with_text
from indexer.sources.support.html_body import sanitize_html
from indexer.sources.support.mime_parts import decode_bytes
from search_api.search import SearchRequest, run_search

DATE = "Tue, 03 Mar 2020 10:00:00 +0000"


def _custodian(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


def _docs(services, settings, custodian: str) -> list[dict]:
    """Every indexed item of one custodian, emails first, then by locator."""
    response = services.search(index=settings.items_alias, body={
        "query": {"term": {"custodian": custodian}}, "size": 500, "sort": [{"locator": "asc"}]})
    docs = [hit["_source"] for hit in response["hits"]["hits"]]
    return sorted(docs, key=lambda d: (d["kind"] != "email", d["locator"]))


def _search(services, settings, q: str, custodian: str) -> list[dict]:
    return run_search(services, settings.items_alias, SearchRequest(q=q, custodian=[custodian], size=50))["hits"]


def _message(subject: str, body: str | None = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Carol Jones <carol@dhsc.gov.uk>"
    message["To"] = "dan@dhsc.gov.uk"
    message["Subject"] = subject
    message["Date"] = DATE
    message["Message-ID"] = f"<{uuid.uuid4().hex}@dhsc.gov.uk>"
    if body is not None:
        message.set_content(body)
    return message


def _write(tmp_path: Path, name: str, message: EmailMessage | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(message if isinstance(message, bytes) else message.as_bytes())
    return path


def _docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- TNEF (winmail.dat) -------------------------------------------------------------------------

def _tnef_attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
    """One TNEF attribute: level, id (name + type), length, data, 16-bit checksum of the data."""
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def _mapi_binary(tag: int, data: bytes) -> bytes:
    """attMsgProps holding one binary MAPI property (count, type, id, value count, length, padded data)."""
    props = struct.pack("<IHHII", 1, 0x0102, tag, 1, len(data)) + data + b"\x00" * (-len(data) % 4)
    return _tnef_attribute(1, 0x9003, 0x0006, props)


def _tnef(body: str | None = None, html: str | None = None, files: tuple[tuple[str, bytes], ...] = (),
          rtf: bytes | None = None) -> bytes:
    """A TNEF stream as Outlook writes it (MS-OXTNEF): version, code page, body, then attachments."""
    stream = struct.pack("<IH", 0x223E9F78, 1)
    stream += _tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    stream += _tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    if body is not None:
        stream += _tnef_attribute(1, 0x800C, 0x0002, body.encode("cp1252"))  # attBody
    if html is not None:
        stream += _mapi_binary(0x1013, html.encode("utf-8"))  # PR_HTML
    if rtf is not None:
        stream += _mapi_binary(0x1009, compressed_rtf.compress(rtf))  # PR_RTF_COMPRESSED
    for name, data in files:
        stream += _tnef_attribute(2, 0x9002, 0x0006, b"\x01\x00" + b"\xff" * 12)  # attAttachRendData starts one
        stream += _tnef_attribute(2, 0x8010, 0x0001, name.encode() + b"\x00")  # attAttachTitle
        stream += _tnef_attribute(2, 0x800F, 0x0006, data)  # attAttachData
    return stream


def _with_winmail(subject: str, tnef: bytes, body: str | None = None) -> EmailMessage:
    message = _message(subject, body)
    if body is None:
        message.make_mixed()
    message.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return message


def test_tnef_files_become_attachments_and_its_body_fills_an_empty_email(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Tnef Reader")
    tnef = _tnef(body="The wrapped body mentions wombatgrove.",
                 files=(("minutes.txt", b"The minutes mention quillfeather."), ("annex.docx", _docx("annex about marshpenny"))))
    path = _write(tmp_path, "outlook.eml", _with_winmail("Minutes from Outlook", tnef))
    summary, report = ingest_files([path], custodian=custodian)

    assert report == []
    email, *children = _docs(services, settings, custodian)
    assert email["kind"] == "email" and "wombatgrove" in email["body"]
    assert email["attachment_names"] == ["minutes.txt", "annex.docx"]
    direct = [c for c in children if c["depth"] == 1]  # python-docx documents also carry an embedded thumbnail
    assert [(c["file_name"], c["locator"], c["parent_id"]) for c in direct] == [
        ("minutes.txt", "/attachment[1]/tnef[1]", email["id"]), ("annex.docx", "/attachment[1]/tnef[2]", email["id"])]
    assert [h["file_name"] for h in _search(services, settings, "quillfeather", custodian)] == ["minutes.txt"]
    assert [h["file_name"] for h in _search(services, settings, "marshpenny", custodian)] == ["annex.docx"]
    assert summary.items_by_kind == {"email": 1, "attachment": len(children)}


def _mapi_strings(props: dict[int, str]) -> bytes:
    """attMsgProps holding PT_UNICODE MAPI properties (count, then type, id, value count, length, padded UTF-16)."""
    encoded = b"".join(struct.pack("<HHII", 0x001F, tag, 1, len(value.encode("utf-16-le")) + 2)
                       + value.encode("utf-16-le") + b"\x00\x00" + b"\x00" * (-(len(value.encode("utf-16-le")) + 2) % 4)
                       for tag, value in props.items())
    return _tnef_attribute(1, 0x9003, 0x0006, struct.pack("<I", len(props)) + encoded)


def _tnef_message(subject: str, sent: tuple[int, ...], sender: tuple[str, str], html: str,
                  files: tuple[tuple[str, bytes], ...]) -> bytes:
    """A whole message as Outlook writes winmail.dat (MS-OXTNEF): message class, subject and sent time as
    TNEF attributes, the sender and the HTML body (its only body) as MAPI properties, then the files."""
    stream = _tnef(files=())
    stream += _tnef_attribute(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    stream += _tnef_attribute(1, 0x8004, 0x0001, subject.encode("cp1252") + b"\x00")  # attSubject
    stream += _tnef_attribute(1, 0x8005, 0x0003, struct.pack("<7H", *sent, 0))  # attDateSent
    stream += _mapi_strings({0x0C1A: sender[0], 0x5D01: sender[1]})  # PR_SENDER_NAME, PR_SENDER_SMTP_ADDRESS
    stream += _mapi_binary(0x1013, html.encode("utf-8"))  # PR_HTML
    return stream + _tnef(files=files)[len(_tnef(files=())):]


def test_loose_tnef_file_is_read_as_an_email_with_its_html_body(services, settings, ingest_files, tmp_path):
    """A winmail.dat saved on its own: Tika would keep the subject and file names and drop the HTML body."""
    custodian = _custodian("Tnef Loose")
    path = tmp_path / "winmail.dat"
    path.write_bytes(_tnef_message("Loose minutes", (2020, 3, 3, 10, 0, 0), ("Carol Jones", "carol@dhsc.gov.uk"),
                                   "<html><body><p>The HTML body mentions <b>gannetholm</b>.</p></body></html>",
                                   files=(("annex.docx", _docx("annex about sedgewick")),)))
    _, report = ingest_files([path], custodian=custodian)

    assert report == []
    email, *children = _docs(services, settings, custodian)
    assert (email["kind"], email["subject"], email["date"]) == ("email", "Loose minutes", "2020-03-03T10:00:00Z")
    assert email["from"]["address"] == "carol@dhsc.gov.uk" and email["from"]["name"] == "Carol Jones"
    assert email["body"] == "The HTML body mentions\ngannetholm\n."
    assert "<b>gannetholm</b>" in email["body_html"]
    assert [h["id"] for h in _search(services, settings, "gannetholm", custodian)] == [email["id"]]
    annex = next(c for c in children if c["file_name"] == "annex.docx")
    assert (annex["locator"], annex["parent_id"]) == ("/tnef[1]", email["id"])
    assert [h["id"] for h in _search(services, settings, "sedgewick", custodian)] == [annex["id"]]


def test_tnef_html_or_rtf_body_is_used_only_when_the_email_has_no_text(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Tnef Html")
    empty = _write(tmp_path, "empty.eml", _with_winmail("Html wrapped", _tnef(html="<p>Budget <b>heronfield</b> agreed</p>")))
    texted = _write(tmp_path, "texted.eml", _with_winmail("Has text", _tnef(body="tnef copy ospreyvale"), body="Visible body kestrelmoor"))
    rich = _write(tmp_path, "rich.eml", _with_winmail("Rtf wrapped", _tnef(rtf=rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 Rich text mentions stonechatrise.\par}")))
    _, report = ingest_files([empty, texted, rich], custodian=custodian)

    assert report == []
    emails = {d["subject"]: d for d in _docs(services, settings, custodian) if d["kind"] == "email"}
    assert "heronfield" in emails["Html wrapped"]["body"] and "<b>" not in emails["Html wrapped"]["body"]
    assert "kestrelmoor" in emails["Has text"]["body"] and "ospreyvale" not in emails["Has text"]["body"]
    assert emails["Rtf wrapped"]["body"] == "Rich text mentions stonechatrise."


def test_broken_tnef_is_reported_corrupt_and_the_email_is_still_indexed(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Tnef Broken")
    garbage = _write(tmp_path, "garbage.eml", _with_winmail("Garbage winmail", b"not tnef at all " * 20, body="body says plovercrest"))
    whole = _tnef(body="x", files=(("report.txt", b"report text sandpiperhollow " * 20),))
    truncated = _write(tmp_path, "truncated.eml", _with_winmail("Truncated winmail", whole[: len(whole) - 200], body="cut short"))
    _, report = ingest_files([garbage, truncated], custodian=custodian)

    by_file = {Path(e["source_path"]).name: e for e in report if e["code"] == "corrupt"}
    assert by_file["garbage.eml"]["locator"] == "/attachment[1]" and "TNEF" in by_file["garbage.eml"]["reason"]
    assert by_file["truncated.eml"]["locator"] == "/attachment[1]" and "truncated" in by_file["truncated.eml"]["reason"]
    docs = _docs(services, settings, custodian)
    assert [h["subject"] for h in _search(services, settings, "plovercrest", custodian)] == ["Garbage winmail"]
    garbage_attachment = next(d for d in docs if d["id"] == by_file["garbage.eml"]["item_id"])
    assert garbage_attachment["file_name"] == "winmail.dat" and garbage_attachment["extraction"] != "ok"
    # What could be read of the truncated stream is still indexed.
    assert [h["file_name"] for h in _search(services, settings, "sandpiperhollow", custodian)] == ["report.txt"]


# --- signed and encrypted -----------------------------------------------------------------------

def _signed(subject: str) -> bytes:
    inner = EmailMessage()
    inner.set_content("Signed content mentions curlewbank.")
    inner.add_attachment(_docx("signed annex mentions godwitmarsh"), maintype="application",
                         subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename="annex.docx")
    signature = base64.encodebytes(b"\x30\x82\x05\x00" + bytes(range(256)) * 4).decode()
    boundary = "signed-boundary-42"
    return (f"From: Carol <carol@dhsc.gov.uk>\r\nTo: dan@dhsc.gov.uk\r\nSubject: {subject}\r\nDate: {DATE}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
            f"micalg=sha-256; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n").encode() + inner.as_bytes() + (
        f"\r\n--{boundary}\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
        f"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n"
        f"{signature}\r\n--{boundary}--\r\n").encode()


def test_signed_message_indexes_its_content_but_not_the_signature(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Signed Reader")
    _, report = ingest_files([_write(tmp_path, "signed.eml", _signed("Signed minutes"))], custodian=custodian)

    assert report == []
    email, *children = _docs(services, settings, custodian)
    assert "curlewbank" in email["body"]
    assert email["attachment_names"] == ["annex.docx"]
    assert [c["file_name"] for c in children if c["depth"] == 1] == ["annex.docx"]
    assert any("signed message" in p for p in email["problems"])
    assert [h["file_name"] for h in _search(services, settings, "godwitmarsh", custodian)] == ["annex.docx"]


def _smime_encrypted() -> EmailMessage:
    message = _message("Encrypted smime budget", body=None)
    message.set_content(b"\x30\x80\x06\x09" + bytes(range(200)), maintype="application", subtype="pkcs7-mime",
                        params={"smime-type": "enveloped-data", "name": "smime.p7m"}, filename="smime.p7m")
    return message


def _pgp_encrypted() -> bytes:
    boundary = "pgp-boundary-7"
    return (f"From: Carol <carol@dhsc.gov.uk>\r\nTo: dan@dhsc.gov.uk\r\nSubject: Encrypted pgp budget\r\nDate: {DATE}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; "
            f"boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
            f"\r\n--{boundary}\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\r\n"
            f"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA5K2sdf8sdfSAQf/abc\r\n-----END PGP MESSAGE-----\r\n\r\n--{boundary}--\r\n").encode()


def _inline_pgp() -> EmailMessage:
    return _message("Encrypted inline budget", "-----BEGIN PGP MESSAGE-----\n\nhQEMA5K2sdf8sdfSAQf/abc\n-----END PGP MESSAGE-----\n")


@pytest.mark.parametrize("make, subject", [
    (_smime_encrypted, "Encrypted smime budget"),
    (_pgp_encrypted, "Encrypted pgp budget"),
    (_inline_pgp, "Encrypted inline budget"),
])
def test_encrypted_message_is_reported_and_its_headers_indexed(services, settings, ingest_files, tmp_path, make, subject):
    custodian = _custodian("Encrypted Reader")
    _, report = ingest_files([_write(tmp_path, "encrypted.eml", make())], custodian=custodian)

    docs = _docs(services, settings, custodian)
    assert [d["kind"] for d in docs] == ["email"], "the ciphertext is not indexed as an attachment"
    email = docs[0]
    assert email["subject"] == subject and email["from"]["address"] == "carol@dhsc.gov.uk"
    assert email["extraction"] == "failed"
    assert [(e["code"], e["locator"], e["item_id"]) for e in report] == [("encrypted", "", email["id"])]
    assert [h["id"] for h in _search(services, settings, "budget", custodian)] == [email["id"]]


# --- calendar, HTML, RTF ------------------------------------------------------------------------

INVITE = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Lantern tests//EN", "METHOD:REQUEST", "BEGIN:VEVENT",
    "UID:budget-review-1@dhsc.gov.uk", "DTSTART:20200310T100000Z", "DTEND:20200310T110000Z",
    "SUMMARY:Budget review with the otterbank team", "LOCATION:Room 4", "END:VEVENT", "END:VCALENDAR", ""])


def test_calendar_part_without_a_name_is_an_invite_attachment(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Invite Reader")
    message = _message("Invitation: Budget review", "You are invited.")
    message.add_alternative(INVITE, subtype="calendar", params={"method": "REQUEST"})
    _, report = ingest_files([_write(tmp_path, "invite.eml", message)], custodian=custodian)

    assert report == []
    email, invite = _docs(services, settings, custodian)
    assert email["body"] == "You are invited." and email["attachment_names"] == ["invite.ics"]
    assert (invite["file_name"], invite["parent_id"], invite["locator"]) == ("invite.ics", email["id"], "/attachment[1]")
    assert [h["id"] for h in _search(services, settings, "otterbank", custodian)] == [invite["id"]]


HOSTILE_HTML = """<html><head><title>Newsletter title</title><style>p { color: red }</style>
<script>document.write('scriptword')</script></head>
<body onload="steal()"><p style="color:red" onclick="steal()">Funding for <b>puffinreach</b> agreed.</p>
<img src="https://tracker.example/pixel.gif?id=42"><img src="cid:logo@dhsc" alt="logo">
<a href="javascript:steal()">bad link</a> <a href="https://www.gov.uk/guidance">guidance</a>
<iframe src="https://evil.example/frame">framed</iframe><form action="https://evil.example"><input name="pw"></form>
</body></html>"""


def test_html_only_body_is_searchable_and_kept_sanitised_for_display(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Html Reader")
    message = _message("Html only", body=None)
    filler = "<p>Routine paragraph of the newsletter.</p>" * 2500  # ~100 KB: above a keyword's 32 KB term limit
    message.set_content(HOSTILE_HTML.replace("</body>", filler + "</body>"), subtype="html")
    _, report = ingest_files([_write(tmp_path, "html.eml", message)], custodian=custodian)

    assert report == []
    (email,) = _docs(services, settings, custodian)
    assert "puffinreach" in email["body"] and "scriptword" not in email["body"] and "<b>" not in email["body"]
    shown = email["body_html"]
    assert "<b>puffinreach</b>" in shown and 'src="cid:logo@dhsc"' in shown and 'href="https://www.gov.uk/guidance"' in shown
    assert len(shown) > 100_000
    for banned in ("script", "onload", "onclick", "style", "tracker.example", "javascript:", "iframe", "evil.example", "<input"):
        assert banned not in shown.lower(), banned
    assert _search(services, settings, "scriptword", custodian) == []


def test_words_only_in_the_html_alternative_are_searchable(services, settings, ingest_files, tmp_path):
    """Clients write diverging alternatives (Outlook puts its signature and a table in the HTML only):
    every alternative's words are searchable, the text both share is in the body once."""
    custodian = _custodian("Html Alternative")
    message = _message("Diverging alternatives", "The shared paragraph mentions the quarterly grantmoor figures.")
    message.add_alternative("<html><body><p>The shared paragraph mentions the quarterly grantmoor figures.</p>"
                            "<table><tr><td>Only the HTML table names</td><td>fennelbrook</td></tr></table>"
                            "<p>Sent from the minister&#39;s office</p></body></html>", subtype="html")
    _, report = ingest_files([_write(tmp_path, "alternatives.eml", message)], custodian=custodian)

    assert report == []
    (email,) = _docs(services, settings, custodian)
    assert [h["id"] for h in _search(services, settings, "fennelbrook", custodian)] == [email["id"]]
    assert [h["id"] for h in _search(services, settings, '"minister\'s office"', custodian)] == [email["id"]]
    assert email["body"].startswith("The shared paragraph mentions the quarterly grantmoor figures.")
    assert email["body"].count("grantmoor") == 1


def test_sanitiser_drops_remote_and_active_content():
    shown = sanitize_html('<img src="http://x.example/a.png"><img src="data:image/png;base64,AAAA">'
                          '<a href="data:text/html,hi">d</a><a href="/relative">r</a><svg><script>1</script></svg>ok')
    assert shown == '<img><img src="data:image/png;base64,AAAA"><a rel="noopener noreferrer">d</a><a rel="noopener noreferrer">r</a>ok'


RTF = rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 The rich text mentions ptarmiganfold.\par}"


@pytest.mark.parametrize("subtype", ["text/rtf", "application/rtf"])
def test_rtf_only_body_is_read_as_text_through_tika(services, settings, ingest_files, tmp_path, subtype):
    custodian = _custodian("Rtf Reader")
    raw = (f"From: Carol <carol@dhsc.gov.uk>\r\nTo: dan@dhsc.gov.uk\r\nSubject: Rich text\r\nDate: {DATE}\r\n"
           f"MIME-Version: 1.0\r\nContent-Type: {subtype}\r\n\r\n").encode() + RTF + b"\r\n"
    _, report = ingest_files([_write(tmp_path, "rtf.eml", raw)], custodian=custodian)

    assert report == []
    (email,) = _docs(services, settings, custodian)
    assert "ptarmiganfold" in email["body"] and "\\rtf1" not in email["body"]


# --- charsets and encoded words -----------------------------------------------------------------

def _raw_text_email(subject: str, charset_param: str, body: bytes) -> bytes:
    return (f"From: Carol <carol@dhsc.gov.uk>\r\nTo: dan@dhsc.gov.uk\r\nSubject: {subject}\r\nDate: {DATE}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; {charset_param}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + body


@pytest.mark.parametrize("charset_param, expected_reason", [
    ("charset=utf-8", "not valid utf-8"),
    ('charset="x-unknown"', "unknown charset 'x-unknown'"),
])
def test_wrong_or_unknown_charset_is_recovered_and_reported(services, settings, ingest_files, tmp_path, charset_param, expected_reason):
    custodian = _custodian("Charset Reader")
    body = "Le café crème au déjeuner, voilà.\r\n".encode("latin-1")
    _, report = ingest_files([_write(tmp_path, "charset.eml", _raw_text_email("Menu", charset_param, body))], custodian=custodian)

    (email,) = _docs(services, settings, custodian)
    assert "café crème au déjeuner, voilà" in email["body"]
    assert [(e["code"], e["locator"], e["item_id"]) for e in report] == [("corrupt", "", email["id"])]
    assert expected_reason in report[0]["reason"] and "cp1252" in report[0]["reason"]
    assert email["extraction"] == "partial"
    assert [h["id"] for h in _search(services, settings, "déjeuner", custodian)] == [email["id"]]


def test_charset_decoding_rules():
    assert decode_bytes("naïve".encode("utf-8"), "utf-8") == ("naïve", None)
    assert decode_bytes("€100".encode("cp1252"), "iso-8859-1") == ("€100", None)  # the usual mislabel, no complaint
    text, problem = decode_bytes("Привет, мир ".encode() * 50 + b"\xff", "utf-8")  # one stray byte in UTF-8
    assert text.startswith("Привет, мир") and "a few byte sequences" in problem
    text, problem = decode_bytes("代开各地增值税发票".encode("utf-8"), "gb2312")  # mislabelled UTF-8
    assert text == "代开各地增值税发票" and "decoded as utf-8" in problem


ENCODED_HEADERS = (
    "From: =?iso-8859-1?Q?Ren=E9e_Dupr=E9?= <renee@example.org>\r\n"
    "To: =?utf-8?B?Sm9zw6kgR2FyY8OtYQ==?= <jose@example.org>, =?x-unknown?Q?Fran=E7ois?= <francois@example.org>\r\n"
    "Cc: \"Smith, =?utf-8?Q?J=C3=BCrgen?=\" <jurgen@example.org>\r\n"
    "Subject: =?utf-8?B?Q2Fmw6kgbWVldGluZw==?= =?utf-8?Q?_about_the_b=C3=BCdget?= and =?utf-8?Q?unterminated\r\n"
    f"Date: {DATE}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody.\r\n"
).encode()


def test_encoded_word_headers_decode_including_malformed_ones(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Header Reader")
    raw_8bit = (b"From: Andr\xe9 Martin <andre@example.org>\r\nTo: x@example.org\r\nSubject: R\xe9sum\xe9 for the caf\xe9\r\n"
                + f"Date: {DATE}\r\n\r\nBody.\r\n".encode())
    paths = [_write(tmp_path, "encoded.eml", ENCODED_HEADERS), _write(tmp_path, "raw8bit.eml", raw_8bit)]
    _, report = ingest_files(paths, custodian=custodian)

    assert report == []
    docs = {Path(d["source_path"]).name: d for d in _docs(services, settings, custodian)}
    encoded = docs["encoded.eml"]
    assert encoded["subject"] == "Café meeting about the büdget and =?utf-8?Q?unterminated"
    assert {k: v for k, v in encoded["from"].items() if k != "person"} == {"raw": "Renée Dupré <renee@example.org>", "name": "Renée Dupré", "address": "renee@example.org"}
    assert [a["name"] for a in encoded["to"]] == ["José García", "François"]
    assert encoded["cc"][0]["name"] == "Smith, Jürgen" and encoded["cc"][0]["raw"] == '"Smith, Jürgen" <jurgen@example.org>'
    raw = docs["raw8bit.eml"]
    assert raw["subject"] == "Résumé for the café" and raw["from"]["name"] == "André Martin"
    assert [h["id"] for h in _search(services, settings, "büdget", custodian)] == [encoded["id"]]


@pytest.mark.corpora(sibling="test_encoded_word_headers_decode_including_malformed_ones")
@pytest.mark.parametrize("name, subject, sender_name", [
    ("mailparser-mail_test_12.eml", "代开各地增值税发票", "张先生"),
    ("mailparser-mail_test_18.eml", "Test for Comma and Name Bugs", "LastßlName, FirstName"),
    ("mailparser-mail_test_5.eml", "Je prépare mon été zéro complexe !", "Marina de Carlance"),
    ("mailparser-mail_test_6.eml", "Быстрее вкладывайте в золото!", "Время пришло"),
])
def test_real_encoded_word_headers_decode(services, settings, ingest_files, corpora, name, subject, sender_name):
    custodian = _custodian("Corpus Headers")
    ingest_files([corpora / "eml" / name], custodian=custodian)
    email = _docs(services, settings, custodian)[0]
    assert (email["subject"], email["from"]["name"]) == (subject, sender_name)
    assert "=?" not in email["from"]["raw"]


@pytest.mark.corpora(sibling="test_wrong_or_unknown_charset_is_recovered_and_reported")
def test_real_mislabelled_charsets_are_recovered_and_reported(services, settings, ingest_files, corpora):
    custodian = _custodian("Corpus Charsets")
    _, report = ingest_files([corpora / "eml" / "mailparser-mail_test_12.eml", corpora / "eml" / "mailparser-mail_test_6.eml"],
                             custodian=custodian)
    emails = {Path(d["source_path"]).name: d for d in _docs(services, settings, custodian) if d["kind"] == "email"}
    corrupt = {Path(e["source_path"]).name: e for e in report if e["code"] == "corrupt"}
    # Declared GB2312, written in UTF-8; declared UTF-8 with one stray byte.
    assert "增值税发票" in emails["mailparser-mail_test_12.eml"]["body"]
    assert "not valid gb2312" in corrupt["mailparser-mail_test_12.eml"]["reason"]
    assert "Профиль" in emails["mailparser-mail_test_6.eml"]["body"]
    assert "a few byte sequences are not valid utf-8" in corrupt["mailparser-mail_test_6.eml"]["reason"]
    assert {e["locator"] for e in corrupt.values()} == {""}


# --- inline images and reports ------------------------------------------------------------------

@pytest.mark.corpora(sibling="test_generated_inline_images_are_attachment_children")
def test_inline_images_are_attachment_children(services, settings, ingest_files, corpora):
    custodian = _custodian("Inline Images")
    ingest_files([corpora / "eml" / "mailparser-mail_test_6.eml"], custodian=custodian)
    email, *images = _docs(services, settings, custodian)
    assert [(i["locator"], i["content_type"], i["parent_id"]) for i in images] == [
        (f"/attachment[{n}]", "image/png", email["id"]) for n in range(1, 5)]
    assert email["attachment_names"] == [f"attachment-{n}" for n in range(1, 5)]
    assert email["body_html"].startswith("<table") and "<img" in email["body_html"]


@pytest.mark.corpora(sibling="test_generated_delivery_status_report_keeps_the_bounce_details")
def test_delivery_status_report_keeps_the_bounce_details(services, settings, ingest_files, corpora):
    custodian = _custodian("Bounce Reader")
    ingest_files([corpora / "eml" / "mailparser-mail_malformed_2.eml"], custodian=custodian)
    (email,) = _docs(services, settings, custodian)
    assert "Final-Recipient" in email["body"] and "Trabajo perfecto a distancia" in email["body"]


def test_generated_inline_images_are_attachment_children(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Inline Generated")
    message = _message("Inline logos", body=None)
    message.set_content("Plain alternative.")
    message.add_alternative('<table><tr><td><img src="cid:one@x"><img src="cid:two@x"></td></tr></table>', subtype="html")
    html = message.get_payload()[1]
    for number in (1, 2):  # unnamed inline parts, as mail clients send logos and signatures
        png = io.BytesIO()
        Image.new("RGB", (4 + number, 4), "white").save(png, format="PNG")
        html.add_related(png.getvalue(), maintype="image", subtype="png", cid=f"<{('one', 'two')[number - 1]}@x>")
    ingest_files([_write(tmp_path, "inline.eml", message)], custodian=custodian)
    email, *images = _docs(services, settings, custodian)
    assert [(i["locator"], i["content_type"], i["parent_id"]) for i in images] == [
        (f"/attachment[{n}]", "image/png", email["id"]) for n in (1, 2)]
    assert email["attachment_names"] == ["attachment-1", "attachment-2"]
    assert email["body_html"].startswith("<table") and "<img" in email["body_html"]


def test_generated_delivery_status_report_keeps_the_bounce_details(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Bounce Generated")
    original = _message("Trabajo perfecto a distancia", "The returned message text.")
    report = (b"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; gone@example.org\r\n"
              b"Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n")
    bounce = (b"From: MAILER-DAEMON@mx.example.net\r\nTo: carol@dhsc.gov.uk\r\nSubject: Undelivered Mail Returned to Sender\r\n"
              b"Date: " + DATE.encode() + b"\r\nMIME-Version: 1.0\r\n"
              b'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n\r\n'
              b"--dsn\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n"
              b"--dsn\r\nContent-Type: message/delivery-status\r\n\r\n" + report +
              b"--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\n" + original.as_bytes().split(b"\n\n")[0] + b"\r\n"
              b"--dsn--\r\n")
    ingest_files([_write(tmp_path, "bounce.eml", bounce)], custodian=custodian)
    (email,) = _docs(services, settings, custodian)
    assert "Final-Recipient" in email["body"] and "550 5.1.1 user unknown" in email["body"]
    assert "Trabajo perfecto a distancia" in email["body"]


def test_inline_image_text_is_ocred(services, settings, ingest_files, tmp_path):
    """Needs Tika started with tesseract installed (scripts/install-system-packages.sh)."""
    custodian = _custodian("Ocr Reader")
    message = _message("Scanned notice", body=None)
    message.set_content('<p>See the notice:</p><img src="cid:notice@dhsc">', subtype="html")
    message.add_related(png_with_text("INVOICE PELICAN 4471"), maintype="image", subtype="png", cid="<notice@dhsc>")
    _, report = ingest_files([_write(tmp_path, "scan.eml", message)], custodian=custodian)

    email, image = _docs(services, settings, custodian)
    assert image["parent_id"] == email["id"] and image["content_type"] == "image/png"
    assert "PELICAN" in image["body"].upper()
    assert [h["id"] for h in _search(services, settings, "pelican", custodian)] == [image["id"]]
    assert report == []


def test_an_unnamed_tnef_part_is_named_winmail_dat(services, settings, ingest_files, tmp_path):
    custodian = _custodian("Tnef Unnamed")
    message = _message("Unnamed", "body")
    message.add_attachment(b"junk" * 10, maintype="application", subtype="ms-tnef")
    del message.get_payload()[1]["Content-Disposition"]
    _, report = ingest_files([_write(tmp_path, "unnamed.eml", message)], custodian=custodian)
    assert [(e["code"], e["locator"]) for e in report if e["code"] == "corrupt"] == [("corrupt", "/attachment[1]")]
    email, attachment = _docs(services, settings, custodian)
    assert attachment["file_name"] == "winmail.dat" and email["attachment_names"] == ["winmail.dat"]



# --- hostile structure (see bench/hostile) ------------------------------------------------------

def _read_eml(tmp_path: Path, source_context, data: bytes) -> tuple[list, list]:
    from indexer.model import Item
    from indexer.sources import eml

    path = tmp_path / "hostile.eml"
    path.write_bytes(data)
    produced = list(eml.read(path, source_context(path, "MIME Unit")))
    return [p for p in produced if isinstance(p, Item)], [p for p in produced if not isinstance(p, Item)]


_HOSTILE_HEAD = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hostile\r\nMIME-Version: 1.0\r\n"


@pytest.mark.parametrize("depth", [150, 3000])
def test_multipart_nested_past_the_limit_is_reported_and_the_email_kept(tmp_path, source_context, depth):
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n) for n in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % n for n in reversed(range(depth)))
    data = _HOSTILE_HEAD + opening + b"Content-Type: text/plain\r\n\r\ninnermost\r\n" + closing
    items, problems = _read_eml(tmp_path, source_context, data)
    assert [(i.kind, i.subject) for i in items] == [("email", "hostile")]
    assert items[0].extraction == "partial"
    assert "corrupt" in {p.code for p in problems} and any("nested" in p.reason for p in problems)
    assert "reader_error" not in {p.code for p in problems}


def test_message_cut_before_its_closing_boundary_is_reported_as_truncated(tmp_path, source_context):
    data = (_HOSTILE_HEAD + b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n'
            b"the first part, and then the file just stops")
    items, problems = _read_eml(tmp_path, source_context, data)
    assert "the first part" in items[0].body
    assert [(p.code, "truncated" in p.reason) for p in problems] == [("corrupt", True)]


def test_header_of_100000_addresses_is_read_whole(tmp_path, source_context):
    cc = b", ".join(b"=?utf-8?q?User_=C3=A9_%d?= <user%d@example.org>" % (n, n) for n in range(100_000))
    items, problems = _read_eml(tmp_path, source_context, _HOSTILE_HEAD + b"Cc: " + cc + b"\r\n\r\nbody\r\n")
    assert len(items[0].cc) == 100_000
    assert (items[0].cc[-1].name, items[0].cc[-1].address) == ("User é 99999", "user99999@example.org")
    assert problems == []


def test_lines_longer_than_the_limit_are_cut_before_parsing():
    from indexer.sources.support.mime import cut_long_lines

    data = b"Subject: x\r\n\r\n" + b"a" * 50 + b"\r\nshort\r\n"
    assert cut_long_lines(data, 1000) == (data, 0)
    cut, count = cut_long_lines(data, 20)
    assert count == 1 and cut == b"Subject: x\r\n\r\n" + b"a" * 20 + b"\nshort\r\n"


def test_an_unparsable_header_loses_only_itself(tmp_path, source_context):
    # Sendmail writes this when a message arrives without a To header; Python's email package cannot
    # parse an empty group followed by a comment.
    data = (b"From: Alice <alice@example.org>\r\nTo: unlisted-recipients:; (no To-header on input)\r\n"
            b"Cc: bob@example.org\r\nSubject: survey results\r\nDate: Tue, 17 Nov 2009 11:36:14 -0800\r\n\r\nbody\r\n")
    items, problems = _read_eml(tmp_path, source_context, data)
    assert problems == []
    email = items[0]
    assert (email.date, email.timezone, email.extraction) == ("2009-11-17T19:36:14Z", "-08:00", "ok")
    assert email.to == [] and [a.address for a in email.cc] == ["bob@example.org"]
    assert (email.subject, email.sender.address) == ("survey results", "alice@example.org")


def _forwarded(subject: str, inner: EmailMessage) -> EmailMessage:
    message = _message(subject, f"Forwarding {inner['Subject']}.")
    message.add_attachment(inner)  # message/rfc822
    return message


def test_attached_messages_are_read_as_emails_down_to_the_nesting_limit(tmp_path, source_context):
    from indexer.model import Item
    from indexer.sources import eml
    from indexer.sources.base import Limits

    innermost = _message("Level three", "The innermost text mentions wrenfallow.")
    path = _write(tmp_path, "chain.eml", _forwarded("Level one", _forwarded("Level two", innermost)))
    produced = list(eml.read(path, source_context(path, "MIME Nesting", limits=Limits(max_nesting_depth=1))))
    items = {p.locator: p for p in produced if isinstance(p, Item)}
    problems = [p for p in produced if not isinstance(p, Item)]

    second, third = items["/attachment[1]"], items["/attachment[1]/attachment[1]"]
    assert (second.kind, second.subject, second.parent_id, second.depth) == ("email", "Level two", items[""].id, 1)
    # One level past the limit: not read as an email, but its text is still indexed, and that is reported.
    assert (third.kind, third.parent_id) == ("attachment", second.id)
    assert "wrenfallow" in third.body
    assert [(p.code, p.locator, p.item_id) for p in problems] == [("too_large", "/attachment[1]/attachment[1]", third.id)]
    assert "nested 2 levels deep" in problems[0].reason


def test_an_attachment_named_rtf_body_in_an_attached_message_readpst_did_not_write_is_kept(tmp_path, source_context):
    """`rtf-body.rtf` is readpst's name for a message's RTF body only in messages readpst wrote: in any
    other attached message it is an attachment like another, indexed."""
    from indexer.model import Item
    from indexer.sources import eml

    inner = _message("Letter with its draft", "The letter; the draft is attached.")
    inner.add_attachment(rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 The draft mentions corncrakeholt.\par}", maintype="application", subtype="rtf",
                         filename="rtf-body.rtf")
    path = _write(tmp_path, "forward.eml", _forwarded("Forwarding the letter", inner))
    produced = list(eml.read(path, source_context(path, "MIME RTF Name")))
    items = {p.locator: p for p in produced if isinstance(p, Item)}
    assert [p for p in produced if not isinstance(p, Item)] == []
    draft = items["/attachment[1]/attachment[1]"]
    assert (draft.kind, draft.file_name) == ("attachment", "rtf-body.rtf")
    assert "corncrakeholt" in draft.body


def test_a_loose_file_that_is_not_readable_tnef_is_read_as_a_document_and_reported(tmp_path, source_context):
    """A damaged winmail.dat, or a text file merely named .tnef: a document item, and its text indexed."""
    from indexer.model import Item
    from indexer.sources import choose, winmail

    damaged = _write(tmp_path, "winmail.dat", b"\x78\x9f\x3e\x22\x01\x00\x01\x00\x80\xff\xff\xff\x7f"
                     + b" the notes mention lapwingdale " * 5)
    named = _write(tmp_path, "notes.tnef", b"Plain notes about the curlewbank survey.\n" * 3)
    # Tika cannot read a damaged stream either, but the file is an item, and what Tika finds is kept.
    for path, word in ((damaged, ""), (named, "curlewbank")):
        assert choose(path, path.read_bytes()[:4096]) is winmail
        produced = list(winmail.read(path, source_context(path, "Tnef Fallback")))
        items = [p for p in produced if isinstance(p, Item)]
        problems = [p for p in produced if not isinstance(p, Item)]
        assert [(i.kind, i.locator) for i in items][:1] == [("document", "")]
        assert word in items[0].body
        assert [(p.code, p.locator, p.item_id) for p in problems][-1:] == [("corrupt", "", items[0].id)]
        assert "TNEF" in problems[-1].reason
