"""Shared FastAPI dependencies, as typed aliases so a route's signature says what it takes:
`client: Client`, `settings: AppSettings`, `search: SearchParameters` (as in the FastAPI full-stack
template's `deps.py`)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Depends, Query, Request, Response
from opensearchpy import OpenSearch

from search_api.search import SearchRequest
from services.settings import Settings


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_opensearch(request: Request) -> OpenSearch:
    return request.app.state.opensearch


Client = Annotated[OpenSearch, Depends(get_opensearch)]
"""The API's (limited) OpenSearch client, built once at start-up."""
AppSettings = Annotated[Settings, Depends(app_settings)]
"""The settings the app was created with."""
SearchParameters = Annotated[SearchRequest, Query()]
"""A search's text, filters, sort and page from the query string (GET /search and the exports)."""


def json_response(body: dict) -> Response:
    """`body` (plain JSON values only) as a JSON response, serialised once by orjson: no response-model
    validation, no extra hop to the thread pool. For the hot path (search), where every ms counts."""
    return Response(orjson.dumps(body), media_type="application/json")
