"""`make test` on a clone of the repository alone: the real-sample tests (marked `corpora`) are
the only ones that need the shared corpora, they are skipped without them, and every one of them
names a test on generated files that still runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _collect(root: Path, dump: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LANTERN_CORPORA"} | {"LANTERN_COLLECTION_DUMP": str(dump)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)


def _function(node_id: str) -> str:
    return node_id.split("[")[0]


def _clone(dest: Path) -> Path:
    """The repository's files (tracked, or new and not ignored) copied into `dest`, away from any corpora."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def test_only_real_sample_tests_need_the_corpora_and_each_has_a_generated_sibling(tmp_path):
    here = _collect(REPO, tmp_path / "here.json", "--collect-only", "-q")
    assert here.returncode == 0, here.stdout[-3000:] + here.stderr[-3000:]
    collected = json.loads((tmp_path / "here.json").read_text())
    clone = _clone(tmp_path / "alone" / "lantern")
    alone = _collect(clone, tmp_path / "alone.json", "-m", "corpora", "-q", "-rs")
    assert alone.returncode in (0, 5), alone.stdout[-3000:] + alone.stderr[-3000:]
    in_clone = json.loads((tmp_path / "alone.json").read_text())

    # The same tests are collected with or without the samples (a parametrised real-sample test
    # becomes one skipped placeholder, never nothing).
    assert {_function(i["id"]) for i in in_clone} == {_function(i["id"]) for i in collected}
    real = {_function(i["id"]) for i in collected if i["corpora"]}
    assert real == {_function(i["id"]) for i in in_clone if i["corpora"]}
    assert len(real) >= 20, "the real-sample tests should be marked, not lost"

    # Without the samples every real-sample test is skipped with the reason, and nothing else runs.
    summary = alone.stdout.strip().splitlines()
    outcome = next(line for line in reversed(summary) if re.search(r"\d+ (skipped|passed|failed|error)", line))
    assert re.search(r"\b\d+ skipped\b", outcome) and not re.search(r"passed|failed|error", outcome), outcome
    assert "the shared sample corpora are not at" in alone.stdout
    assert re.search(r"real-sample tests \(corpora absent at .*\): 0 ran \(0 failed\), \d+ skipped", alone.stdout)

    # Each real-sample test names generated siblings that exist and do not need the samples.
    generated = {_function(i["id"]) for i in in_clone if not i["corpora"]}
    for item in collected:
        if item["corpora"]:
            assert item["siblings"], f"{item['id']} names no generated sibling"
            missing = [s for s in item["siblings"] if s not in generated]
            assert not missing, f"{item['id']}: sibling(s) {missing} not collected as generated-file tests"
