"""What one MIME part is and how its text is decoded: the rules `mime.message_items` applies.

Roles: a body (plain, HTML or RTF), an attachment, a TNEF container (`winmail.dat`), a
detached signature (not indexed: it is not content), or encrypted content (S/MIME
enveloped data, PGP/MIME) that cannot be read. Text decoding is strict: when the declared
charset is unknown or does not fit the bytes, the text is recovered (UTF-8, then the
charset-normalizer guess, then Windows-1252) and the caller is told, so the report says
the charset was wrong instead of the index holding replacement characters.
"""

from __future__ import annotations

import codecs
import re
import email.errors
import email.header
from email.message import Message

from charset_normalizer import from_bytes
from charset_normalizer.utils import is_multi_byte_encoding

from indexer import errors
from indexer.sources.base import SourceContext

SIGNATURE_TYPES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"})
_PKCS7_MIME = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_RTF_TYPES = frozenset({"text/rtf", "application/rtf", "text/richtext"})
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
PGP_ARMOUR = "-----BEGIN PGP MESSAGE-----"
LONG_HEADER = 16 * 1024  # characters; see `header_texts`
# Declared charsets that mail clients use for a larger superset (the bytes are the superset's):
# the WHATWG Encoding Standard's mapping, which browsers and mail clients follow.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "latin-1": "cp1252",
              "latin1": "cp1252", "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "shift_jis": "cp932",
              "iso-8859-8-i": "iso-8859-8", "tis-620": "cp874"}


def filename(part: Message) -> str | None:
    """The part's file name, or None (also for a malformed Content-Disposition)."""
    try:
        return part.get_filename()
    except Exception:  # noqa: BLE001 - a malformed header; the caller names the part by number
        return None


def role(part: Message) -> str:
    """One of: signature, encrypted, tnef, attachment, html, rtf, plain (for a leaf part)."""
    content_type = part.get_content_type()
    name = (filename(part) or "").lower()
    if content_type in SIGNATURE_TYPES or name.endswith(".p7s"):
        return "signature"
    if content_type == "multipart/encrypted" or (content_type in _PKCS7_MIME and _smime_type(part) != "signed-data"):
        return "encrypted"
    if content_type in TNEF_TYPES or name == "winmail.dat":
        return "tnef"
    if content_type == "message/rfc822":
        return "attachment"
    if part.get_content_maintype() in ("multipart", "message"):
        return "plain"  # delivery-status, rfc822-headers, or a multipart whose boundary was never found
    disposition = (part.get_content_disposition() or "").lower()
    if content_type == "text/calendar" or disposition == "attachment" or name:
        return "attachment"
    if content_type in _RTF_TYPES:
        return "rtf"
    if part.get_content_maintype() != "text":
        return "attachment"
    return "html" if content_type == "text/html" else "plain"


def _smime_type(part: Message) -> str:
    """The S/MIME content kind; a missing smime-type parameter means enveloped (encrypted) data."""
    value = part.get_param("smime-type")
    return str(value).lower() if isinstance(value, str) else "enveloped-data"


def default_name(part: Message, number: int) -> str:
    """A name for a part that has none: invitations are `invite.ics`, the rest `attachment-N`."""
    if part.get_content_type() == "text/calendar":
        return "invite.ics"
    if part.get_content_type() in TNEF_TYPES:
        return "winmail.dat"
    return f"attachment-{number}"


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """(text, problem) for `data` in the `declared` charset; problem is None when the charset fitted."""
    name = (declared or "us-ascii").strip().lower()
    try:
        codecs.lookup(name)
    except LookupError:
        text, used = _recover(data)
        return text, f"unknown charset {declared!r}; decoded as {used} (detected)"
    for candidate in (_SUPERSETS.get(name), name):  # the superset first, as browsers do (WHATWG Encoding)
        if candidate:
            try:
                return data.decode(candidate), None
            except UnicodeDecodeError:
                continue
    mostly = _mostly(data, name)
    if mostly is not None:
        return mostly, f"a few byte sequences are not valid {declared or 'us-ascii'}; they were replaced"
    text, used = _recover(data)
    return text, f"text is not valid {declared or 'us-ascii'} as declared; decoded as {used} (detected)"


def _mostly(data: bytes, charset: str) -> str | None:
    """`data` decoded with replacement when nearly all its non-ASCII bytes fit `charset` (a stray bad byte)."""
    text = data.decode(charset, errors="replace")
    non_ascii = len(data.translate(None, bytes(range(128))))
    return text if text.count("\ufffd") <= non_ascii * 0.02 else None


def _recover(data: bytes) -> tuple[str, str]:
    """Best-effort text for bytes of unknown charset, and the charset used."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mostly = _mostly(data, "utf-8")
    if mostly is not None:
        return mostly, "utf-8"
    best = from_bytes(data).best()
    # charset-normalizer's guesses among single-byte codepages are unreliable on short texts
    # (café → cp1250), and UTF-16 without a BOM is a guess from odd byte patterns: prefer Windows-1252.
    if best is not None and is_multi_byte_encoding(best.encoding) and not best.encoding.startswith(("utf_16", "utf_32")):
        return str(best), best.encoding
    return data.decode("cp1252", errors="replace"), "cp1252"


def part_text(part: Message, limit: int | None = None) -> tuple[str, str | None, bool]:
    """(text, problem, cut) for a body part; message/* parts give their header blocks as text. With a
    `limit`, a payload of more bytes is decoded only up to there (`cut` is then True), so a 100 MB
    one-line body is not decoded, copied and hashed whole."""
    if part.get_content_maintype() == "message":  # delivery-status, rfc822-headers: header blocks as text
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else [payload]
        return "\n".join(b.as_string() if isinstance(b, Message) else str(b) for b in blocks), None, False
    if part.get_content_maintype() == "multipart":  # its boundary was never found: keep the raw text
        return str(part.get_payload()), "multipart boundary not found; the raw body text was indexed", False
    data = part.get_payload(decode=True) or b""
    cut = limit is not None and len(data) > limit
    text, problem = decode_bytes(data[:limit] if cut else data, part.get_content_charset())
    return text, (f"body charset: {problem}" if problem else None), cut


def header_texts(msg: Message, name: str) -> list[str]:
    """Decoded values of every `name` header.

    RFC 2047 encoded words are decoded by the email package; where it gave up (raw 8-bit
    bytes, an unknown charset in an encoded word) the raw header is decoded again here. Headers
    longer than LONG_HEADER skip the email package's structured parsing, which takes minutes
    over a header of 100,000 addresses: their encoded words are decoded directly. So do headers
    whose structured parsing fails (the standard library cannot parse an empty group with a
    comment, `To: unlisted-recipients:; (no To-header on input)`): the raw text is still the value.
    """
    raws = [str(raw) for key, raw in msg.raw_items() if key.lower() == name.lower()]
    if any(len(raw) > LONG_HEADER for raw in raws):
        return [(_redecode(raw) or raw).strip() for raw in raws]
    try:
        values = msg.get_all(name) or []
    except Exception:  # noqa: BLE001 - the email package raises many types on headers it cannot parse
        return [(_redecode(raw) or raw).strip() for raw in raws]
    texts = []
    for number, value in enumerate(values):
        text = str(value)
        if "\ufffd" in text and number < len(raws):
            text = _redecode(raws[number]) or text
        texts.append(text.strip())
    return texts


def raw_header_texts(msg: Message, name: str) -> list[str]:
    """Every `name` header as written (unfolded, encoded words decoded), not parsed as an address list."""
    return [(_redecode(str(raw)) or str(raw)).strip() for key, raw in msg.raw_items() if key.lower() == name.lower()]


def header_text(msg: Message, name: str) -> str | None:
    """The decoded value of the first `name` header, or None."""
    texts = header_texts(msg, name)
    return texts[0] if texts else None


def original_header(msg: Message, name: str) -> str | None:
    """The first `name` header exactly as written (unfolded, raw bytes decoded), or None. The email
    package's value of a structured header is rewritten: a Date loses its `(PST)` comment and gets
    the weekday it computes, which is not what the message said."""
    raw = next((str(value) for key, value in msg.raw_items() if key.lower() == name.lower()), None)
    if raw is None:
        return None
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
    text, _ = decode_bytes(unfolded.encode("ascii", "surrogateescape"), "utf-8")
    return text.strip() or None


def _redecode(raw: str) -> str | None:
    """Decode a raw header value whose bytes were not ASCII or whose encoded words named an unknown charset."""
    raw_bytes = raw.encode("ascii", "surrogateescape")
    unfolded, _ = decode_bytes(raw_bytes, "utf-8")
    unfolded = " ".join(unfolded.split())
    if len(unfolded) <= LONG_HEADER:
        return _decode_words(unfolded)
    # email.header.decode_header takes time quadratic in the number of encoded words; an encoded
    # word holds no ", ", so a long address list is decoded a slice of addresses at a time.
    pieces = unfolded.split(", ")
    return ", ".join(_decode_words(", ".join(pieces[at:at + 200])) for at in range(0, len(pieces), 200))


def _decode_words(unfolded: str) -> str:
    """RFC 2047 encoded words in an unfolded header decoded (charsets recovered as in `decode_bytes`)."""
    try:
        chunks = email.header.decode_header(unfolded)
    except (email.errors.HeaderParseError, ValueError):
        return unfolded
    decoded = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            decoded.append(chunk)
        else:
            decoded.append(decode_bytes(chunk, charset or "utf-8")[0])
    return "".join(decoded)


def rtf_to_text(rtf: bytes, ctx: SourceContext, name: str = "body.rtf") -> str:
    """Plain text of an RTF body, through Tika; raises IngestError subclasses when Tika cannot read it."""
    extracted = ctx.extractor.extract(rtf, name)
    container = next((entry for entry in extracted if entry.embedded_path == ""), None)
    if container is None:
        raise errors.ExtractionFailed("Tika returned nothing for the RTF body")
    if container.failure is not None:  # a fresh exception: the entry may be a cached one, shared
        raise type(container.failure)(str(container.failure))
    return container.text
