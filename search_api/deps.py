"""Shared FastAPI dependencies: the settings object and the OpenSearch client."""

from __future__ import annotations

from fastapi import Request
from opensearchpy import OpenSearch

from services.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_opensearch(request: Request) -> OpenSearch:
    return request.app.state.opensearch
