"""/api/v1/session: log in (POST, sets the session cookie), who am I (GET), log out (DELETE)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import Field

from search_api.auth import ANONYMOUS, SESSION_COOKIE, Principal, audit, authenticate, principal_of
from search_api.deps import AppSettings
from search_api.inputs import ApiModel
from search_api.login_guard import LoginBusy, LoginGuard
from services.settings import Settings

router = APIRouter()


class Login(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def _secure(http: Request, settings: Settings) -> bool:
    """Whether the cookie is sent over TLS only: always behind a TLS proxy (the setting), and for https requests."""
    return settings.session_cookie_secure or http.url.scheme == "https"


def _body(principal: Principal, settings: Settings) -> dict:
    return {"auth": "on" if settings.auth else "off", "authenticated": True, **principal.describe()}


@router.get("/session")
def who_am_i(http: Request, settings: AppSettings) -> dict:
    """The caller: name, roles, permissions and restrictions, and whether auth is on. 401 when not logged in."""
    return _body(authenticate(http), settings)


@router.post("/session")
def log_in(http: Request, login: Login, response: Response, settings: AppSettings) -> dict:
    """Check name and password; on success set an HttpOnly, SameSite=Strict session cookie. Every attempt is audited.

    Failed logins back off per name and per client address (search_api.login_guard): a locked login
    is a 429 with Retry-After, even with the right password; too many checks at once, a 503."""
    if not settings.auth:
        return _body(ANONYMOUS, settings)
    guard: LoginGuard = http.app.state.login_guard
    client = http.client.host if http.client else "unknown"
    attempt = Principal(login.name, (), "session")
    wait = guard.retry_after(login.name, client)  # refused at once, before waiting for a password-check slot
    try:
        with guard.hashing():
            # Again with the slot held: logins queued behind it see the failures counted meanwhile, so a
            # burst of parallel guesses gets no more password checks than the threshold allows.
            wait = wait or guard.retry_after(login.name, client)
            if not wait:
                token, user, reason = http.app.state.auth.login(login.name, login.password)
                # Counted before the slot is freed and before any audit write (which may fail): never skipped.
                lockouts = guard.failed(login.name, client) if token is None or user is None else []
    except LoginBusy as exc:
        raise HTTPException(status_code=503, detail=f"{exc}: try again in a moment", headers={"Retry-After": "1"}) from exc
    if wait:  # refused before any password is checked, whether or not the name exists
        audit(http, attempt, "login", outcome="failed", reason="throttled")
        raise HTTPException(status_code=429, detail=f"too many failed logins: try again in {wait} seconds",
                            headers={"Retry-After": str(wait)})
    if token is None or user is None:
        audit(http, attempt, "login", outcome="failed", reason=reason)
        for lockout in lockouts:
            audit(http, attempt, "login_locked", outcome="denied", target=lockout.value,
                  reason=f"{lockout.kind} locked for {lockout.seconds:g} s after {lockout.failures} failed logins")
        raise HTTPException(status_code=401, detail="wrong name or password, or the account is disabled")
    guard.succeeded(login.name)
    previous = http.cookies.get(SESSION_COOKIE)
    if previous:  # a new login replaces the old session rather than leaving it alive
        http.app.state.auth.logout(previous)
    principal = principal_of(user)
    audit(http, principal, "login")
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_minutes * 60, path="/", httponly=True,
                        samesite="strict", secure=_secure(http, settings))
    return _body(principal, settings)


@router.delete("/session")
def log_out(http: Request, response: Response, settings: AppSettings) -> dict:
    """End the session (if any) and clear the cookie."""
    token = http.cookies.get(SESSION_COOKIE)
    if settings.auth and token:
        principal = http.app.state.auth.from_session(token)
        http.app.state.auth.logout(token)
        if principal is not None:
            audit(http, principal, "logout")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(http, settings))
    return {"auth": "on" if settings.auth else "off", "authenticated": not settings.auth}
