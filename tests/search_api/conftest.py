"""Fixtures for the search API tests: the app over this session's index, and the known-answer corpus."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app
from known_corpus import write_corpus


@pytest.fixture(scope="session")
def corpus(services, settings):
    """The seven-item corpus of tests/search_api/known_corpus.py, indexed once per session."""
    write_corpus(services, settings)


@pytest.fixture(scope="module")
def app_client(settings, services):
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def secured(settings, services):
    """Settings with auth on and no account caching (so a revoked key fails on its next use), over
    the auth corpus (tests/search_api/auth_corpus.py)."""
    from auth_corpus import write_auth_corpus

    write_auth_corpus(services, settings)
    return settings.model_copy(update={"auth": True, "auth_cache_seconds": 0.0})
