"""The hostile corpus (bench/hostile) ingested whole by `lantern ingest` in a child process, against
the real OpenSearch and Tika: the child must exit normally, keep its memory bounded, and every
file must end up indexed or in the exception report with a clear reason — never a `reader_error`
(which means a reader crashed) and never with a code other than the one its case expects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.hostile import Case, generate
from indexer.report import read_report

pytestmark = pytest.mark.services

MAX_RSS_BYTES = 1536 * 1024 * 1024  # generous: memory, not time, is what the corpus must not blow up


@dataclass
class ChildRun:
    """What one `lantern ingest` child did."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_bytes: int
    seconds: float


def ingest_in_child(paths: list[Path], custodian: str, report: Path, env: dict[str, str]) -> ChildRun:
    """Run `lantern ingest` on `paths` in a child process; its peak RSS comes from wait4's rusage."""
    lantern = Path(sys.executable).with_name("lantern")
    command = [str(lantern), "ingest", *map(str, paths), "--custodian", custodian, "--record", "private",
               "--collection", "hostile", "--report", str(report)]
    started = time.monotonic()
    out, err = report.with_suffix(".stdout"), report.with_suffix(".stderr")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(child.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"),
                    usage.ru_maxrss * 1024, time.monotonic() - started)


def unit_key(path: Path) -> str:
    """How a file's path is written in the report and the index (see indexer.pipeline.display_path)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def indexed_paths(client, index: str, custodian: str) -> Counter:
    """Items per source_path for `custodian`."""
    body = {"size": 0, "query": {"term": {"custodian": custodian}},
            "aggs": {"paths": {"terms": {"field": "source_path", "size": 10_000}}}}
    buckets = client.search(index=index, body=body)["aggregations"]["paths"]["buckets"]
    return Counter({bucket["key"]: bucket["doc_count"] for bucket in buckets})


def mismatches(cases: list[tuple[Case, str]], entries: list[dict], indexed: Counter) -> list[str]:
    """Every way the run fell short of the cases' expectations, one line each."""
    codes_by_path: dict[str, Counter] = {}
    for entry in entries:
        codes_by_path.setdefault(entry["source_path"], Counter())[entry["code"]] += 1
    found = []
    for case, key in cases:
        codes, items = codes_by_path.get(key, Counter()), indexed.get(key, 0)
        label = f"{case.name!r} ({case.what})"
        if not codes and not items:
            found.append(f"{label}: neither indexed nor in the exception report")
        if case.codes and not (set(codes) & case.codes) and not ("*" in case.codes and codes):
            found.append(f"{label}: expected a problem in {sorted(case.codes)}, got {dict(codes)}")
        if case.indexed is True and not items:
            found.append(f"{label}: expected items, none indexed (problems {dict(codes)})")
        if case.indexed is False and items:
            found.append(f"{label}: expected no items, {items} indexed")
    for entry in entries:
        if entry["code"] == "reader_error":
            found.append(f"reader_error at {entry['source_path']} {entry['locator']!r}: {entry['reason'][:300]}")
    return found


def test_hostile_corpus_is_reported_without_crashes_in_bounded_memory(services, settings, tmp_path):
    corpus = (tmp_path / "corpus").resolve()
    cases = generate(corpus, large=True)
    assert len(cases) >= 200
    report = tmp_path / "exceptions.jsonl"
    custodian = f"Hostile {uuid.uuid4().hex[:8]}"
    # An index of its own: the corpus makes ~140,000 items that no other test should search or export.
    prefix = f"{settings.index_prefix}hostile-"
    env = {**os.environ, "LANTERN_INDEX_PREFIX": prefix}
    try:
        run = ingest_in_child([corpus], custodian, report, env)
        indexed = indexed_paths(services, f"{prefix}items", custodian) if run.returncode == 0 else {}
    finally:
        services.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")

    assert run.returncode == 0, f"lantern ingest exited {run.returncode}:\n{run.stderr[-3000:]}"
    entries = read_report(report)
    problems = Counter(entry["code"] for entry in entries)
    print(f"\nhostile corpus: {len(cases)} files, {sum(indexed.values())} items indexed, {len(entries)} problems "
          f"{dict(sorted(problems.items()))}, crashes 0, peak RSS {run.peak_rss_bytes / 2**20:.0f} MiB, "
          f"{run.seconds:.0f} s\n{run.stdout}")
    (tmp_path / "figures.json").write_text(json.dumps({
        "files": len(cases), "items": sum(indexed.values()), "problems_by_code": problems,
        "peak_rss_bytes": run.peak_rss_bytes, "seconds": run.seconds}))
    found = mismatches([(case, unit_key(corpus / case.reported_as)) for case in cases], entries, indexed)
    assert not found, f"{len(found)} mismatches:\n" + "\n".join(found[:80])
    assert all(entry["reason"].strip() for entry in entries), "every problem says why"
    assert run.peak_rss_bytes < MAX_RSS_BYTES, f"peak RSS {run.peak_rss_bytes / 2**20:.0f} MiB"
