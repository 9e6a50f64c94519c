"""The code page of an Outlook message's 8-bit strings, from every signal the message gives.

A non-Unicode .msg (or embedded message) stores its subject, body, names and addresses as 8-bit
strings (PT_STRING8) in the code page of the client that wrote it. PR_MESSAGE_CODEPAGE says which;
when it is missing, extract-msg falls back to ISO-8859-15, and a Big5, Shift-JIS or Cyrillic
message becomes mojibake, unsearchable, with nothing reported. The code page is chosen here from
the signals in order of how directly they describe the strings: PR_MESSAGE_CODEPAGE, then
PR_INTERNET_CPID (the code page the message was sent in), then the charset the HTML body declares,
then the language of PR_MESSAGE_LOCALE_ID (its Windows ANSI code page); each must decode the
strings, else the next is tried. Only when none fits is the code page detected (charset-normalizer)
from the strings themselves, and that guess is reported.
"""

from __future__ import annotations

import codecs
import locale
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Windows code pages whose Python codec name is not simply "cpNNN".
CODEPAGES = {65001: "utf-8", 20127: "us-ascii", 28591: "iso-8859-1", 28592: "iso-8859-2", 28595: "iso-8859-5",
             28597: "iso-8859-7", 28605: "iso-8859-15", 936: "gb18030", 54936: "gb18030", 50220: "iso-2022-jp",
             51932: "euc-jp", 949: "cp949", 20866: "koi8-r", 950: "cp950"}
# Windows ANSI code page by language (and, for Chinese, region) of a locale id (LCID).
_ANSI_BY_LANGUAGE = {
    **dict.fromkeys(("zh_TW", "zh_HK", "zh_MO"), 950), **dict.fromkeys(("zh_CN", "zh_SG"), 936),
    "ja": 932, "ko": 949, "th": 874, "vi": 1258, "el": 1253, "he": 1255, "tr": 1254, "az": 1254,
    **dict.fromkeys(("ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tt", "mn"), 1251),
    **dict.fromkeys(("pl", "cs", "sk", "hu", "sl", "hr", "ro", "sq", "bs"), 1250),
    **dict.fromkeys(("ar", "fa", "ur"), 1256), **dict.fromkeys(("et", "lv", "lt"), 1257),
}
_HTML_CHARSET = re.compile(rb"<meta[^>]*charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_PR_MESSAGE_CODEPAGE, _PR_INTERNET_CPID = "3FFD0003", "3FDE0003"
_PR_MESSAGE_LOCALE_ID, _PR_LOCALE_ID = "3FF10003", "66A10003"
_PR_HTML = "__substg1.0_10130102"


@dataclass(frozen=True, slots=True)
class Choice:
    """The codec chosen for the message's 8-bit strings, and the signal it came from."""

    codec: str
    signal: str  # "PR_MESSAGE_CODEPAGE", "PR_INTERNET_CPID", "the HTML body's charset", "the locale ...", "detected"

    @property
    def guessed(self) -> bool:
        return self.signal == "detected"


def codec_for(codepage: object) -> str | None:
    """The Python codec of a Windows code page number, or None when Python has none (or it is not a number)."""
    if not isinstance(codepage, int) or codepage <= 0:
        return None
    return _known(CODEPAGES.get(codepage, f"cp{codepage}"))


def codec_name(name: str | None) -> str | None:
    """The canonical Python name of a codec ("big5", "cp1252"), or None when Python has no such codec."""
    return _known(name)


def _known(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def html_charset(html: bytes | None) -> str | None:
    """The codec the HTML body declares in a <meta> charset, or None."""
    match = _HTML_CHARSET.search(html[:8192]) if html else None
    return _known(match[1].decode("ascii")) if match else None


def locale_codepage(lcid: object) -> int | None:
    """The Windows ANSI code page of a locale id (1028, zh-TW → 950), or None for an unknown one."""
    name = locale.windows_locale.get(lcid) if isinstance(lcid, int) else None
    if not name:
        return None
    return _ANSI_BY_LANGUAGE.get(name, _ANSI_BY_LANGUAGE.get(name.split("_")[0], 1252))


def choose(message, strings: list[bytes]) -> Choice | None:
    """The codec of a non-Unicode message's 8-bit `strings` (None for a Unicode message or one with no
    8-bit text): the first signal whose code page decodes them all, else a detected one."""
    if message.areStringsUnicode or not strings:
        return None
    lcid = message.getPropertyVal(_PR_MESSAGE_LOCALE_ID) or message.getPropertyVal(_PR_LOCALE_ID)
    candidates = (
        (codec_for(message.getPropertyVal(_PR_MESSAGE_CODEPAGE)), "PR_MESSAGE_CODEPAGE"),
        (codec_for(message.getPropertyVal(_PR_INTERNET_CPID)), "PR_INTERNET_CPID"),
        (html_charset(message.getStream(_PR_HTML)), "the HTML body's charset"),
        (codec_for(locale_codepage(lcid)), f"the locale ({lcid})"),
    )
    for codec, signal in candidates:
        if codec and all(_fits(data, codec) for data in strings):
            return Choice(codec, signal)
    best = from_bytes(b"\n".join(strings)).best()
    return Choice(_known(best.encoding) or "cp1252" if best else "cp1252", "detected")


def _fits(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def string8_streams(message) -> list[bytes]:
    """The message's own 8-bit string properties (subject, body, names, addresses), its recipients' too."""
    found = []
    for path in message.listDir(True, False):
        if path[-1].upper().endswith("001E") and (len(path) == 1 or path[0].startswith("__recip_version1.0_")):
            data = message.getStream("/".join(path))
            if data:
                found.append(data.rstrip(b"\x00"))
    return found
