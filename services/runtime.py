"""The composition root: what a command or a pass needs to reach the services, opened once.

`Runtime` holds the settings, one OpenSearch client, the items alias and (on first use) the Tika
extractor. The CLI opens one per command, `run_ingest`/`run_enrich` and the index-wide passes take
it instead of building clients of their own, and it closes what it opened. The API builds its
client once at start-up (`search_api.app`) and hands it to routes through `search_api.deps`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opensearchpy import OpenSearch

from services.clients import opensearch_client
from services.settings import Settings, get_settings

if TYPE_CHECKING:
    from indexer.extract import TikaExtractor


@dataclass
class Runtime:
    """Settings, the OpenSearch client and the items alias of one process; the extractor on demand."""

    settings: Settings
    client: OpenSearch
    _extractor: "TikaExtractor | None" = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None, timeout: float = 120, client: OpenSearch | None = None) -> "Runtime":
        """A runtime for `settings` (default: the environment's), with a client of `timeout` seconds
        unless one is given (a test's, or the API's)."""
        settings = settings or get_settings()
        return cls(settings, client or opensearch_client(settings, timeout=timeout))

    @classmethod
    @contextmanager
    def using(cls, given: "Settings | Runtime", client: OpenSearch | None = None) -> Iterator["Runtime"]:
        """The runtime to work with: `given` itself, untouched, when it is one (its opener closes it);
        else one opened from the settings `given` (over `client`, if given) and closed on the way out.
        Lets a library function take either, as `run_ingest(settings, ...)` callers still do."""
        if isinstance(given, Runtime):
            yield given
            return
        with cls.open(given, client=client) as runtime:
            yield runtime

    @property
    def alias(self) -> str:
        """The items alias every read and write goes through."""
        return self.settings.items_alias

    @property
    def extractor(self) -> "TikaExtractor":
        """The Tika extractor for the configured (or local) server, made on first use."""
        if self._extractor is None:
            from indexer.extract import TikaExtractor
            from services.local import recover_tika

            settings = self.settings
            self._extractor = TikaExtractor(settings.effective_tika_url, timeout=settings.tika_timeout_seconds,
                                            ocr=settings.ocr, ocr_min_bytes=settings.ocr_min_bytes,
                                            recover=lambda: recover_tika(settings))
        return self._extractor

    def close(self) -> None:
        """Close the extractor if one was made (the OpenSearch client needs no closing)."""
        if self._extractor is not None:
            self._extractor.close()
            self._extractor = None

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
