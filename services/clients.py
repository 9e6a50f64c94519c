"""Client factories for the backing services, built from the settings object."""

from __future__ import annotations

from opensearchpy import OpenSearch

from services.settings import Settings


def opensearch_client(settings: Settings, timeout: float = 30) -> OpenSearch:
    """An OpenSearch client for the configured (or embedded local) node."""
    auth = (settings.opensearch_user, settings.opensearch_password) if settings.opensearch_user else None
    return OpenSearch(
        hosts=[settings.effective_opensearch_url],
        http_auth=auth,
        verify_certs=settings.opensearch_verify_certs,
        ssl_show_warn=False,
        timeout=timeout,
        max_retries=2,
        retry_on_timeout=True,
        http_compress=False,
    )
