"""/api/v1/users and /api/v1/keys: account administration over HTTP (admin role), the same as
`lantern users` and `lantern keys`. Every change is audited; nothing is ever deleted."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import Field

from search_api import accounts
from search_api.accounts import AccountError, UnknownAccount
from search_api.audited import AuditTrail, audited
from search_api.auth import Principal, require
from search_api.deps import AppSettings, Client
from search_api.inputs import ApiModel
from search_api.scope import Restrictions

router = APIRouter()
NAME = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


class NewAccount(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(min_length=1, max_length=4)
    custodians: list[str] = Field(default_factory=list, max_length=200)
    collections: list[str] = Field(default_factory=list, max_length=200)
    official_only: bool = False

    def restrictions(self) -> Restrictions:
        return Restrictions(tuple(self.custodians), tuple(self.collections), self.official_only)


class NewUser(NewAccount):
    password: str = Field(min_length=1, max_length=1024)


def _failed(exc: AccountError) -> HTTPException:
    return HTTPException(status_code=404 if isinstance(exc, UnknownAccount) else 400, detail=str(exc))


@router.get("/users")
def users(client: Client, settings: AppSettings, principal: Principal = Depends(require("users"))) -> dict:
    """Every user (no password hashes)."""
    return {"users": [user.public() for user in accounts.list_users(client, settings)]}


@router.post("/users", status_code=201)
def add_user(http: Request, new: NewUser, client: Client, settings: AppSettings,
             trail: AuditTrail = Depends(audited("user_add", "users"))) -> dict:
    """Create a user with roles and restrictions. Audited as user_add, refused attempts (400, 5xx) too."""
    trail.note(target=new.name)
    try:
        user = accounts.add_user(client, settings, new.name, new.password, new.roles, new.restrictions(),
                                 trail.principal.audit_name)
    except AccountError as exc:
        raise _failed(exc) from exc
    trail.ok(target=user.name, details=user.public())
    return user.public()


@router.post("/users/{name}/disable")
def disable_user(http: Request, client: Client, settings: AppSettings, name: str = NAME,
                 trail: AuditTrail = Depends(audited("user_disable", "users"))) -> dict:
    """Disable a user: their sessions stop working within seconds. Audited as user_disable, failures (404) too."""
    trail.note(target=name)
    try:
        user = accounts.disable_user(client, settings, name)
    except AccountError as exc:
        raise _failed(exc) from exc
    http.app.state.auth.forget("user", name)
    trail.ok()
    return user.public()


@router.get("/keys")
def keys(client: Client, settings: AppSettings, principal: Principal = Depends(require("keys"))) -> dict:
    """Every API key, revoked ones included (no secrets)."""
    return {"keys": [key.public() for key in accounts.list_keys(client, settings)]}


@router.post("/keys", status_code=201)
def create_key(new: NewAccount, client: Client, settings: AppSettings,
               trail: AuditTrail = Depends(audited("key_create", "keys"))) -> dict:
    """Make an API key; the response holds its `token`, which is shown this once and never stored.
    Audited as key_create (without the token), refused attempts too."""
    trail.note(details={"name": new.name, "roles": new.roles})
    try:
        key, token = accounts.create_key(client, settings, new.name, new.roles, new.restrictions(),
                                         trail.principal.audit_name)
    except AccountError as exc:
        raise _failed(exc) from exc
    trail.ok(target=key.key_id, details=key.public())
    return {**key.public(), "token": token}


@router.delete("/keys/{key_id}")
def revoke_key(http: Request, client: Client, settings: AppSettings, key_id: str = Path(pattern=r"^[0-9a-f]{16}$"),
               trail: AuditTrail = Depends(audited("key_revoke", "keys"))) -> dict:
    """Revoke an API key: it stops working within seconds; the record stays for the audit trail.
    Audited as key_revoke, failures (404) too."""
    trail.note(target=key_id)
    try:
        key = accounts.revoke_key(client, settings, key_id)
    except AccountError as exc:
        raise _failed(exc) from exc
    http.app.state.auth.forget("key", key_id)
    trail.ok()
    return key.public()
