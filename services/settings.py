"""The one settings object for Lantern: every knob, read from `LANTERN_*` environment variables.

Nothing else in the code base reads `os.environ`; callers build a `Settings` (or take the
cached one from `get_settings`) and pass it down.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    """Where downloads, service state and reports live when LANTERN_HOME is not set.

    As root the services run as an unprivileged user that cannot enter /root, so the home
    moves to /var/lib/lantern; otherwise it is the user's cache folder.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/lantern")
    return Path.home() / ".cache" / "lantern"


class Settings(BaseSettings):
    """Lantern's configuration. Each field maps to `LANTERN_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LANTERN_", extra="ignore")

    # Where things live.
    home: Path = Field(default_factory=_default_home, description="downloads, service state, reports")
    state_dir: Path | None = Field(None, description="pid files, logs and data of local services; default HOME/state")

    # Backing services. When a URL is set Lantern uses that server and starts nothing.
    opensearch_url: str | None = None
    tika_url: str | None = None
    opensearch_port: int = 9200
    opensearch_transport_port: int = 9300
    tika_port: int = 9998
    opensearch_heap: str = "2g"
    tika_heap: str = "1g"
    java_home: Path | None = None
    service_user: str = "lantern"
    opensearch_user: str | None = None
    opensearch_password: str | None = None
    opensearch_verify_certs: bool = True

    # Index naming: every index and alias Lantern creates starts with this prefix.
    index_prefix: str = "lantern-"

    # Ingest.
    official_domains: list[str] = Field(default_factory=lambda: ["gov.uk"])
    default_timezone: str = "Europe/London"  # for chat exports, whose times carry no offset
    phone_region: str = "GB"  # for phone numbers written without a country code
    bulk_chunk_size: int = 500
    tika_timeout_seconds: float = 120.0
    ingest_workers: int = 4  # files read at once; their Tika calls overlap
    ocr: bool = True  # OCR images and scans with Tesseract (through Tika)
    # Images smaller than this are not OCRed: logos, icons and document thumbnails, which cost a
    # second each and hold no evidence. Scans and screenshots of text are far larger.
    ocr_min_bytes: int = 12_000
    max_attachment_bytes: int = 200 * 1024 * 1024
    max_expanded_bytes: int = 4 * 1024 * 1024 * 1024  # what one archive may expand to, nested ones included
    max_compression_ratio: int = 200  # an archive member expanding more than this (above 10 MiB) is a zip bomb
    max_nesting_depth: int = 5  # archives inside archives
    max_archive_members: int = 100_000

    # Enrichment (indexer/enrich): named entities, personal data, near-duplicates.
    ner: bool = True  # spaCy named entities; off to measure its cost or for speed
    ner_max_chars: int = 100_000  # text per item given to NER; longer texts are marked capped
    near_dup_threshold: float = Field(0.8, gt=0.0, le=1.0, description="estimated Jaccard similarity of word shingles")
    near_dup_min_words: int = 20  # shorter bodies ("ok thanks") are never near-duplicates

    # API.
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def local_opensearch_url(self) -> str:
        return f"http://127.0.0.1:{self.opensearch_port}"

    @property
    def local_tika_url(self) -> str:
        return f"http://127.0.0.1:{self.tika_port}"

    @property
    def effective_opensearch_url(self) -> str:
        """The OpenSearch Lantern talks to: the configured one, else the embedded local node."""
        return self.opensearch_url or self.local_opensearch_url

    @property
    def effective_tika_url(self) -> str:
        """The Tika server Lantern talks to: the configured one, else the embedded local one."""
        return self.tika_url or self.local_tika_url

    @property
    def items_alias(self) -> str:
        return f"{self.index_prefix}items"

    @property
    def people_index(self) -> str:
        """The people registry (alias file imports): person key → identities."""
        return f"{self.index_prefix}people"

    @property
    def services_state_dir(self) -> Path:
        return self.state_dir or self.home / "state"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment (cached)."""
    return Settings()
