"""The one settings object for Lantern: every knob, read from `LANTERN_*` environment variables.

Nothing else in the code base reads `os.environ`; callers build a `Settings` (or take the
cached one from `get_settings`) and pass it down.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
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
    # Credentials and TLS for a secured OpenSearch (the security plugin, as in docker/compose.yml).
    # SecretStr: the password prints as '**********' in reprs and logs.
    opensearch_user: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_verify_certs: bool = True
    opensearch_ca_certs: Path | None = Field(None, description="PEM bundle of the CA that signed OpenSearch's certificate")

    # Index naming: every index and alias Lantern creates starts with this prefix.
    index_prefix: str = "lantern-"

    # Ingest.
    official_domains: list[str] = Field(default_factory=lambda: ["gov.uk"])
    default_timezone: str = "Europe/London"  # for chat exports, whose times carry no offset
    phone_region: str = "GB"  # for phone numbers written without a country code
    bulk_chunk_size: int = 500
    tika_timeout_seconds: float = 120.0  # per Tika call (one document or attachment); retried once
    tika_restart: bool = True  # restart the local Tika (when Lantern runs it) if it stops answering mid-ingest
    bulk_retry_seconds: float = 120.0  # keep retrying bulk writes this long while OpenSearch is down or restarting
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
    # Processes running NER beside the indexer (each loads the model: about 250 MB). NER is most of the
    # indexer's CPU time. On 2 cores, 20,000 chat messages: 0 workers 1.50 M/h, 1 worker 2.02 M/h,
    # 2 workers 2.43 M/h (`LANTERN_NER_WORKERS=n python -m bench.run --only chat --size 20000`).
    ner_workers: int = 2
    ner_max_chars: int = 100_000  # text per item given to NER; longer texts are marked capped
    near_dup_threshold: float = Field(0.8, gt=0.0, le=1.0, description="estimated Jaccard similarity of word shingles")
    near_dup_min_words: int = 20  # shorter bodies ("ok thanks") are never near-duplicates

    # Record-keeping gaps (indexer/enrich/counterparts.py, indexer/enrich/business.py, search_api/record_gaps.py).
    # Business relevance of a private item: the sum of the weights of the signals that fired, each kind
    # counted for at most `business_signal_cap` distinct matches; at or above the threshold it is business.
    business_terms: list[str] = Field(default_factory=list, description="organisation and topic terms (JSON list)")
    business_terms_file: Path | None = Field(None, description="more terms, one per line (# comments)")
    business_work_words: list[str] | None = None  # None: the built-in list in indexer/enrich/business.py
    business_weights: dict[str, float] = Field(default_factory=lambda: {"term": 2.0, "official_participant": 2.0, "org": 1.0, "work_word": 1.0})
    business_signal_cap: int = 2
    business_threshold: float = 2.0  # one topic term, or an official-domain participant, or two work words
    quote_min_words: int = 8  # shorter private texts are never looked for inside official emails
    quote_max_words: int = 40  # the phrase searched for: the text's first this-many words
    note_days: int = 1  # a note for the record must be dated within ± this many days
    note_min_shared_words: int = 3  # ... and share this many content words with the private item
    # ... and say it is a record of a conversation, in its subject or body (case-insensitive phrases)
    note_phrases: list[str] = Field(default_factory=lambda: [
        "note for the record", "note for record", "file note", "note of call", "note of the call",
        "note of meeting", "note of the meeting", "call note", "meeting note", "readout", "for the record"])
    silence_min_days: int = 7  # a silence is at least this long ...
    silence_factor: float = 5.0  # ... and this many times the conversation's median gap between active days
    silence_min_active_days: int = 5  # conversations active on fewer days have no "usual" rhythm to break

    # API.
    host: str = "127.0.0.1"
    port: int = 8000
    max_request_bytes: int = Field(1_000_000, ge=1024, description="larger request bodies are refused with 413")
    search_timeout_seconds: float = Field(30.0, gt=0, description="a search, report count or export page running longer "
                                                                  "is stopped and answered with a 400 saying so")
    cursors_per_caller: int = Field(5, ge=1, description="open cursor snapshots a user or key may hold; another one "
                                                         "closes their least recently used")
    trusted_proxies: list[str] = Field(default_factory=list, description="addresses or networks (JSON list) of the reverse "
                                       "proxies whose X-Forwarded-For/-Proto are believed; none by default")

    # Authentication (search_api/auth.py). Off by default for the loopback demo; `lantern serve`
    # refuses any non-loopback address unless it is on and an enabled admin user exists.
    auth: bool = Field(False, description="LANTERN_AUTH=on: require a login or an API key on every API call")
    session_minutes: int = Field(480, ge=1, le=7 * 24 * 60, description="how long a UI login lasts")
    session_cookie_secure: bool = Field(False, description="always mark the session cookie Secure (behind a TLS proxy); "
                                                           "it is anyway when the request came over https")
    auth_cache_seconds: float = Field(5.0, ge=0, description="how long a user or key lookup is reused before re-reading it")
    audit_queue_size: int = Field(10_000, ge=10, description="audit entries waiting to be written before requests wait")
    # Login throttling (search_api/login_guard.py): back-off per account name and per client address.
    login_failures_before_backoff: int = Field(5, ge=1, description="failed logins to one name before it is locked")
    login_client_failures_before_backoff: int = Field(20, ge=1, description="failed logins from one address before it is locked")
    login_backoff_seconds: float = Field(1.0, gt=0, description="the first lock; each further failure doubles it")
    login_backoff_max_seconds: float = Field(900.0, gt=0, description="the longest lock; counts are forgotten after this long quiet")
    login_max_concurrent_hashes: int = Field(2, ge=1, description="password checks (argon2, ~64 MiB each) at once")
    login_hash_wait_seconds: float = Field(5.0, ge=0, description="how long a login waits for a free check before a 503")

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
    def users_index(self) -> str:
        return f"{self.index_prefix}users"

    @property
    def keys_index(self) -> str:
        return f"{self.index_prefix}keys"

    @property
    def audit_index(self) -> str:
        return f"{self.index_prefix}audit"

    @property
    def services_state_dir(self) -> Path:
        return self.state_dir or self.home / "state"

    @property
    def journals_dir(self) -> Path:
        """Ingest journals (indexer.journal): one per run in progress."""
        return self.services_state_dir / "journals"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment (cached)."""
    return Settings()
