"""User accounts and API keys, stored in OpenSearch next to the items (`<prefix>users`, `<prefix>keys`).

Users are people who log in to the UI: one document per user, its id the user name, holding an
argon2id hash of the password (argon2-cffi, the maintained binding of the PHC winner) — never
the password. API keys are for machines (the case-management system): the token
`lantern_<id>_<secret>` is shown once when the key is made; only the SHA-256 of the secret is
stored. The secret is 256 random bits, so there is no dictionary to guess from and a fast hash
is enough (a slow one would cost every API call). Both carry roles and restrictions
(search_api.scope.Restrictions). Users are disabled and keys revoked, never deleted, so the
audit trail always names someone who existed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError

from search_api.scope import Restrictions
from services.settings import Settings

ROLES = ("officer", "reviewer", "admin", "auditor")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD_LENGTH = 12
TOKEN_PATTERN = re.compile(r"^lantern_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")

_KEYWORD = {"type": "keyword"}
_SECRET = {"type": "keyword", "index": False, "doc_values": False}
_COMMON = {
    "name": _KEYWORD, "roles": _KEYWORD, "custodians": _KEYWORD, "collections": _KEYWORD,
    "official_only": {"type": "boolean"}, "created": {"type": "date"}, "created_by": _KEYWORD,
}
USERS_MAPPING = {"dynamic": "strict", "properties": {
    **_COMMON, "password_hash": _SECRET, "disabled": {"type": "boolean"}, "disabled_at": {"type": "date"},
}}
KEYS_MAPPING = {"dynamic": "strict", "properties": {
    **_COMMON, "id": _KEYWORD, "secret_sha256": _SECRET, "revoked": {"type": "boolean"}, "revoked_at": {"type": "date"},
}}


class AccountError(ValueError):
    """A request about users or keys that cannot be done: a bad name, role or password, or a duplicate."""


class UnknownAccount(AccountError):
    """No user with that name, or no key with that id."""


@dataclass(frozen=True)
class Account:
    """A user or an API key as Lantern sees it. `active` is False for a disabled user or revoked key."""

    kind: Literal["user", "key"]
    name: str
    roles: tuple[str, ...]
    restrictions: Restrictions
    active: bool
    created: str
    key_id: str | None = None
    secret_sha256: str | None = field(default=None, repr=False)

    def public(self) -> dict[str, Any]:
        """The account for listings and the API: no hashes."""
        body = {"kind": self.kind, "name": self.name, "roles": list(self.roles), "active": self.active,
                "created": self.created, "custodians": list(self.restrictions.custodians),
                "collections": list(self.restrictions.collections), "official_only": self.restrictions.official_only}
        if self.key_id:
            body["id"] = self.key_id
        return body


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash to verify against when the user does not exist, so that costs the same time."""
    return _hasher().hash(secrets.token_urlsafe(16))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _index_body(mapping: dict[str, Any]) -> dict[str, Any]:
    return {"settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}}, "mappings": mapping}


def ensure_account_indices(client: OpenSearch, settings: Settings) -> None:
    """Create the users and keys indices if they are missing (strict mappings)."""
    for name, mapping in ((settings.users_index, USERS_MAPPING), (settings.keys_index, KEYS_MAPPING)):
        if client.indices.exists(index=name):
            continue
        try:
            client.indices.create(index=name, body=_index_body(mapping))
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise


def _validated(name: str, roles: list[str]) -> tuple[str, ...]:
    if not NAME_PATTERN.match(name):
        raise AccountError(f"name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise AccountError(f"give at least one role from {', '.join(ROLES)}" + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return tuple(sorted(set(roles)))


def _restriction_fields(restrictions: Restrictions) -> dict[str, Any]:
    return {"custodians": list(restrictions.custodians), "collections": list(restrictions.collections),
            "official_only": restrictions.official_only}


def _account(kind: Literal["user", "key"], source: dict[str, Any]) -> Account:
    restrictions = Restrictions(tuple(source.get("custodians") or ()), tuple(source.get("collections") or ()),
                                bool(source.get("official_only")))
    active = not source.get("disabled") if kind == "user" else not source.get("revoked")
    return Account(kind, source["name"], tuple(source.get("roles") or ()), restrictions, active, source.get("created", ""),
                   key_id=source.get("id"), secret_sha256=source.get("secret_sha256"))


def add_user(client: OpenSearch, settings: Settings, name: str, password: str, roles: list[str],
             restrictions: Restrictions = Restrictions(), created_by: str = "") -> Account:
    """Create a user; AccountError if the name is taken or invalid, or the password too short."""
    checked_roles = _validated(name, roles)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    ensure_account_indices(client, settings)
    source = {"name": name, "password_hash": _hasher().hash(password), "roles": list(checked_roles),
              **_restriction_fields(restrictions), "disabled": False, "created": _now(), "created_by": created_by}
    try:
        client.create(index=settings.users_index, id=name, body=source, refresh="wait_for")
    except ConflictError as exc:
        raise AccountError(f"a user named {name!r} already exists") from exc
    return _account("user", source)


def get_user(client: OpenSearch, settings: Settings, name: str) -> Account | None:
    """The user called `name`, or None."""
    source = _get(client, settings.users_index, name)
    return _account("user", source) if source else None


def _get(client: OpenSearch, index: str, doc_id: str) -> dict[str, Any] | None:
    try:
        return client.get(index=index, id=doc_id)["_source"]
    except NotFoundError:  # no such document, or no such index yet: either way, no account
        return None


def check_password(client: OpenSearch, settings: Settings, name: str, password: str) -> Account | None:
    """The user if `password` is theirs (active or not: the caller decides), else None.

    An unknown name costs the same argon2 verification as a wrong password, so timing does not
    tell which names exist.
    """
    source = _get(client, settings.users_index, name) if NAME_PATTERN.match(name) else None
    stored = source.get("password_hash", "") if source else _decoy_hash()
    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return _account("user", source) if source else None


def list_users(client: OpenSearch, settings: Settings) -> list[Account]:
    """Every user, by name."""
    return [_account("user", source) for source in _all(client, settings.users_index)]


def _all(client: OpenSearch, index: str) -> list[dict[str, Any]]:
    if not client.indices.exists(index=index):
        return []
    hits = client.search(index=index, body={"size": 10_000, "sort": [{"name": "asc"}, {"created": "asc"}],
                                            "query": {"match_all": {}}})["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def disable_user(client: OpenSearch, settings: Settings, name: str) -> Account:
    """Disable a user: their logins and sessions stop working. AccountError if unknown."""
    if get_user(client, settings, name) is None:
        raise UnknownAccount(f"no user named {name!r}")
    client.update(index=settings.users_index, id=name, body={"doc": {"disabled": True, "disabled_at": _now()}}, refresh="wait_for")
    return get_user(client, settings, name)  # type: ignore[return-value]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(client: OpenSearch, settings: Settings, name: str, roles: list[str],
               restrictions: Restrictions = Restrictions(), created_by: str = "") -> tuple[Account, str]:
    """Make an API key; returns it and its token, which is not stored and cannot be shown again."""
    checked_roles = _validated(name, roles)
    ensure_account_indices(client, settings)
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    source = {"id": key_id, "name": name, "secret_sha256": _digest(secret), "roles": list(checked_roles),
              **_restriction_fields(restrictions), "revoked": False, "created": _now(), "created_by": created_by}
    client.create(index=settings.keys_index, id=key_id, body=source, refresh="wait_for")
    return _account("key", source), f"lantern_{key_id}_{secret}"


def key_id_of(token: str) -> str | None:
    """The key id inside a token (safe to log), or None if it is not shaped like one of ours."""
    match = TOKEN_PATTERN.match(token)
    return match.group(1) if match else None


def get_key(client: OpenSearch, settings: Settings, key_id: str) -> Account | None:
    """The key with this id (its secret's hash included), or None."""
    source = _get(client, settings.keys_index, key_id)
    return _account("key", source) if source else None


def token_matches(key: Account | None, token: str) -> bool:
    """Whether `token` is the token of `key`, compared in constant time."""
    match = TOKEN_PATTERN.match(token)
    presented = _digest(match.group(2)) if match else _digest(token)
    stored = key.secret_sha256 if key and key.secret_sha256 else "0" * 64
    return hmac.compare_digest(presented, stored) and key is not None and match is not None


def list_keys(client: OpenSearch, settings: Settings) -> list[Account]:
    """Every key (revoked ones too), by name."""
    return [_account("key", source) for source in _all(client, settings.keys_index)]


def revoke_key(client: OpenSearch, settings: Settings, key_id: str) -> Account:
    """Revoke a key: it stops working at once (within the auth cache's few seconds). AccountError if unknown."""
    if get_key(client, settings, key_id) is None:
        raise UnknownAccount(f"no API key with id {key_id!r}")
    client.update(index=settings.keys_index, id=key_id, body={"doc": {"revoked": True, "revoked_at": _now()}}, refresh="wait_for")
    return get_key(client, settings, key_id)  # type: ignore[return-value]


def has_active_admin(client: OpenSearch, settings: Settings) -> bool:
    """Whether at least one enabled user has the admin role (required to serve beyond loopback)."""
    return any(user.active and "admin" in user.roles for user in list_users(client, settings))
