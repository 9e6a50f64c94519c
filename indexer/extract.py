"""Text and metadata extraction through a real Apache Tika server (`/rmeta/text`).

One call returns the file itself and, recursively, every file embedded in it (the images in
a DOCX, the PDF inside a ZIP), each with its text, content type and any parse exception.
We talk to Tika's REST API with httpx rather than the `tika` PyPI package: that package
downloads and starts its own server from the internet on first use, which this project
must not do, and keeps its configuration in module-level globals.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from indexer import errors

_UNSAFE_HEADER_CHARS = re.compile(r"[^A-Za-z0-9._ -]")
# Text Tika returns for one call (container and embedded files together): a 100 MB text file is not
# worth 100 MB of JSON, and no OpenSearch document could hold it. Tika cuts it and says so.
# 1,000,000 is also what OpenSearch analyses of a field for highlighting (index.highlight.max_analyzed_offset).
MAX_TEXT_CHARS = 1_000_000  # about 500 pages; every copy downstream (enrichment, bulk JSON) costs as much


@dataclass(slots=True)
class Extracted:
    """One document from Tika's recursive output: the container (path "") or an embedded file."""

    embedded_path: str  # "" for the container, "/inner.pdf", "/a.zip/b.docx" for embedded files
    content_type: str | None
    file_name: str | None
    text: str
    failure: errors.IngestError | None = None
    warnings: list[str] = field(default_factory=list)
    ocr: bool = False  # the text (or part of it) came from Tesseract OCR
    truncated: bool = False  # Tika stopped at MAX_TEXT_CHARS (its write limit)

    @property
    def depth(self) -> int:
        return self.embedded_path.count("/")


def _failure(exception_text: str) -> errors.IngestError:
    """Classify a Tika stack trace into our error tree, keeping its first line as the reason."""
    first_line = exception_text.strip().splitlines()[0] if exception_text.strip() else "Tika parse failure"
    if "EncryptedDocumentException" in exception_text or "password" in exception_text.lower():
        return errors.Encrypted(first_line)
    return errors.ExtractionFailed(first_line)


@dataclass(slots=True)
class _InFlight:
    """A key one thread is extracting; the others wait on `done` and take its outcome."""

    done: threading.Event = field(default_factory=threading.Event)
    result: list[Extracted] | None = None
    error: errors.IngestError | None = None


class ExtractionCache:
    """What Tika said about recent files, by content: the same attachment sent to forty people, or
    forwarded again and again, is extracted (and OCRed) once per run.

    Keyed by the bytes' SHA-256 and the file name's extension (Tika uses the name when the bytes
    alone are ambiguous). Only answers are kept, never failures to get one (a timeout may not
    recur). Least recently used entries go first once the texts held pass `max_chars`, so memory
    stays flat however big the archive.
    """

    def __init__(self, max_chars: int = 20_000_000):
        self.max_chars = max_chars
        self.hits = 0
        self._chars = 0
        self._entries: OrderedDict[tuple[str, str], list[Extracted]] = OrderedDict()
        self._running: dict[tuple[str, str], _InFlight] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(data: bytes, file_name: str | None) -> tuple[str, str]:
        extension = file_name.rsplit(".", 1)[-1].lower() if file_name and "." in file_name else ""
        return hashlib.sha256(data).hexdigest(), extension

    def fetch(self, key: tuple[str, str], compute: Callable[[], list[Extracted]]) -> list[Extracted]:
        """The entries kept for `key`, or `compute()`'s (kept for next time). While one thread computes
        a key, others asking for it wait for that outcome, answer or IngestError, instead of asking
        Tika the same question again (a hard file attached forty times times out once, not forty times)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = _InFlight()
                owner = True
            else:
                owner = False
        if not owner:
            running.done.wait()
            if running.error is not None:
                raise type(running.error)(str(running.error))
            if running.result is None:  # the computing thread died of something else: try ourselves
                return compute()
            with self._lock:
                self.hits += 1
            return running.result
        try:
            running.result = compute()
            self._put(key, running.result)
            return running.result
        except errors.IngestError as exc:
            running.error = exc
            raise
        finally:
            with self._lock:
                del self._running[key]
            running.done.set()

    def _put(self, key: tuple[str, str], extracted: list[Extracted]) -> None:
        size = sum(len(entry.text) for entry in extracted) + 1
        if size > self.max_chars // 4:
            return  # one huge text would push out everything else
        with self._lock:
            self._entries[key] = extracted
            self._chars += size
            while self._chars > self.max_chars:
                _, dropped = self._entries.popitem(last=False)
                self._chars -= sum(len(entry.text) for entry in dropped) + 1


def _first(value: object) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value is not None else None


class TikaExtractor:
    """A thin client for one Tika server. Thread-safe; reuse one per ingest run.

    When a call fails because Tika did not answer (connection refused, or no reply within
    `timeout`), `recover()` is called once for all the threads that saw the failure: it
    checks Tika and restarts it if Lantern runs it, returning whether Tika answers now. The
    call is then tried once more. A second timeout while Tika answers its health check means
    the document itself is too hard (ExtractionFailed); Tika not answering at all is
    ServiceUnavailable, which leaves the file for a re-run.
    """

    def __init__(self, url: str, timeout: float = 120.0, ocr: bool = True, ocr_min_bytes: int = 12_000,
                 recover: Callable[[], bool] | None = None, cache: ExtractionCache | None = None):
        self.url = url.rstrip("/")
        self.cache = cache if cache is not None else ExtractionCache()
        self._recover = recover
        self._recovery_lock = threading.Lock()
        self._generation = 0  # bumped by every recovery, so threads failing together recover once
        self._answering = True
        self.recoveries = 0
        self._http = httpx.Client(base_url=self.url, timeout=timeout, limits=httpx.Limits(max_connections=16))
        # Per-request Tesseract settings (Tika server accepts X-Tika-OCR<property> headers).
        self.busy_seconds = 0.0  # time spent waiting for Tika, summed over threads
        self._busy_lock = threading.Lock()
        self._ocr_headers = {"X-Tika-OCRskipOcr": "true"} if not ocr else {"X-Tika-OCRminFileSizeToOcr": str(ocr_min_bytes)}

    def close(self) -> None:
        self._http.close()

    def extract(self, data: bytes, file_name: str | None = None) -> list[Extracted]:
        """Text of `data` and of everything embedded in it; raises IngestError subclasses on failure.

        The entries may be shared with other calls for the same bytes (the cache): treat them as read-only.
        """
        return self.cache.fetch(self.cache.key(data, file_name), lambda: self._extract(data, file_name))

    def _extract(self, data: bytes, file_name: str | None) -> list[Extracted]:
        headers = {"Accept": "application/json", "writeLimit": str(MAX_TEXT_CHARS), **self._ocr_headers}
        if file_name:
            safe_name = _UNSAFE_HEADER_CHARS.sub("_", file_name)[:200]
            headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
        generation = self._generation
        try:
            response = self._put(data, headers)
        except httpx.TransportError as exc:
            if self._recover is None:
                raise self._unanswered(exc, answering=isinstance(exc, httpx.TimeoutException)) from exc
            answering = self._recover_from(generation)
            try:
                response = self._put(data, headers)
            except httpx.TransportError as again:
                raise self._unanswered(again, answering, tried="twice") from again
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(f"Tika at {self.url} did not answer: {exc}") from exc
        if response.status_code == 422:
            raise _failure(response.text or "Tika could not parse the file (422)")
        if response.status_code >= 400:
            raise errors.ExtractionFailed(f"Tika answered {response.status_code}: {response.text[:200]}")
        return [self._to_extracted(entry) for entry in response.json()]

    def _put(self, data: bytes, headers: dict[str, str]) -> httpx.Response:
        started = time.perf_counter()
        try:
            return self._http.put("/rmeta/text", content=data, headers=headers)
        finally:
            with self._busy_lock:
                self.busy_seconds += time.perf_counter() - started

    def _recover_from(self, generation: int) -> bool:
        """Run `recover` unless another thread already did since `generation`; whether Tika answers."""
        with self._recovery_lock:
            if self._generation == generation:
                self._answering = self._recover()
                self._generation += 1
                self.recoveries += 1
            return self._answering

    def _unanswered(self, exc: httpx.TransportError, answering: bool, tried: str = "once") -> errors.IngestError:
        if isinstance(exc, httpx.TimeoutException) and answering:
            return errors.ExtractionFailed(f"Tika timed out after {self._http.timeout.read}s (tried {tried})")
        return errors.ServiceUnavailable(f"Tika at {self.url} did not answer (tried {tried}): {exc.__class__.__name__}: {exc}")

    @staticmethod
    def _to_extracted(entry: dict) -> Extracted:
        exception = entry.get("X-TIKA:EXCEPTION:container_exception") or entry.get("X-TIKA:EXCEPTION:runtime")
        warnings = [str(w).strip().splitlines()[0] for w in _as_list(entry.get("X-TIKA:EXCEPTION:warn")) if str(w).strip()]
        for embedded_error in _as_list(entry.get("X-TIKA:EXCEPTION:embedded_exception")):
            warnings.append("embedded file failed: " + str(embedded_error).strip().splitlines()[0])
        return Extracted(
            embedded_path=_first(entry.get("X-TIKA:embedded_resource_path")) or "",
            content_type=(_first(entry.get("Content-Type")) or "").split(";")[0].strip() or None,
            file_name=_first(entry.get("resourceName")),
            text=(_first(entry.get("X-TIKA:content")) or "").strip(),
            failure=_failure(str(exception)) if exception else None,
            warnings=warnings,
            truncated=str(_first(entry.get("X-TIKA:EXCEPTION:write_limit_reached"))).lower() == "true",
            ocr=any("TesseractOCRParser" in str(parser) for parser in _as_list(entry.get("X-TIKA:Parsed-By-Full-Set") or entry.get("X-TIKA:Parsed-By")))
            and int(_first(entry.get("pdf:ocrPageCount")) or 1) > 0,
        )


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
