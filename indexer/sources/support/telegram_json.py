"""Where a Telegram Desktop export's result.json is, and a streaming walk over it.

A result.json can be a bare file, sit at the top of an export folder, or be zipped (at the zip's
root or one folder down). It is read as a byte stream straight from the file or the zip (never
unpacked to disk) and parsed with `ijson`, so a full-account export of gigabytes costs no more
memory than its largest message. The message mapping lives in `indexer.sources.telegram`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import ijson
from ijson.common import ObjectBuilder

from indexer import errors
from indexer.sources.base import SourceContext

RESULT = "result.json"
_MESSAGE_PREFIX = re.compile(r"^(?:(?:chats|left_chats)\.list\.item\.)?messages\.item$")
_CHAT_OBJECTS = ("chats.list.item", "left_chats.list.item")
JSONError = ijson.JSONError
MAX_DEPTH = 200  # Telegram nests about six levels; far deeper is a hostile file


def looks_like_telegram(head: bytes) -> bool:
    """True when the start of a JSON file has the keys of a single-chat or full-account export."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return False
    single_chat = b'"messages"' in head and (b'"date_unixtime"' in head or b'"from_id"' in head)
    return single_chat or b'"chats"' in head or b'"personal_information"' in head


def zip_result(archive: zipfile.ZipFile) -> str | None:
    """The member name of result.json at the zip's root or one folder down, if any."""
    names = [n for n in archive.namelist() if n == RESULT or (n.endswith("/" + RESULT) and n.count("/") == 1)]
    return min(names, key=len) if names else None


def result_member(path: Path, ctx: SourceContext) -> str:
    """Where result.json is: "result.json" in a folder, its member name in a zip, "" for a bare file.

    Raises when a zipped result.json cannot be read safely (encrypted, or inflating like a zip bomb).
    """
    if path.is_dir():
        return RESULT
    with path.open("rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            return ""
    try:
        with zipfile.ZipFile(path) as archive:
            member = zip_result(archive)
            info = archive.getinfo(member) if member else None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise errors.Corrupt(f"the zip is damaged: {exc}") from None
    if member is None or info is None:
        raise errors.Unsupported("the zip holds no Telegram result.json")
    if info.flag_bits & 0x1:
        raise errors.Encrypted(f"{member!r} is encrypted in the zip")
    limits = ctx.limits
    if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
        raise errors.TooLarge(f"{member!r} expands {info.compress_size} → {info.file_size} bytes (a zip bomb?); not read")
    return member


@contextmanager
def result_stream(path: Path, member: str) -> Iterator[IO[bytes]]:
    """result.json as a byte stream, from a bare file, an export folder or a zip (never unpacked to disk)."""
    if path.is_dir():
        with (path / member).open("rb") as handle:
            yield handle
    elif member:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            yield handle
    else:
        with path.open("rb") as handle:
            yield handle


def _parse(stream: IO[bytes]) -> Iterator[tuple[str, str, Any]]:
    """ijson's (prefix, event, value) stream, refusing JSON nested deeper than MAX_DEPTH.

    Built on `basic_parse` because ijson's own `parse` keeps every level's prefix, so memory grows
    with the square of the depth: 200,000 nested brackets take gigabytes before the first event.
    """
    path: list[str] = []
    for event, value in ijson.basic_parse(stream, use_float=True):
        if event == "map_key":
            prefix = ".".join(path[:-1])
            path[-1] = value
        elif event in ("start_map", "start_array"):
            prefix = ".".join(path)
            if len(path) >= MAX_DEPTH:
                raise JSONError(f"the JSON is nested more than {MAX_DEPTH} levels deep")
            path.append("" if event == "start_map" else "item")
        elif event in ("end_map", "end_array"):
            path.pop()
            prefix = ".".join(path)
        else:
            prefix = ".".join(path)
        yield prefix, event, value


def walk(stream: IO[bytes]) -> Iterator[tuple[str, str, Any]]:
    """Stream ("owner", "", info), ("chat", path, header) and ("message", locator, message) in file order.

    A message is whatever JSON value sits in a `messages` array, so callers see (and report) non-objects.
    """
    counters = {name: -1 for name in _CHAT_OBJECTS}
    chat_prefix, chat_path, header, index = "", "", {}, 0
    builder, target, kind, locator = None, ("", ""), "", ""
    for prefix, event, value in _parse(stream):
        if builder is not None:
            builder.event(event, value)
            if (prefix, event) == target:
                yield kind, locator, builder.value
                builder = None
            continue
        if event == "start_map" and prefix in _CHAT_OBJECTS:
            counters[prefix] += 1
            chat_prefix, chat_path, header = prefix, f"{prefix.split('.')[0]}.list[{counters[prefix]}].", {}
        elif _MESSAGE_PREFIX.match(prefix) or (prefix == "personal_information" and event == "start_map"):
            kind, locator = ("owner", "") if prefix == "personal_information" else ("message", f"{chat_path}messages[{index}]")
            index += kind == "message"
            if event in ("start_map", "start_array"):
                builder, target = ObjectBuilder(), (prefix, event.replace("start", "end"))
                builder.event(event, value)
            else:
                yield kind, locator, value
        elif event == "start_array" and prefix == (f"{chat_prefix}.messages" if chat_prefix else "messages"):
            index = 0
            yield "chat", chat_path, header
        elif event in ("string", "number", "null") and prefix.rpartition(".")[0] == chat_prefix:
            key = prefix.rpartition(".")[2]
            if key in ("name", "type", "id"):
                header[key] = value
