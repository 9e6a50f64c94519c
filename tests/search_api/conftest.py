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
