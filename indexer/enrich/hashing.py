"""Content hashes: the exact-duplicate keys of items."""

from __future__ import annotations

import hashlib
import re

_SPACE = re.compile(r"\s+")


def text_sha256(text: str) -> str:
    """SHA-256 of text with whitespace runs collapsed, so re-wrapped copies hash the same."""
    return hashlib.sha256(_SPACE.sub(" ", text).strip().encode("utf-8")).hexdigest()


def bytes_sha256(data: bytes) -> str:
    """SHA-256 of raw bytes (files and attachments)."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(folder) -> str:
    """SHA-256 over a folder's regular files (relative path and content digest, in sorted order)."""
    from pathlib import Path

    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(f"{path.relative_to(root).as_posix()}\x00{file_sha256(path)}\n".encode())
    return digest.hexdigest()
