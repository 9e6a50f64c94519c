"""The ingest pipeline: files → source reader → items → enrichment → bulk writes, problems → report.

Every input file ends in exactly one of two places: indexed items, or the exception report
(often both: an email indexed, one of its attachments reported). Items stream through; the
only thing held per run is a count by kind.
"""

from __future__ import annotations

from datetime import date, datetime
from datetime import timezone as dt_timezone
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

from indexer import errors, sources, store
from indexer.digests import file_sha256, tree_sha256
from indexer.enrich.passes import INGEST, PassContext, run_passes
from indexer.enrich.runner import Runner
from indexer.enrich.stage import Enricher, enricher_for
from indexer.extract import TikaExtractor
from indexer.journal import RunJournal, UnitTracker, run_key, unit_key
from indexer.model import Custody, Item, Problem
from indexer.report import ExceptionReport, prune_report
from indexer.timing import timed
from indexer.workers import in_background, read_concurrently
from indexer.sources.base import Limits, SourceContext, capped
from services.index import ensure_items_index
from services.local import ServiceError, check_tika
from services.runtime import Runtime
from services.settings import Settings


class Progress(Protocol):
    """What the pipeline reports while it runs (the CLI draws a bar from it)."""

    def start(self, total_files: int, total_bytes: int) -> None: ...

    def advance(self, path: Path, size: int) -> None: ...


class _Silent:
    def start(self, total_files: int, total_bytes: int) -> None:
        pass

    def advance(self, path: Path, size: int) -> None:
        pass


@dataclass
class Summary:
    """What one ingest run did; printed by the CLI and returned to Python callers."""

    files: int = 0
    items_by_kind: Counter = field(default_factory=Counter)
    problems_by_code: Counter = field(default_factory=Counter)
    report_path: Path | None = None
    seconds: float = 0.0
    # Wall-clock seconds by stage: read (parse + extract, on worker threads), enrich, index
    # (bulk writes), and the post-ingest passes over the index (threads, near_dups).
    stage_seconds: dict[str, float] = field(default_factory=dict)
    resumed_files: int = 0  # units an interrupted attempt had finished; skipped this time
    incomplete_files: list[str] = field(default_factory=list)  # left unread by a service failure; re-run to finish
    retries: Counter = field(default_factory=Counter)  # opensearch: bulk/refresh retries; tika: recoveries
    stale_items_deleted: int = 0  # items of earlier versions of files that changed
    extract_cache_hits: int = 0  # files whose Tika answer was reused from an identical file earlier in the run
    enrich_memo_hits: int = 0  # items whose text was enriched before in the run (the result was reused)

    @property
    def items(self) -> int:
        return sum(self.items_by_kind.values())

    @property
    def problems(self) -> int:
        return sum(self.problems_by_code.values())


def discover(paths: Iterable[Path]) -> Iterator[Path | Problem]:
    """Input units under `paths` in a stable order: regular files, and folders that a source reads
    whole (a Slack export folder). Symlinks are reported, never followed."""
    for path in paths:
        if path.is_symlink():
            yield Problem(str(path), "", errors.Unsupported.code, "symbolic link not followed")
        elif path.is_file():
            yield path
        elif path.is_dir():
            if sources.choose(path, b"") is not None:
                yield path
                continue
            for entry in sorted(path.iterdir()):
                yield from discover([entry])
        else:
            yield Problem(str(path), "", errors.Unreadable.code, "no such file or directory")


def unit_size(path: Path) -> int:
    """Bytes in a file, or in all regular files under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


# Signatures of common formats no reader handles yet, to make "unsupported" say what the file is.
_KNOWN_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE compound file (Outlook .msg or legacy Office)"),
    (b"!BDN", "an Outlook PST/OST store"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP container (Office document or archive)"),
)


def _describe(head: bytes) -> str:
    for signature, description in _KNOWN_SIGNATURES:
        if head.startswith(signature):
            return f"; the content is {description}"
    return ""


@dataclass(frozen=True)
class ReadOptions:
    """How sources interpret what the files do not say: limits, the local time zone, the phone region."""

    limits: Limits = Limits()
    timezone: str = "Europe/London"
    phone_region: str = "GB"
    workers: int = 4  # files read at once (their Tika calls overlap)


def _read_file(path: Path, custody: Custody, extractor: TikaExtractor, options: ReadOptions) -> Iterator[Item | Problem]:
    """Items and problems of one input unit (a file, or a folder a source reads whole); any
    failure becomes a Problem and the run goes on."""
    where = unit_key(path)
    try:
        if path.is_dir():
            head, digest = b"", tree_sha256(path)
        else:
            with path.open("rb") as handle:
                head = handle.read(sources.HEAD_BYTES)
            if not head:
                raise errors.Empty("the file is empty (0 bytes)")
            digest = file_sha256(path)
        reader = sources.choose(path, head)
        if reader is None:
            raise errors.Unsupported(f"no reader for this file type (extension {path.suffix or 'none'!r}{_describe(head)})")
        ctx = SourceContext(where, digest, custody, extractor, options.limits, ZoneInfo(options.timezone), options.phone_region)
        yield from capped(reader.read(path, ctx), ctx)
    except errors.IngestError as exc:
        yield Problem(where, "", exc.code, str(exc))
    except OSError as exc:
        yield Problem(where, "", errors.Unreadable.code, f"could not read the file: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - a reader bug on one hostile file must not stop the run
        yield Problem(where, "", "reader_error", f"{exc.__class__.__name__}: {exc}")


class _Run:
    """What one ingest shares between the reading threads, the enrichment and the bulk writer."""

    def __init__(self, report: ExceptionReport, summary: Summary, journal: RunJournal | None, progress: Progress):
        self.report, self.summary, self.journal, self.progress = report, summary, journal, progress
        self.tracker = UnitTracker(self.finish_unit)
        self._recording = threading.Lock()  # problems come from the reading thread and from the bulk writer

    def record(self, problem: Problem) -> None:
        with self._recording:
            self.report.add(problem)
            self.summary.problems_by_code[problem.code] += 1

    def finish_unit(self, unit: str, digests: set[str], complete: bool) -> None:
        if self.journal is not None and complete:
            with self._recording:
                self.report.sync()  # the unit's problems are durable before the journal says it is done
            self.journal.mark_done(unit, digests)

    def retried(self) -> None:
        self.summary.retries["opensearch"] += 1

    def items(self, files: list[Path], read: Callable[[Path], Iterator[Item | Problem]], workers: int) -> Iterator[Item]:
        """The items the readers yield, files read `workers` at a time; their problems go to the report."""
        keys: dict[Path, str] = {}
        summary, tracker = self.summary, self.tracker
        for path, produced in read_concurrently(files, read, workers=workers):
            unit = keys.get(path) or keys.setdefault(path, unit_key(path))
            if produced is None:  # this file is finished
                summary.files += 1
                self.progress.advance(path, unit_size(path))
                tracker.finished_reading(unit)
                del keys[path]
            elif isinstance(produced, Problem):
                self.record(produced)
                if produced.code == errors.ServiceUnavailable.code:
                    tracker.service_failed(unit)
            else:
                summary.items_by_kind[produced.kind] += 1
                tracker.produced(unit, produced)
                yield produced


def ingest(
    paths: Iterable[Path],
    custody: Custody,
    runtime: Runtime,
    report: ExceptionReport,
    options: ReadOptions = ReadOptions(),
    progress: Progress | None = None,
    chunk_size: int = 500,
    enricher: Runner | None = None,
    journal: RunJournal | None = None,
    retry: store.Retry = store.Retry(),
) -> Summary:
    """Ingest every file under `paths` into the runtime's index; return the counts. Safe to re-run: ids are stable.

    With a `journal`, units an earlier attempt finished are skipped, each unit is recorded as
    done once all its items are acknowledged, and the journal is closed when the run completes
    (not when a service failure left units unread: `Summary.incomplete_files`).
    """
    started = time.monotonic()
    enricher = enricher or Enricher()
    found = list(discover(paths))
    units = [p for p in found if isinstance(p, Path)]
    files = [p for p in units if journal is None or not journal.is_done(p)]
    run = _Run(report, Summary(report_path=report.path, resumed_files=len(units) - len(files)), journal, progress or _Silent())
    run.progress.start(len(files), sum(unit_size(p) for p in files))
    for problem in (p for p in found if isinstance(p, Problem)):
        run.record(problem)
    extractor = runtime.extractor
    before = (extractor.busy_seconds, extractor.recoveries, extractor.cache.hits)  # a runtime may serve several runs
    pulled: dict[str, float] = {}  # seconds spent waiting for each stage, the stages it pulls from included
    read = timed(run.items(files, lambda path: _read_file(path, custody, extractor, options), options.workers), pulled, "read")
    summary = _write(runtime, timed(enricher.enrich_items(read, run.record), pulled, "enrich+read"), pulled, run,
                     chunk_size, retry)
    summary.stage_seconds["extract_busy"] = extractor.busy_seconds - before[0]  # summed over reader threads (they overlap)
    summary.retries["tika"] = extractor.recoveries - before[1]
    summary.extract_cache_hits = extractor.cache.hits - before[2]
    summary.enrich_memo_hits = enricher.memo_hits
    summary.incomplete_files = list(run.tracker.incomplete)
    current = {**(journal.digests() if journal is not None else {}), **run.tracker.finished}
    passes = run_passes(runtime, PassContext(current, custody.custodian, retry), INGEST)
    summary.stage_seconds.update((name, stats.seconds) for name, stats in passes.items())
    summary.stale_items_deleted = passes["stale"].changed
    summary.seconds = time.monotonic() - started
    if journal is not None and not summary.incomplete_files:
        journal.complete({"files": len(units), "items": summary.items, "problems": summary.problems})
    return summary


def _write(runtime: Runtime, enriched: Iterator[Item], pulled: dict[str, float], run: _Run, chunk_size: int,
           retry: store.Retry) -> Summary:
    """Bulk-write the enriched items (enriched on a thread of their own, while a request is in flight) and
    refresh; the read, enrich and index seconds into the summary, from what `pulled` timed."""
    client, index = runtime.client, runtime.alias
    writing = time.perf_counter()
    for rejected in store.write_items(client, index, in_background(enriched), chunk_size=chunk_size, retry=retry,
                                      acknowledged=run.tracker.acknowledged, on_retry=run.retried):
        run.record(rejected)
    store.call_with_retry(lambda: client.indices.refresh(index=index), retry, "a refresh", run.retried)
    stages = run.summary.stage_seconds
    stages["read"] = pulled.get("read", 0.0)
    stages["enrich"] = pulled.get("enrich+read", 0.0) - stages["read"]
    stages["index"] = time.perf_counter() - writing - pulled.get("enrich+read", 0.0)
    return run.summary


def custody_for(settings: Settings, custodian: str, account: str | None, record: str | None, collection: str | None) -> Custody:
    """The custody of an ingest run; `record` defaults from the account's domain (LANTERN_OFFICIAL_DOMAINS)."""
    if not custodian.strip():
        raise ValueError("--custodian must name a person")
    if record is None:
        domain = (account or "").rpartition("@")[2].lower()
        official = any(domain == d or domain.endswith("." + d) for d in settings.official_domains)
        record = "official" if official else "private"
    if record not in ("official", "private"):
        raise ValueError(f"--record must be 'official' or 'private', not {record!r}")
    collection = collection or date.today().isoformat()
    return Custody(custodian=custodian.strip(), record=record, account=account, collection=collection)  # type: ignore[arg-type]


def read_options(settings: Settings, timezone: str | None = None) -> ReadOptions:
    """The ReadOptions the settings ask for."""
    limits = Limits(max_attachment_bytes=settings.max_attachment_bytes, max_expanded_bytes=settings.max_expanded_bytes,
                    max_compression_ratio=settings.max_compression_ratio, max_nesting_depth=settings.max_nesting_depth,
                    max_archive_members=settings.max_archive_members, ocr_min_bytes=settings.ocr_min_bytes)
    return ReadOptions(limits, timezone or settings.default_timezone, settings.phone_region, settings.ingest_workers)


def _default_report(settings: Settings) -> Path:
    stamp = datetime.now(dt_timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return settings.reports_dir / f"exceptions-{stamp}.jsonl"


def run_ingest(
    settings: Settings | Runtime, paths: Iterable[Path], custody: Custody, report_path: Path | None = None,
    progress: Progress | None = None, timezone: str | None = None, restart: bool = False,
) -> Summary:
    """`ingest` through a runtime (or one opened from settings) and a journal: the index is created if missing, Tika must answer.

    Re-running the same paths and custody into the same index after a crash resumes the run
    (`restart` reads everything again instead). The report defaults to the interrupted run's,
    else a new timestamped file under LANTERN_HOME/reports. Raises ServiceError when a service
    is down (at the start, or OpenSearch for longer than LANTERN_BULK_RETRY_SECONDS), and
    JournalBusy when the same run is going on in another process.
    """
    paths = [Path(p) for p in paths]
    with Runtime.using(settings) as runtime:
        _check_services(runtime)
        settings = runtime.settings
        key = run_key(paths, custody, f"{settings.effective_opensearch_url}/{runtime.alias}")
        try:
            with RunJournal.open(settings.journals_dir, key, report_path, _default_report(settings), restart) as journal:
                if journal.resumed:
                    prune_report(journal.report_path, journal.report_offset, lambda entry: entry.get("source_path") in journal.done)
                with ExceptionReport(journal.report_path) as report:
                    return ingest(paths, custody, runtime, report, options=read_options(settings, timezone),
                                  progress=progress, chunk_size=settings.bulk_chunk_size, enricher=enricher_for(runtime),
                                  journal=journal, retry=store.Retry(give_up_after=settings.bulk_retry_seconds))
        except store.IndexUnavailable as exc:
            raise ServiceError(f"{exc}; the work done so far is kept: run the same command again to resume") from exc


def _check_services(runtime: Runtime) -> None:
    """Create the items index if missing; raise ServiceError when OpenSearch or Tika is not usable."""
    settings = runtime.settings
    try:
        ensure_items_index(runtime.client, settings)
    except Exception as exc:  # noqa: BLE001 - connection failures come in several types
        detail = "not answering" if isinstance(exc, OpenSearchConnectionError) else f"{exc.__class__.__name__}: {str(exc)[:200]}"
        raise ServiceError(f"OpenSearch at {settings.effective_opensearch_url} is not usable ({detail}); "
                           "run `lantern services up`") from exc
    healthy, detail = check_tika(settings.effective_tika_url)
    if not healthy:
        raise ServiceError(f"Tika at {settings.effective_tika_url} is {detail}; run `lantern services up`")
