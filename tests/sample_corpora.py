"""Where the real third-party sample files are, and helpers for the tests that use them.

The samples (`shared/corpora` beside the repository, or `LANTERN_CORPORA`) live outside the
repository, so a clone alone lacks them: tests that use them are marked `corpora`, skipped when
the folder is absent, and each names the test on generated files that covers the same behaviour
(its sibling), so a clone alone still tests every feature (see tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPORA = Path(os.environ.get("LANTERN_CORPORA") or Path(__file__).resolve().parents[2] / "shared" / "corpora")
CORPORA_PRESENT = CORPORA.is_dir()
CORPORA_MISSING = (f"real-sample test: the shared sample corpora are not at {CORPORA} "
                   "(set LANTERN_CORPORA=PATH to a copy to run it)")


def corpora_params(folder: str, pattern: str) -> list:
    """Parameters for a test over the real samples in a corpora folder: their sorted names, or one
    placeholder case (skipped with the corpora reason) when the folder is absent, never an empty
    set that silently collects nothing."""
    if not CORPORA_PRESENT:
        return [pytest.param(None, id="corpora-missing")]
    return sorted(p.name for p in (CORPORA / folder).glob(pattern))
