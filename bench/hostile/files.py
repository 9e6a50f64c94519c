"""Hostile loose files: wrong extensions, binary garbage under every extension Lantern knows,
empty files, 100 MB single lines, truncated and password-protected documents, XML bombs inside
documents, symbolic links, a named pipe, unreadable files and hostile file names."""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

from bench.hostile import Case, expect
from bench.hostile.archives import FIXED_TIME, sevenzip_bytes, zip_bytes
from bench.hostile.mail import simple_eml

MiB = 1024 * 1024
EXTENSIONS = ("eml", "mbox", "msg", "pst", "json", "xml", "txt", "zip", "7z", "docx", "pdf", "jsonl")
_MAGIC = {
    "zip": b"PK\x03\x04", "7z": b"7z\xbc\xaf\x27\x1c", "pdf": b"%PDF-1.7\n", "ole": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    "pst": b"!BDN", "mbox": b"From someone Mon Jan  6 10:00:00 2020\n", "xml-smses": b"<?xml version='1.0'?><smses count='1'>",
    "json-teams": b'{"@odata.context": "chatMessage", "messageType": ', "gzip": b"\x1f\x8b\x08\x00", "rar": b"Rar!\x1a\x07\x00",
}


def pdf_bytes(text: str = "A hostile corpus PDF about the contract.", password: str | None = None) -> bytes:
    """A one-page PDF with fixed dates (fpdf2), optionally password-protected."""
    from datetime import datetime, timezone

    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(datetime(2020, 1, 1, tzinfo=timezone.utc))
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for _ in range(30):
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    if password:
        pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    return bytes(pdf.output())


def docx_bytes(text: str = "A hostile corpus Word document about the contract.") -> bytes:
    """A small DOCX (python-docx) with fixed core properties."""
    from datetime import datetime

    import docx

    document = docx.Document()
    document.core_properties.created = document.core_properties.modified = datetime(2020, 1, 1)
    for _ in range(20):
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return _refixed_zip(buffer.getvalue())


def _refixed_zip(data: bytes, replace: dict[str, bytes] | None = None) -> bytes:
    """The zip `data` rewritten with fixed timestamps (and some members replaced)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = (replace or {}).get(info.filename, source.read(info))
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def encrypted_docx() -> bytes:
    """A password-protected DOCX (an OLE file holding EncryptionInfo and EncryptedPackage), via msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(docx_bytes())).encrypt("secret", out)
    return out.getvalue()


def jpeg_bytes(shade: int = 0) -> bytes:
    """A small JPEG (Pillow), its colour set by `shade`."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30 + shade, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _wrong_extensions() -> list[Case]:
    # Each file's content differs (it names its extension): identical files would share item ids.
    makers = {
        "pdf": lambda ext: pdf_bytes(f"A PDF named .{ext}, about the contract."),
        "zip": lambda ext: zip_bytes([("inside.txt", f"a text file inside a zip named .{ext}\n".encode())]),
        "jpeg": lambda ext: jpeg_bytes(sum(ext.encode()) % 200),
        "docx": lambda ext: docx_bytes(f"A Word document named .{ext}, about the contract."),
        "eml": lambda ext: simple_eml(f"as-{ext}", f"an email saved as .{ext}\r\n".encode()),
        "7z": lambda ext: sevenzip_bytes([("inside.txt", f"text in a 7z named .{ext}\n".encode())]),
    }
    wrong = {"pdf": ("eml", "mbox", "msg", "pst", "json", "xml", "txt", "zip", "docx"),
             "zip": ("txt", "eml", "docx", "pdf", "msg", "json"), "jpeg": ("docx", "eml", "pdf", "txt"),
             "docx": ("pdf", "zip", "eml"), "eml": ("pdf", "docx", "zip", "pst"), "7z": ("zip", "eml")}
    return [Case(f"wrong-extension/{kind}-as.{ext}", makers[kind](ext), f"{kind} content named .{ext}", indexed=True)
            for kind, extensions in wrong.items() for ext in extensions]


def _garbage() -> list[Case]:
    cases = []
    for number, extension in enumerate(EXTENSIONS):
        for size in (1024, 64 * 1024):
            data = random.Random(number * 7 + size).randbytes(size)
            # Named .txt or .json, Tika may read random bytes as (meaningless) text: indexed, not reported.
            codes = () if extension in ("txt", "json") else ("*",)
            cases.append(Case(f"garbage/random-{size // 1024}k.{extension}", data, f"{size} random bytes named .{extension}",
                              **expect(*codes)))
    for label, magic in _MAGIC.items():
        data = magic + random.Random(label).randbytes(32 * 1024)
        extension = {"ole": "msg", "xml-smses": "xml", "json-teams": "json"}.get(label, label)
        cases.append(Case(f"garbage/magic-{label}.{extension}", data, f"the {label} signature followed by random bytes",
                          **expect("*")))
    cases.append(Case("garbage/nul-bytes.txt", bytes(64 * 1024), "64 KiB of NUL bytes named .txt"))
    cases.append(Case("garbage/utf16-no-bom.txt", "UTF-16 text without a byte order mark, about the contract.\n".encode("utf-16-le") * 50,
                      "UTF-16 text without a BOM", indexed=True))
    cases.append(Case("garbage/mixed-encodings.txt", ("café ".encode() + "café ".encode("latin-1") + "кофе ".encode("koi8-r")
                                                      + "コーヒー ".encode("shift_jis")) * 200,
                      "UTF-8, Latin-1, KOI8-R and Shift-JIS on one line", indexed=True))
    return cases


def _empty() -> list[Case]:
    names = [f"empty/empty.{extension}" for extension in EXTENSIONS] + ["empty/no-extension", "empty/_chat.txt",
                                                                        "empty/result.json"]
    cases = [Case(name, b"", "a 0-byte file", **expect("empty", indexed=False)) for name in names]
    cases.append(Case("empty/slack-folder/users.json", b"", "a Slack export folder whose users.json is 0 bytes",
                      unit="empty/slack-folder", **expect("corrupt", "empty", indexed=False)))
    return cases


def _big_line(unit: bytes, prefix: bytes = b"", suffix: bytes = b"") -> callable:
    def write(path: Path) -> None:
        block = unit * (MiB // len(unit))
        with path.open("wb") as handle:
            handle.write(prefix)
            for _ in range(100 * MiB // len(block)):
                handle.write(block)
            handle.write(suffix)
    return write


def _large() -> list[Case]:
    return [
        Case("large/line-100mib.txt", _big_line(b"lorem ipsum "), "one 100 MiB line of words", large=True),
        Case("large/no-spaces-100mib.txt", _big_line(b"x"), "one 100 MiB line of one repeated letter", large=True),
        Case("large/string-100mib.json", _big_line(b"a", b'{"messageType": "message", "createdDateTime": "2020", "value": "',
                                                   b'"}'), "a JSON document holding one 100 MiB string", large=True),
        Case("large/line-100mib.csv", _big_line(b"a,b,c,"), "a CSV of one 100 MiB line", large=True),
    ]


def _documents() -> list[Case]:
    pdf, docx = pdf_bytes(), docx_bytes()
    laughs = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([98 + n]), (b"&%s;" % bytes([97 + n])) * 10) for n in range(9))
        + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
        b"<w:t>&j;</w:t></w:r></w:p></w:body></w:document>")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
           b"<w:t>&x;</w:t></w:r></w:p></w:body></w:document>")
    svg_laughs = laughs.replace(b"w:document", b"svg").replace(b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"',
                                                                 b'xmlns="http://www.w3.org/2000/svg"')
    cases = []
    for fraction in (0.1, 0.5, 0.9):
        pct = int(fraction * 100)
        cases.append(Case(f"documents/truncated-{pct}pct.pdf", pdf[:int(len(pdf) * fraction)], f"a PDF cut at {pct}%",
                          **expect("extraction_failed", "no_text", "corrupt", indexed=True)))
        cases.append(Case(f"documents/truncated-{pct}pct.docx", docx[:int(len(docx) * fraction)], f"a DOCX cut at {pct}%",
                          **expect("extraction_failed", "no_text", "corrupt", indexed=True)))
    cases += [
        Case("documents/password.pdf", pdf_bytes(password="secret"), "a password-protected PDF (RC4)",
             **expect("encrypted", indexed=True)),
        Case("documents/password-aes.pdf", _aes_pdf(), "a password-protected PDF (AES-256)", **expect("encrypted", indexed=True)),
        Case("documents/password.docx", encrypted_docx(), "a password-protected DOCX", **expect("encrypted", indexed=True)),
        Case("documents/billion-laughs.docx", _refixed_zip(docx, {"word/document.xml": laughs}),
             "a DOCX whose document.xml is a billion-laughs bomb", **expect("extraction_failed", "no_text", indexed=True)),
        Case("documents/external-entity.docx", _refixed_zip(docx, {"word/document.xml": xxe}),
             "a DOCX whose document.xml reads /etc/passwd through an external entity",
             **expect("extraction_failed", "no_text", indexed=True)),
        Case("documents/billion-laughs.svg", svg_laughs, "an SVG billion-laughs bomb", indexed=True),
        Case("documents/deep-html.html", b"<html><body>" + b"<div>" * 200_000 + b"deep" + b"</div>" * 200_000 + b"</body></html>",
             "HTML nested 200,000 elements deep", indexed=True),
        Case("documents/deep-rtf.rtf", b"{\\rtf1 " + b"{" * 100_000 + b"deep" + b"}" * 100_000 + b"}", "RTF nested 100,000 groups deep",
             indexed=True),
    ]
    return cases


def _aes_pdf() -> bytes:
    from datetime import datetime, timezone

    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_creation_date(datetime(2020, 1, 1, tzinfo=timezone.utc))
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 8, "secret text")
    pdf.set_encryption(owner_password="owner", user_password="secret", encryption_method=EncryptionMethod.AES_256)
    return bytes(pdf.output())


def _symlink(target: str) -> callable:
    def write(path: Path) -> None:
        os.symlink(target, path)
    return write


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _unreadable(path: Path) -> None:
    path.write_bytes(simple_eml("unreadable"))
    path.chmod(0)


def _special() -> list[Case]:
    def eml(label: str) -> bytes:  # distinct bytes per file: identical files would share item ids
        return simple_eml(f"named-{label}", f"an ordinary message under a hostile file name ({label})\r\n".encode())

    return [
        Case("special/link-to-etc-passwd.txt", _symlink("/etc/passwd"), "a symbolic link out of the corpus",
             **expect("unsupported", indexed=False)),
        Case("special/link-dangling.eml", _symlink("/nonexistent/nowhere.eml"), "a dangling symbolic link",
             **expect("unsupported", indexed=False)),
        Case("special/link-loop.eml", _symlink("link-loop.eml"), "a symbolic link to itself", **expect("unsupported", indexed=False)),
        Case("special/link-to-folder", _symlink("/etc"), "a symbolic link to a folder", **expect("unsupported", indexed=False)),
        Case("special/link-to-sibling.eml", _symlink("../structure/boundary-missing.eml"), "a symbolic link inside the corpus",
             **expect("unsupported", indexed=False)),
        Case("special/named-pipe.eml", _fifo, "a named pipe (reading it would block forever)", **expect("unreadable", indexed=False)),
        Case("special/no-permission.eml", _unreadable, "a file nobody may read", needs_non_root=True,
             **expect("unreadable", indexed=False)),
        Case("special/bad-utf8-name-\udcff\udcfe.eml", eml("bad-utf8"), "a file name that is not valid UTF-8", indexed=True),
        Case("special/newline\nin-name.eml", eml("newline"), "a file name with a newline", indexed=True),
        Case("special/" + "n" * 240 + ".eml", eml("long"), "a 244-byte file name", indexed=True),
        Case("special/-rf --custodian=x.eml", eml("options"), "a file name that looks like command options", indexed=True),
        Case("special/\u202eslm.exe.eml", eml("rtl"), "a file name with a right-to-left override", indexed=True),
    ]


def cases() -> list[Case]:
    """Every hostile loose-file case."""
    return [*_wrong_extensions(), *_garbage(), *_empty(), *_large(), *_documents(), *_special()]
