"""GET /api/v1/health: whether OpenSearch and Tika answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from search_api.deps import AppSettings
from services import local

router = APIRouter()


@router.get("/health")
async def health(settings: AppSettings) -> dict:
    """State of both backing services; `status` is `ok` only when both are healthy."""
    opensearch_ok, opensearch_detail = await run_in_threadpool(local.check_opensearch, settings.effective_opensearch_url, settings)
    tika_ok, tika_detail = await run_in_threadpool(local.check_tika, settings.effective_tika_url)
    return {
        "status": "ok" if opensearch_ok and tika_ok else "degraded",
        "opensearch": {"ok": opensearch_ok, "detail": opensearch_detail},
        "tika": {"ok": tika_ok, "detail": tika_detail},
        "auth": "on" if settings.auth else "off",
    }
