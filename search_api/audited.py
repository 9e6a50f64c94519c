"""The audit entry of a search, report or export, written whether the request succeeds or fails.

A route takes `trail: AuditTrail = Depends(audited("search", "search"))` instead of the bare
principal: it says what the request is about with `trail.note(query=..., details=...)` before
doing the work and `trail.ok(total=...)` when it succeeds. If anything raises first — a
malformed query (400), a search that ran out of time, OpenSearch failing (5xx), a validation
error — the dependency records the attempt with outcome `failed`, the status and the reason
(search_api.errors.answer), then lets the error take its course. A failed attempt is evidence too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Depends, Request

from search_api.auth import Principal, audit, require
from search_api.errors import answer


class AuditTrail:
    """The caller of one request and the audit entry it will leave (exactly one)."""

    def __init__(self, request: Request, principal: Principal, action: str):
        self.request, self.principal, self.action = request, principal, action
        self.fields: dict[str, Any] = {}
        self.written = False

    def note(self, **fields: Any) -> None:
        """What the request is about (query, target, details): kept whatever the outcome."""
        self.fields.update(fields)

    def ok(self, outcome: str = "ok", **fields: Any) -> None:
        """Record the request as done (`outcome` ok, or not_found for a lookup that found nothing)."""
        self._write(outcome, **fields)

    def failed(self, exc: Exception) -> None:
        if "query" not in self.fields and "q" in self.request.query_params:  # rejected before the route could note it
            self.fields["query"] = self.request.query_params["q"][:4000]
        status, body = answer(self.request, exc)
        detail = body.get("detail")
        details = {**(self.fields.get("details") or {}), "status": status}
        self._write("failed", reason=str(detail)[:500] if detail else None, details=details)

    def _write(self, outcome: str, **fields: Any) -> None:
        if not self.written:
            self.written = True
            audit(self.request, self.principal, self.action, outcome, **{**self.fields, **fields})


def audited(action: str, permission: str) -> Callable[..., Iterator[AuditTrail]]:
    """A dependency: the caller (who must have `permission`) and the trail of an `action` entry."""

    def dependency(request: Request, principal: Principal = Depends(require(permission))) -> Iterator[AuditTrail]:
        trail = AuditTrail(request, principal, action)
        try:
            yield trail
        except Exception as exc:
            trail.failed(exc)
            raise

    dependency.__name__ = f"audited_{action}"
    return dependency
