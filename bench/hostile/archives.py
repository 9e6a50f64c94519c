"""Hostile ZIP and 7z files: bombs, deep nesting, traversal names, encryption, truncation, lies.

Most are built with the standard library's `zipfile` and with py7zr; what those refuse to write
(ZipCrypto encryption, NUL bytes or lying sizes in names and headers, "../" in 7z names) is
written byte by byte here: `raw_zip` lays out local headers, central directory and end record
itself, and `_patched_7z` renames members in an unencoded 7z header and fixes its CRCs.
"""

from __future__ import annotations

import binascii
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import py7zr

from bench.hostile import Case, expect

FIXED_TIME = (2020, 1, 1, 0, 0, 0)
MiB = 1024 * 1024
_DOS_TIME, _DOS_DATE = 0, (2020 - 1980) << 9 | 1 << 5 | 1


# --- building blocks ----------------------------------------------------------------------------

def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, data) members with a fixed timestamp."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def zeros_member(archive: zipfile.ZipFile, name: str, size: int, method: int) -> None:
    """Stream `size` zero bytes into a member (never all in memory)."""
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.compress_type = method
    with archive.open(info, "w", force_zip64=size > 0xFFFF0000) as handle:
        left, block = size, bytes(MiB)
        while left > 0:
            handle.write(block[:min(left, MiB)])
            left -= MiB


def zeros_zip(sizes: list[int], method: int = zipfile.ZIP_DEFLATED, prefix: str = "zeros") -> bytes:
    """A zip whose members are runs of zeros of the given sizes (compression ratio about 1000:1 or more)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for number, size in enumerate(sizes):
            zeros_member(archive, f"{prefix}-{number}.txt", size, method)
    return buffer.getvalue()


@dataclass
class RawMember:
    """One member as it will be written, with whatever header values it should claim."""

    name: bytes
    payload: bytes  # already compressed (and encrypted), written as is
    method: int = 0
    crc: int = 0
    size: int = 0  # declared uncompressed size
    flags: int = 0
    compressed: int | None = None  # declared compressed size; default len(payload)


def raw_zip(members: list[RawMember]) -> bytes:
    """A zip written header by header, so names, sizes and flags can be anything."""
    out, central = bytearray(), bytearray()
    for member in members:
        compressed = len(member.payload) if member.compressed is None else member.compressed
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, member.flags, member.method, _DOS_TIME, _DOS_DATE,
                           member.crc, compressed, member.size, len(member.name), 0)
        out += member.name + member.payload
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, member.flags, member.method, _DOS_TIME,
                               _DOS_DATE, member.crc, compressed, member.size, len(member.name), 0, 0, 0, 0, 0, offset)
        central += member.name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def stored(name: bytes, data: bytes) -> RawMember:
    return RawMember(name, data, 0, zlib.crc32(data), len(data))


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


class _ZipCrypto:
    """Traditional PKWARE encryption (APPNOTE 6.1), which no Python library writes."""

    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    @staticmethod
    def _crc(value: int, byte: int) -> int:
        return binascii.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = self._crc(k0, byte)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = self._crc(k2, k1 >> 24)
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            self._update(byte)
        return bytes(out)


def zipcrypto_member(name: str, data: bytes, password: bytes = b"secret") -> RawMember:
    """A member deflated and then ZipCrypto-encrypted."""
    crc = zlib.crc32(data)
    header = bytes(range(11)) + bytes([crc >> 24])  # fixed "random" bytes, then the check byte
    payload = _ZipCrypto(password).encrypt(header + deflated(data))
    return RawMember(name.encode(), payload, 8, crc, len(data), flags=0x1)


def zipcrypto_zip(members: list[tuple[str, bytes]], password: bytes = b"secret") -> bytes:
    """A zip whose members are all ZipCrypto-encrypted."""
    return raw_zip([zipcrypto_member(name, data, password) for name, data in members])


def aes_zip(members: list[tuple[str, bytes]], password: bytes = b"secret") -> bytes:
    """A WinZip AES-256 encrypted zip (pyzipper)."""
    import pyzipper

    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(password)
        for name, data in members:
            info = archive.zipinfo_cls(name, FIXED_TIME)
            info.compress_type = pyzipper.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def sevenzip_bytes(members: list[tuple[str, bytes]], password: str | None = None, header_encryption: bool = False,
                   plain_header: bool = False) -> bytes:
    """A 7z archive (py7zr), optionally AES-encrypted, optionally with an unencoded header."""
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w", password=password, header_encryption=header_encryption) as archive:
        if plain_header:
            archive.encoded_header_mode = False
        for name, data in members:
            archive.writestr(data, name)
    return buffer.getvalue()


def _patched_7z(members: list[tuple[str, bytes]], renames: dict[str, str]) -> bytes:
    """A 7z whose member names py7zr refuses to write: written under same-length stand-ins, then renamed
    in the unencoded header, whose CRC and the start header's CRC are recomputed."""
    data = bytearray(sevenzip_bytes(members, plain_header=True))
    next_offset, next_size = struct.unpack("<QQ", data[12:28])
    start = 32 + next_offset
    header = bytearray(data[start:start + next_size])
    for old, new in renames.items():
        if len(old) != len(new):
            raise ValueError("a 7z rename must keep the name's length")
        header = header.replace(old.encode("utf-16-le"), new.encode("utf-16-le"))
    data[start:start + next_size] = header
    data[28:32] = struct.pack("<L", zlib.crc32(header))
    data[8:12] = struct.pack("<L", zlib.crc32(bytes(data[12:32])))
    return bytes(data)


def _nested_zip(depth: int, leaf: bytes = b"the innermost file of a nested archive\n") -> bytes:
    data = zip_bytes([("leaf.txt", leaf)])
    for level in range(depth - 1, 0, -1):
        data = zip_bytes([(f"level-{level + 1}.zip", data), (f"note-{level}.txt", b"a note beside the archive\n")])
    return data


def _nested_mixed(depth: int) -> bytes:
    """7z and zip alternating, `depth` archives deep, the outermost a 7z."""
    data, inner_name = b"the innermost file of a nested archive\n", "leaf.txt"
    for level in range(depth, 0, -1):
        if level % 2:
            data, inner_name = sevenzip_bytes([(inner_name, data)]), f"level-{level}.7z"
        else:
            data, inner_name = zip_bytes([(inner_name, data)]), f"level-{level}.zip"
    return data


def _many_members(count: int, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for number in range(count):
            archive.writestr(zipfile.ZipInfo(f"m/{number:06d}.txt", FIXED_TIME), data)
    return buffer.getvalue()


def _quine_like_bomb(fan_out: int, depth: int, leaf_size: int) -> bytes:
    """42.zip in small: `fan_out` copies of an archive of `fan_out` copies ... of a zero-filled member."""
    data = zeros_zip([leaf_size])
    for _ in range(depth):
        data = zip_bytes([(f"copy-{n}.zip", data) for n in range(fan_out)], method=zipfile.ZIP_STORED)
    return data


def _truncate(data: bytes, fraction: float) -> bytes:
    return data[:max(1, int(len(data) * fraction))]


def _text_members(count: int) -> list[tuple[str, bytes]]:
    return [(f"doc-{n}.txt", f"member {n} of a damaged archive, about the contract\n".encode() * 40) for n in range(count)]


# --- the cases ----------------------------------------------------------------------------------

def _bombs() -> list[Case]:
    cases = []
    for size_mib in (11, 20, 64, 150):
        for label, method in (("deflate", zipfile.ZIP_DEFLATED), ("bzip2", zipfile.ZIP_BZIP2), ("lzma", zipfile.ZIP_LZMA)):
            cases.append(Case(f"bombs/ratio-{size_mib}mib-{label}.zip", zeros_zip([size_mib * MiB], method),
                              f"one member of {size_mib} MiB of zeros, {label}", **expect("too_large", indexed=True)))
    cases.append(Case("bombs/over-member-limit-250mib.zip", zeros_zip([250 * MiB]),
                      "a member above the 200 MiB attachment limit", **expect("too_large", indexed=True)))
    cases.append(Case("bombs/ten-members-20mib.zip", zeros_zip([20 * MiB] * 10), "ten 20 MiB members of zeros",
                      **expect("too_large", indexed=True)))
    for fan_out, depth in ((2, 2), (4, 2), (8, 2), (3, 3), (2, 4), (16, 1)):
        cases.append(Case(f"bombs/nested-{fan_out}x{depth}.zip", _quine_like_bomb(fan_out, depth, 16 * MiB),
                          f"42.zip-style: {fan_out} copies per level, {depth} levels, 16 MiB of zeros at the bottom",
                          **expect("too_large", indexed=True)))
    cases.append(Case("bombs/7z-zeros-64mib.7z", sevenzip_bytes([("zeros.bin", bytes(64 * MiB))]),
                      "a 7z holding 64 MiB of zeros (LZMA2)", **expect("too_large", indexed=True)))
    cases.append(Case("bombs/7z-solid-many-zeros.7z", sevenzip_bytes([(f"z{n}.bin", bytes(4 * MiB)) for n in range(8)]),
                      "a solid 7z block of eight 4 MiB zero files", **expect("too_large", indexed=True)))
    for count in (2_000, 20_000):
        cases.append(Case(f"bombs/members-{count}.zip", _many_members(count), f"{count} empty members",
                          **expect("empty", indexed=True)))
    cases.append(Case("bombs/members-100001.zip", _many_members(100_001), "100,001 members, one past the member limit",
                      **expect("too_large", "empty", indexed=True)))
    return cases


def _declared_sizes() -> list[Case]:
    text = b"a short member whose header lies about its size\n"
    lies = {
        "declares-4gib": RawMember(b"huge.txt", deflated(text), 8, zlib.crc32(text), 0xFFFFFFFF),
        "declares-1gib-stored": RawMember(b"huge.bin", text, 0, zlib.crc32(text), 1 << 30),
        "declares-too-small": RawMember(b"small.txt", deflated(bytes(30 * MiB)), 8, zlib.crc32(bytes(30 * MiB)), 100),
        "declares-zero": RawMember(b"zero.txt", deflated(bytes(5 * MiB)), 8, zlib.crc32(bytes(5 * MiB)), 0),
        "compressed-size-beyond-file": RawMember(b"beyond.txt", deflated(text), 8, zlib.crc32(text), len(text),
                                                 compressed=50 * MiB),
        "bad-crc": RawMember(b"crc.txt", deflated(text), 8, 0xDEADBEEF, len(text)),
        "unknown-method": RawMember(b"method.txt", text, 77, zlib.crc32(text), len(text)),
    }
    codes = {"declares-4gib": ("too_large",), "declares-1gib-stored": ("too_large",),
             "bad-crc": ("corrupt",), "unknown-method": ("unsupported", "corrupt"),
             "declares-too-small": ("too_large", "corrupt"),
             "compressed-size-beyond-file": (),  # the deflate stream ends where it should: read correctly
             "declares-zero": ("too_large", "corrupt", "empty")}
    return [Case(f"lies/{label}.zip", raw_zip([member]), f"zip member: {label}", **expect(*codes[label], indexed=True))
            for label, member in lies.items()]


def _nesting() -> list[Case]:
    cases = []
    for depth in (3, 5, 6, 8, 12, 30):
        deep = depth > 5
        cases.append(Case(f"nesting/zip-depth-{depth:02d}.zip", _nested_zip(depth), f"zip in zip, {depth} deep",
                          **expect(*(("too_large",) if deep else ()), indexed=True)))
    for depth in (4, 7):
        cases.append(Case(f"nesting/7z-zip-depth-{depth}.7z", _nested_mixed(depth), f"7z and zip alternating, {depth} deep",
                          **expect(*(("too_large",) if depth > 5 else ()), indexed=True)))
    return cases


_TRAVERSAL_NAMES = {
    "dotdot": b"../evil.txt",
    "dotdot-deep": b"../../../../../../etc/passwd",
    "dotdot-middle": b"safe/../../evil.txt",
    "absolute": b"/etc/cron.d/evil",
    "drive-letter": b"C:\\Windows\\System32\\evil.dll",
    "drive-relative": b"C:evil.txt",
    "backslash-dotdot": b"..\\..\\evil.txt",
    "unc": b"\\\\server\\share\\evil.txt",
    "nul-in-name": b"innocent.txt\x00../../evil.sh",
    "newline-in-name": b"line\nbreak/../../evil.txt",
    "fullwidth-slash": "..\uff0fevil.txt".encode(),
    "empty-name": b"",
    "long-name": b"a/" * 2000 + b"evil.txt",
}
_TRAVERSAL_CODES = {"fullwidth-slash": (), "empty-name": (), "long-name": (), "nul-in-name": ()}


def _traversal() -> list[Case]:
    cases = []
    body = b"content of a member with a hostile name\n"
    for label, name in _TRAVERSAL_NAMES.items():
        codes = _TRAVERSAL_CODES.get(label, ("unsafe_path",))
        members = [stored(b"readme.txt", b"a harmless member beside a hostile one\n"), stored(name, body)]
        cases.append(Case(f"traversal/{label}.zip", raw_zip(members), f"zip member named {name[:40]!r}",
                          **expect(*codes, indexed=True)))
    for label, (stand_in, name) in {"dotdot": ("XX/evil.txt", "../evil.txt"),
                                    "absolute": ("Xetc/passwd", "/etc/passwd")}.items():
        data = _patched_7z([("readme.txt", b"a harmless member\n"), (stand_in, body)], {stand_in: name})
        cases.append(Case(f"traversal/7z-{label}.7z", data, f"7z member named {name!r}", **expect("unsafe_path", indexed=True)))
    return cases


def _encrypted() -> list[Case]:
    secret = [("secret.txt", b"the password-protected minutes\n" * 20), ("other.txt", b"another secret\n")]
    cases = [
        Case("encrypted/zipcrypto.zip", zipcrypto_zip(secret), "ZipCrypto members", **expect("encrypted", indexed=True)),
        Case("encrypted/zipcrypto-mixed.zip", raw_zip([stored(b"plain.txt", b"not encrypted\n"),
                                                       zipcrypto_member(*secret[0])]),
             "a plain member and a ZipCrypto one", **expect("encrypted", indexed=True)),
        Case("encrypted/aes256.zip", aes_zip(secret), "WinZip AES-256 members", **expect("encrypted", indexed=True)),
        Case("encrypted/7z-aes.7z", sevenzip_bytes(secret, password="secret"), "7z with AES-encrypted content",
             **expect("encrypted", indexed=True)),
        Case("encrypted/7z-aes-header.7z", sevenzip_bytes(secret, password="secret", header_encryption=True),
             "7z with its file list encrypted too", **expect("encrypted")),
        Case("encrypted/zip-in-zip-aes.zip", zip_bytes([("inner.zip", aes_zip(secret)), ("note.txt", b"see inner\n")]),
             "an AES zip inside a plain zip", **expect("encrypted", indexed=True)),
        Case("encrypted/zipcrypto-truncated.zip", _truncate(zipcrypto_zip(secret), 0.6),
             "ZipCrypto zip cut short", **expect("encrypted", "corrupt")),
    ]
    return cases


def _truncated() -> list[Case]:
    cases = []
    whole_zip = zip_bytes(_text_members(6))
    whole_7z = sevenzip_bytes(_text_members(6))
    for fraction in (0.1, 0.5, 0.9, 0.99):
        cases.append(Case(f"truncated/zip-{int(fraction * 100):02d}pct.zip", _truncate(whole_zip, fraction),
                          f"a six-member zip cut at {fraction:.0%}", **expect("corrupt")))
        cases.append(Case(f"truncated/7z-{int(fraction * 100):02d}pct.7z", _truncate(whole_7z, fraction),
                          f"a six-member 7z cut at {fraction:.0%}", **expect("corrupt")))
    cases.append(Case("truncated/zip-header-only.zip", b"PK\x03\x04" + bytes(10), "a zip local header and nothing else",
                      **expect("corrupt")))
    cases.append(Case("truncated/7z-signature-only.7z", py7zr.properties.MAGIC_7Z + b"\x00\x04", "a 7z signature alone",
                      **expect("corrupt")))
    cases.append(Case("truncated/zip-no-end-record.zip", whole_zip[:whole_zip.rfind(b"PK\x05\x06")],
                      "a zip without its end-of-central-directory record", **expect("corrupt")))
    return cases


def cases() -> list[Case]:
    """Every hostile archive case."""
    return [*_bombs(), *_declared_sizes(), *_nesting(), *_traversal(), *_encrypted(), *_truncated()]

