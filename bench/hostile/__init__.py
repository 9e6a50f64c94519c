"""The hostile corpus: a deterministic set of bad input files, each with what Lantern should do with it.

`generate(dest)` writes the files (zip bombs, deep nesting, traversal names, truncated and
encrypted containers, wrong extensions, binary garbage, huge lines and headers, broken chat
exports, empty files, symbolic links, ...) and returns their `Case`s; `python -m bench.hostile
DEST` does the same from the shell and writes `DEST.manifest.json` beside the folder (never
inside it, so the manifest is not ingested with the corpus). The files come from code, never
from git: the 100 MB ones (`large=True`) are written at test time only.

Everything derives from fixed seeds and fixed timestamps, so the same call gives the same
files with the same expectations; the bytes differ between runs only where a library stamps the
time or salts its encryption (7z archives from py7zr, AES zips, AES PDF, encrypted DOCX).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

Writer = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One hostile input: its path under the corpus root, how to write it and what should happen.

    `codes`: the file must have an exception-report entry with one of these codes ("*": any code;
    empty: no problem is required). `indexed`: True when it must yield at least one item, False when it
    must yield none, None when either is fine. Whatever these say, every file must end up
    indexed or in the report, and no problem may be a `reader_error`.
    """

    name: str
    content: bytes | Writer
    what: str
    codes: frozenset[str] = frozenset()
    indexed: bool | None = None
    large: bool = False  # 100 MB or more: written at test time, never kept
    needs_non_root: bool = False  # file permissions mean nothing to root
    unit: str | None = None  # the folder read as one unit (a Slack export folder), when not the file itself

    @property
    def reported_as(self) -> str:
        """The path under the corpus root that the report and the index name for this case."""
        return self.unit or self.name

    def write(self, root: Path) -> Path:
        """Write this case under `root`; return its path."""
        path = root / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(self.content, bytes):
            path.write_bytes(self.content)
        else:
            self.content(path)
        return path


def expect(*codes: str, indexed: bool | None = None) -> dict:
    """Keyword arguments for `Case`: the problem codes expected and whether items are expected."""
    return {"codes": frozenset(codes), "indexed": indexed}


def all_cases(corpora: Path | None = None) -> list[Case]:
    """Every case, in a stable order; `corpora` (the shared sample corpora) supplies real PST stores to damage."""
    from bench.hostile import archives, chats, files, mail

    cases = [*archives.cases(), *mail.cases(corpora), *chats.cases(), *files.cases()]
    names = [case.name for case in cases]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"hostile cases share names: {sorted(duplicates)}")
    return cases


def generate(dest: Path, large: bool = True, corpora: Path | None = None) -> list[Case]:
    """Write the hostile corpus under `dest` (created; must be empty); return the cases written.

    `large=False` leaves out the 100 MB files; cases that mean nothing to root are left out as root.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty")
    written = []
    for case in selected(all_cases(corpora or default_corpora()), large):
        case.write(dest)
        written.append(case)
    return written


def selected(cases: Iterable[Case], large: bool) -> list[Case]:
    """The cases this run can write: without the large ones if asked, without permission cases as root."""
    root = os.geteuid() == 0
    return [c for c in cases if (large or not c.large) and not (root and c.needs_non_root)]


def default_corpora() -> Path | None:
    """The shared sample corpora next to the checkout (as tests/conftest.py finds them), if present."""
    path = Path(__file__).resolve().parents[3] / "shared" / "corpora"
    return path if path.is_dir() else None


def manifest(cases: Iterable[Case]) -> list[dict]:
    """The cases as JSON-ready rows (name, what, expected codes, indexed)."""
    return [{"name": c.name, "unit": c.reported_as, "what": c.what, "codes": sorted(c.codes), "indexed": c.indexed, "large": c.large}
            for c in cases]
