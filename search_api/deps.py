"""Shared FastAPI dependencies: the settings object and the OpenSearch client."""

from __future__ import annotations

import orjson
from fastapi import Request, Response
from opensearchpy import OpenSearch

from services.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_opensearch(request: Request) -> OpenSearch:
    return request.app.state.opensearch


def json_response(body: dict) -> Response:
    """`body` (plain JSON values only) as a JSON response, serialised once by orjson: no response-model
    validation, no extra hop to the thread pool. For the hot path (search), where every ms counts."""
    return Response(orjson.dumps(body), media_type="application/json")
