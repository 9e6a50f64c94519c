"""Hostile email: deep MIME and message/rfc822 nesting, huge headers, bad charsets, truncated
mailboxes, damaged Outlook .msg files and PST stores.

EML and MBOX bytes are written by hand (the `email` package would repair what we want broken).
The PST cases damage a real store kept in the repository (tests/data: no library writes PSTs);
the .msg cases damage a real sample of the shared corpora, so they are left out when those are
not there.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from pathlib import Path

from bench.hostile import Case, expect

MiB = 1024 * 1024
_HEAD = (b"From: Alice Example <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
         b"Date: Mon, 6 Jan 2020 10:00:00 +0000\r\nMessage-ID: <%s@hostile.test>\r\nMIME-Version: 1.0\r\n")


def _head(tag: str, subject: str = "hostile") -> bytes:
    return (_HEAD % tag.encode()) + b"Subject: " + subject.encode() + b"\r\n"


def simple_eml(tag: str, body: bytes = b"The body of a plain message.\r\n", extra: bytes = b"",
               content_type: bytes = b"text/plain; charset=utf-8") -> bytes:
    return _head(tag) + extra + b"Content-Type: " + content_type + b"\r\n\r\n" + body


def _nested_multipart(depth: int) -> bytes:
    opening, closing = [], []
    for level in range(depth):
        opening.append(b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n" % (level, level))
        closing.append(b"\r\n--b%d--\r\n" % level)
    leaf = b"Content-Type: text/plain\r\n\r\nthe innermost part\r\n"
    return _head(f"multipart-{depth}")[:-2] + b"\r\n" + b"".join(opening) + leaf + b"".join(reversed(closing))


def _nested_rfc822(depth: int) -> bytes:
    message = simple_eml("innermost", b"the innermost forwarded message\r\n")
    for level in range(depth):
        message = (_head(f"rfc822-{level}") + b"Content-Type: multipart/mixed; boundary=\"f%d\"\r\n\r\n"
                   b"--f%d\r\nContent-Type: text/plain\r\n\r\nforwarded, level %d\r\n"
                   b"--f%d\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
                   % (level, level, level, level)) + message + b"\r\n--f%d--\r\n" % level
    return message


def _nested_bare_rfc822(depth: int) -> bytes:
    """message/rfc822 as the whole content of each level, no multipart around it."""
    message = simple_eml("innermost-bare")
    for level in range(depth):
        message = _head(f"bare-{level}") + b"Content-Type: message/rfc822\r\n\r\n" + message
    return message


def _headers(count: int, name: bytes = b"X-Junk") -> bytes:
    return b"".join(b"%s-%d: value %d\r\n" % (name, n, n) for n in range(count))


def _big_line_eml(path: Path) -> None:
    with path.open("wb") as handle:
        handle.write(simple_eml("100mib-line", b""))
        _write_line(handle, b"word ", 100 * MiB)


def _big_header_eml(path: Path) -> None:
    with path.open("wb") as handle:
        handle.write(_head("100mib-header")[:-2] + b"\r\nX-Huge: ")
        _write_line(handle, b"x", 100 * MiB)
        handle.write(b"\r\n\r\nbody after a 100 MiB header\r\n")


def _big_line_mbox(path: Path) -> None:
    with path.open("wb") as handle:
        handle.write(b"From alice@example.org Mon Jan  6 10:00:00 2020\n" + simple_eml("mbox-100mib", b"").replace(b"\r\n", b"\n"))
        _write_line(handle, b"lorem ", 100 * MiB)
        handle.write(b"\n")


def _write_line(handle, unit: bytes, size: int) -> None:
    block = unit * (MiB // len(unit))
    for _ in range(size // len(block)):
        handle.write(block)


def _mbox(messages: list[bytes]) -> bytes:
    return b"".join(b"From sender@example.org Mon Jan  6 10:00:00 2020\n" + m.replace(b"\r\n", b"\n") + b"\n"
                    for m in messages)


def _multipart_with_attachment(tag: str) -> bytes:
    return (_head(tag) + b"Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\n"
            b"Content-Type: text/plain\r\n\r\nsee the attached report\r\n--xx\r\n"
            b"Content-Type: text/plain; name=report.txt\r\nContent-Disposition: attachment; filename=report.txt\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + (b"VGhlIHJlcG9ydCBvbiB0aGUgY29udHJhY3QuCg==\r\n" * 200)
            + b"--xx--\r\n")


def _eml_cases() -> list[Case]:
    cases = []
    for depth in (10, 100, 500, 990, 1500, 5000):
        cases.append(Case(f"mime/multipart-depth-{depth:04d}.eml", _nested_multipart(depth),
                          f"multipart/mixed nested {depth} deep", **expect(*(("corrupt",) if depth > 100 else ()),
                                                                           indexed=True)))
    for depth in (5, 30, 120, 400):
        cases.append(Case(f"mime/rfc822-depth-{depth:03d}.eml", _nested_rfc822(depth),
                          f"message/rfc822 inside message/rfc822, {depth} deep", indexed=True))
    for depth in (50, 2000):
        cases.append(Case(f"mime/bare-rfc822-depth-{depth}.eml", _nested_bare_rfc822(depth),
                          f"bare message/rfc822 content, {depth} deep", indexed=True))
    headers = {
        "subject-1mib": (_head("subject-1mib", "S" * MiB)[:-2] + b"\r\n", "a 1 MiB Subject line"),
        "10k-headers": (_head("10k") + _headers(10_000), "10,000 headers"),
        "10k-received": (_head("10k-received") + _headers(10_000, b"Received: from relay") , "10,000 Received headers"),
        "100k-recipients": (_head("100k-to") + b"Cc: " + b", ".join(b"user%d@example.org" % n for n in range(100_000))
                            + b"\r\n", "a Cc header with 100,000 addresses"),
        "folded-100k-lines": (_head("folded") + b"X-Folded: start\r\n" + b" continued\r\n" * 100_000,
                              "one header folded over 100,000 lines"),
        "encoded-word-1mib": (_head("ew", "=?utf-8?b?" + "QUFB" * (MiB // 4) + "?=")[:-2] + b"\r\n",
                              "a 1 MiB RFC 2047 encoded Subject"),
        "header-name-1mib": (_head("hn") + b"X" * MiB + b": value\r\n", "a 1 MiB header name"),
        "no-colon-lines": (_head("nc") + b"this line has no colon\r\n" * 1000, "1,000 header lines without a colon"),
    }
    for label, (head, what) in headers.items():
        cases.append(Case(f"headers/{label}.eml", head + b"Content-Type: text/plain\r\n\r\nbody\r\n", what, indexed=True))
    encodings = {
        "invalid-utf8-body": (simple_eml("iu", b"caf\xc3 \xff\xfe broken \xed\xa0\x80 surrogate\r\n" * 50),
                              ("corrupt",)),
        "raw-8bit-headers": (simple_eml("r8").replace(b"Subject: hostile", b"Subject: caf\xe9 \xff\xfe na\xefve"), ()),
        "unknown-charset": (simple_eml("uc", b"text\r\n", content_type=b"text/plain; charset=x-no-such-charset"),
                            ("corrupt",)),
        "mixed-latin1-utf8": (simple_eml("mx", "café naïve ".encode() + "café naïve".encode("latin-1") * 3 + b"\r\n"),
                              ("corrupt",)),
        "utf16-no-bom": (simple_eml("u16", "UTF-16 text without a byte order mark".encode("utf-16-le"),
                                    content_type=b"text/plain"), ()),
        "bogus-encoded-word": (simple_eml("bw").replace(b"Subject: hostile", b"Subject: =?x-bogus?q?=FF=FE?= and =?utf-8?b?!!!?="), ()),
        "invalid-base64": (simple_eml("b64", b"!!!! not base64 @@@@\r\n", extra=b"Content-Transfer-Encoding: base64\r\n"), ()),
        "broken-quoted-printable": (simple_eml("qp", b"=ZZ=\r\n=4\r\nsoft break =\r\n", extra=b"Content-Transfer-Encoding: quoted-printable\r\n"), ()),
        "unknown-transfer-encoding": (simple_eml("te", b"body\r\n", extra=b"Content-Transfer-Encoding: x-martian\r\n"), ()),
        "nul-bytes-in-body": (simple_eml("nul", b"text\x00with\x00nuls\r\n" * 10).replace(b"Subject", b"Subject", 1), ()),
    }
    for label, (data, codes) in encodings.items():
        cases.append(Case(f"charsets/{label}.eml", data, label.replace("-", " "), **expect(*codes, indexed=True)))
    structure = {
        "boundary-never-closed": _head("bnc") + b"Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\n"
                                 b"Content-Type: text/plain\r\n\r\npart one, and the message just stops",
        "boundary-missing": _head("bm") + b"Content-Type: multipart/mixed; boundary=\"nothere\"\r\n\r\nno parts at all\r\n",
        "boundary-empty": _head("be") + b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\nx\r\n----\r\n",
        "5000-empty-attachments": _head("5k") + b"Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n" + b"".join(
            b"--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=e%d.bin\r\n\r\n\r\n" % n
            for n in range(5000)) + b"--p--\r\n",
        "headers-only-no-blank-line": _head("ho")[:-2],
        "bare-lf-and-cr": simple_eml("lf").replace(b"\r\n", b"\r")[:200] + b"\n\n\r\rbody",
    }
    codes = {"boundary-never-closed": ("corrupt",), "boundary-missing": ("corrupt",), "5000-empty-attachments": ("empty",)}
    for label, data in structure.items():
        cases.append(Case(f"structure/{label}.eml", data, label.replace("-", " "), **expect(*codes.get(label, ()))))
    cases.append(Case("large/line-100mib.eml", _big_line_eml, "a message whose body is one 100 MiB line", large=True))
    cases.append(Case("large/header-100mib.eml", _big_header_eml, "a message with one 100 MiB header", large=True))
    return cases


def _mbox_cases() -> list[Case]:
    messages = [_multipart_with_attachment(f"mbox-{n}") for n in range(5)]
    whole = _mbox(messages)
    cases = []
    for fraction in (0.3, 0.5, 0.93):
        cut = whole[:int(len(whole) * fraction)]
        cases.append(Case(f"mbox/truncated-{int(fraction * 100)}pct.mbox", cut, f"five-message mbox cut at {fraction:.0%}",
                          **expect("corrupt", indexed=True)))
    cases.append(Case("mbox/10k-headerless-messages.mbox", b"From x Mon Jan  6 10:00:00 2020\n\nhello\n" * 10_000,
                      "10,000 messages without headers", **expect("corrupt", indexed=False)))
    rng = random.Random(20)
    cases.append(Case("mbox/from-line-then-garbage.mbox", b"From x Mon Jan  6 10:00:00 2020\n" + rng.randbytes(256 * 1024),
                      "an mbox separator followed by binary garbage", **expect("corrupt")))
    cases.append(Case("mbox/only-from-lines.mbox", b"From x Mon Jan  6 10:00:00 2020\n" * 5000, "5,000 separators, no messages",
                      **expect("corrupt")))
    cases.append(Case("mbox/crlf-deep-nesting.mbox", _mbox([_nested_multipart(3000)]), "an mbox holding a 3000-deep multipart",
                      **expect("corrupt")))
    cases.append(Case("large/line-100mib.mbox", _big_line_mbox, "an mbox message of one 100 MiB line", large=True))
    return cases


def _damaged(source: Path, how: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(how(source.read_bytes()))
    return write


def _garble_after(offset: int, seed: int) -> Callable[[bytes], bytes]:
    def how(data: bytes) -> bytes:
        return data[:offset] + random.Random(seed).randbytes(max(len(data) - offset, 0))
    return how


def _msg_cases(corpora: Path) -> list[Case]:
    sample = corpora / "msg" / "msgextractor-unicode.msg"
    cases = []
    for fraction in (0.05, 0.3, 0.6, 0.9):
        cases.append(Case(f"msg/truncated-{int(fraction * 100):02d}pct.msg", _damaged(sample, lambda d, f=fraction: d[:int(len(d) * f)]),
                          f"an Outlook .msg cut at {fraction:.0%}", **expect("corrupt")))
    cases.append(Case("msg/garbage-after-ole-header.msg", _damaged(sample, _garble_after(512, 11)),
                      "an OLE header followed by random bytes", **expect("corrupt")))
    cases.append(Case("msg/garbage-in-middle.msg", _damaged(sample, lambda d: d[:4096] + random.Random(12).randbytes(8192) + d[12288:]),
                      "an Outlook .msg with 8 KiB overwritten", **expect("corrupt", "extraction_failed", "no_text")))
    cases.append(Case("msg/ole-signature-only.msg", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "the OLE signature alone",
                      **expect("corrupt")))
    return cases


PST_SEED = Path(__file__).resolve().parents[2] / "tests" / "data" / "pst" / "javalibpst-dist-list.pst"


def _pst_cases(sample: Path) -> list[Case]:
    cases = []
    for fraction in (0.02, 0.25, 0.5, 0.75, 0.95):
        cases.append(Case(f"pst/truncated-{int(fraction * 100):02d}pct.pst", _damaged(sample, lambda d, f=fraction: d[:int(len(d) * f)]),
                          f"a PST store cut at {fraction:.0%}", **expect("corrupt")))
    cases.append(Case("pst/header-only.pst", _damaged(sample, lambda d: d[:0x204]), "a PST header and nothing else",
                      **expect("corrupt")))
    cases.append(Case("pst/garbage-after-header.pst", _damaged(sample, _garble_after(0x204, 13)),
                      "a PST header followed by random bytes", **expect("corrupt")))
    cases.append(Case("pst/declares-1tib.pst", _damaged(sample, lambda d: d[:0xB8] + struct.pack("<Q", 1 << 40) + d[0xC0:]),
                      "a PST header declaring a 1 TiB store", **expect("corrupt")))
    cases.append(Case("pst/wip-encrypted.pst", _damaged(sample, lambda d: d[:0x201] + b"\x10" + d[0x202:]),
                      "a PST marked as Windows Information Protection encrypted", **expect("encrypted")))
    cases.append(Case("pst/magic-only.pst", b"!BDN", "the PST signature alone", **expect("corrupt")))
    return cases


def cases(corpora: Path | None) -> list[Case]:
    """Every hostile email case (.msg ones only when the shared corpora are present)."""
    found = [*_eml_cases(), *_mbox_cases(), *_pst_cases(PST_SEED)]
    if corpora is not None:
        found += _msg_cases(corpora)
    return found
