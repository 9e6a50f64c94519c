"""Client factories for the backing services, built from the settings object."""

from __future__ import annotations

import ssl

from opensearchpy import OpenSearch

from services.settings import Settings


def opensearch_credentials(settings: Settings) -> tuple[str, str] | None:
    """(user, password) for a secured OpenSearch, or None. The password never leaves this tuple."""
    if not settings.opensearch_user:
        return None
    password = settings.opensearch_password.get_secret_value() if settings.opensearch_password else ""
    return settings.opensearch_user, password


def tls_verify(settings: Settings) -> bool | ssl.SSLContext:
    """What an HTTP client should verify OpenSearch's certificate against: a context trusting
    LANTERN_OPENSEARCH_CA_CERTS when set, else the system CAs (True), or nothing (False) when
    LANTERN_OPENSEARCH_VERIFY_CERTS is off."""
    if not settings.opensearch_verify_certs:
        return False
    if settings.opensearch_ca_certs:
        return ssl.create_default_context(cafile=str(settings.opensearch_ca_certs))
    return True


def opensearch_client(settings: Settings, timeout: float = 30, client_class: type[OpenSearch] = OpenSearch,
                      retry_on_timeout: bool = True) -> OpenSearch:
    """An OpenSearch client (of `client_class`) for the configured (or embedded local) node."""
    return client_class(
        hosts=[settings.effective_opensearch_url],
        http_auth=opensearch_credentials(settings),
        verify_certs=settings.opensearch_verify_certs,
        ca_certs=str(settings.opensearch_ca_certs) if settings.opensearch_ca_certs else None,
        ssl_show_warn=False,
        timeout=timeout,
        max_retries=2,
        retry_on_timeout=retry_on_timeout,
        http_compress=False,
    )
