"""Who is calling and what they may do: principals, roles, sessions and the FastAPI dependencies.

With LANTERN_AUTH off (the loopback default) every request is the anonymous local user with
every role and no restriction, and is still audited. With it on, a request carries either an
API key (`Authorization: Bearer lantern_<id>_<secret>`, for machines) or the session cookie
that `POST /api/v1/session` sets after a login with name and password (for people).

Sessions are opaque random tokens held in this process (only their SHA-256 is kept), so a
logout ends one for good and a restart ends them all. Each use re-reads the user (through a
cache of `auth_cache_seconds`), so disabling a user, or changing their roles, takes effect
within seconds. Routes ask for a permission, not a role: `Depends(require("search"))`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import HTTPException, Request
from opensearchpy import OpenSearch

from search_api import accounts
from search_api.accounts import Account
from search_api.audit import make_entry
from search_api.scope import Restrictions
from services.settings import Settings

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "officer": ("search", "view", "export"),
    "reviewer": ("search", "view"),
    "admin": ("users", "keys", "ingest", "settings"),
    "auditor": ("audit",),
}
SESSION_COOKIE = "lantern_session"
MAX_SESSIONS = 10_000
ANONYMOUS_NAME = "anonymous (auth off)"


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a name, roles, how they authenticated, and what they are confined to."""

    name: str
    roles: tuple[str, ...]
    via: Literal["session", "key", "anonymous", "cli"]
    restrictions: Restrictions = Restrictions()
    key_id: str | None = None

    def can(self, permission: str) -> bool:
        return any(permission in PERMISSIONS.get(role, ()) for role in self.roles)

    def filters(self) -> list[dict[str, Any]]:
        """The filter clauses every OpenSearch query made for this caller must include."""
        return self.restrictions.filters()

    @property
    def audit_name(self) -> str:
        """How the audit trail names the caller: the user name, or `key:<name>` for an API key."""
        return f"key:{self.name}" if self.via == "key" else self.name

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "via": self.via, "roles": list(self.roles), "key_id": self.key_id,
                "permissions": sorted({p for role in self.roles for p in PERMISSIONS.get(role, ())}),
                "restrictions": {"custodians": list(self.restrictions.custodians),
                                 "collections": list(self.restrictions.collections),
                                 "official_only": self.restrictions.official_only}}


ANONYMOUS = Principal(ANONYMOUS_NAME, tuple(PERMISSIONS), "anonymous")


def principal_of(account: Account) -> Principal:
    via: Literal["session", "key"] = "key" if account.kind == "key" else "session"
    return Principal(account.name, account.roles, via, account.restrictions, account.key_id)


@dataclass
class _Session:
    user: str
    expires: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    """One app's sessions and its short-lived cache of user and key records."""

    def __init__(self, client: OpenSearch, settings: Settings):
        self.client, self.settings = client, settings
        self.sessions: dict[str, _Session] = {}
        self.cache: dict[tuple[str, str], tuple[float, Account | None]] = {}
        self.lock = threading.Lock()

    def _lookup(self, kind: str, name: str) -> Account | None:
        now = time.monotonic()
        with self.lock:
            cached = self.cache.get((kind, name))
        if cached and cached[0] > now:
            return cached[1]
        getter = accounts.get_user if kind == "user" else accounts.get_key
        account = getter(self.client, self.settings, name)
        with self.lock:
            if len(self.cache) > MAX_SESSIONS:
                self.cache.clear()
            self.cache[(kind, name)] = (now + self.settings.auth_cache_seconds, account)
        return account

    def login(self, name: str, password: str) -> tuple[str | None, Account | None, str]:
        """(session token, user, "") on success; (None, user or None, reason) otherwise."""
        user = accounts.check_password(self.client, self.settings, name, password)
        if user is None:
            return None, None, "wrong name or password"
        if not user.active:
            return None, user, "user disabled"
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.lock:
            if len(self.sessions) >= MAX_SESSIONS:
                self.sessions = {k: s for k, s in self.sessions.items() if s.expires > now}
            self.sessions[_digest(token)] = _Session(user.name, now + self.settings.session_minutes * 60)
            self.cache.pop(("user", user.name), None)
        return token, user, ""

    def forget(self, kind: Literal["user", "key"], name: str) -> None:
        """Drop a cached user or key at once (after disabling or revoking it in this process)."""
        with self.lock:
            self.cache.pop((kind, name), None)

    def logout(self, token: str) -> None:
        with self.lock:
            self.sessions.pop(_digest(token), None)

    def from_session(self, token: str) -> Principal | None:
        """The user of a live session whose account is still enabled, else None."""
        with self.lock:
            session = self.sessions.get(_digest(token))
        if session is None or session.expires <= time.time():
            return None
        user = self._lookup("user", session.user)
        return principal_of(user) if user and user.active else None

    def from_key(self, token: str) -> Principal | None:
        """The API key whose token this is, if it is not revoked, else None (compared in constant time)."""
        key_id = accounts.key_id_of(token)
        key = self._lookup("key", key_id) if key_id else None
        if not accounts.token_matches(key, token) or key is None or not key.active:
            return None
        return principal_of(key)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="lantern"'})


def authenticate(request: Request) -> Principal:
    """The caller of `request`, or a 401. With auth off, always the anonymous local user."""
    if not request.app.state.settings.auth:
        return ANONYMOUS
    authenticator: Authenticator = request.app.state.auth
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        principal = authenticator.from_key(token.strip()) if scheme.lower() == "bearer" else None
        if principal is None:
            key_id = accounts.key_id_of(token.strip())
            audit(request, Principal("(unknown key)", (), "key", key_id=key_id), "key_rejected", outcome="failed")
            raise _unauthorised("the API key is not valid or has been revoked (send Authorization: Bearer <key>)")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = authenticator.from_session(cookie)
        if principal is None:
            raise _unauthorised("your session has ended: log in again")
        return principal
    raise _unauthorised("log in (POST /api/v1/session) or send an API key (Authorization: Bearer <key>)")


def require(permission: str) -> Callable[[Request], Principal]:
    """A dependency: the authenticated caller if one of their roles grants `permission`, else 401/403."""

    def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if not principal.can(permission):
            audit(request, principal, "denied", outcome="denied", reason=f"needs {permission}")
            roles = ", ".join(principal.roles) or "no role"
            raise HTTPException(status_code=403, detail=f"your role ({roles}) does not allow {permission}")
        return principal

    dependency.__name__ = f"require_{permission}"
    return dependency


def audit(request: Request, principal: Principal, action: str, outcome: str = "ok", **fields: Any) -> None:
    """Queue an audit entry for `request` made by `principal` (see search_api.audit)."""
    entry = make_entry(action, principal.audit_name, principal.via, outcome, key_id=principal.key_id,
                       roles=list(principal.roles) or None, method=request.method, route=request.url.path,
                       client=request.client.host if request.client else None, **fields)
    request.app.state.audit.record(entry)


def audit_cross_origin(request: Request, reason: str) -> None:
    """Record a state-changing request refused as cross-origin (search_api.middleware.SameOriginWrites),
    naming the session's user when the request carried a live session cookie."""
    settings = request.app.state.settings
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = ANONYMOUS if not settings.auth else None
    if principal is None and cookie:
        principal = request.app.state.auth.from_session(cookie)
    audit(request, principal or Principal("(no session)", (), "session"), "denied", outcome="denied",
          reason=f"cross-origin: {reason}")
