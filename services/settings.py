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
    max_attachment_bytes: int = 200 * 1024 * 1024

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
    def services_state_dir(self) -> Path:
        return self.state_dir or self.home / "state"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment (cached)."""
    return Settings()
