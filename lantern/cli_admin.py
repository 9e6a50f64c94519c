"""`lantern users`, `lantern keys` and `lantern audit`: accounts and the audit trail from the shell.

Whoever runs these has the machine's OpenSearch credentials, so they are not checked for a role;
they are recorded instead, as user `cli:<operating-system user>`. The library is
search_api.accounts and search_api.audit; this module parses arguments and prints.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from typing import Any, Optional

import typer
from opensearchpy import OpenSearch
from lantern.output import add_row, err, fail, label, line, out, table, write_json
from search_api import accounts
from search_api.accounts import AccountError
from search_api.audit import make_entry, read_audit, write_now
from search_api.audit_chain import verify
from search_api.scope import Restrictions
from services.runtime import Runtime
from services.settings import Settings

users_app = typer.Typer(help="User accounts: people who log in to the web UI.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: machine clients such as the case-management system.", no_args_is_help=True)
ROLE_HELP = "officer (search, view, export), reviewer (search, view), admin (users, keys), auditor (audit trail); repeatable"


def _client() -> tuple[Settings, OpenSearch]:
    runtime = Runtime.open()
    return runtime.settings, runtime.client


def cli_user() -> str:
    """How the audit trail names someone at the shell: `cli:<operating-system user>`."""
    return f"cli:{getpass.getuser()}"


def record(client: OpenSearch, settings: Settings, action: str, **fields: Any) -> None:
    """Write one audit entry for a command, now."""
    command = "lantern " + " ".join(arg for arg in sys.argv[1:3] if not arg.startswith("-"))
    write_now(client, settings, [make_entry(action, cli_user(), "cli", route=command, client="local", **fields)])


def _restrictions(custodian: list[str], collection: list[str], official_only: bool) -> Restrictions:
    return Restrictions(tuple(custodian), tuple(collection), official_only)


def _accounts_table(rows: list[accounts.Account], with_id: bool) -> None:
    listing = table(*(["id"] if with_id else []), "name", "roles", "restricted to", "state", "created")
    for row in rows:
        state = "active" if row.active else ("revoked" if row.kind == "key" else "disabled")
        add_row(listing, *([row.key_id or ""] if with_id else []), row.name, ", ".join(row.roles),
                row.restrictions.describe(), state, row.created)
    out.print(listing)


# The options that say what a user or key may do and see, shared by `users add` and `keys create`.
_ROLES = typer.Option(..., "--role", help=ROLE_HELP)
_CUSTODIANS = typer.Option([], "--custodian", help="see only these custodians' items (repeatable)")
_COLLECTIONS = typer.Option([], "--collection", help="see only these collections (repeatable)")
_OFFICIAL_ONLY = typer.Option(False, "--official-only", help="see only the official record")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="login name"),
    role: list[str] = _ROLES,
    custodian: list[str] = _CUSTODIANS,
    collection: list[str] = _COLLECTIONS,
    official_only: bool = _OFFICIAL_ONLY,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from the first line of stdin"),
) -> None:
    """Create a user (asks for the password twice unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings, client = _client()
    try:
        user = accounts.add_user(client, settings, name, password, role, _restrictions(custodian, collection, official_only), cli_user())
    except AccountError as exc:
        fail(str(exc))
    record(client, settings, "user_add", target=user.name, details=user.public())
    line(f"user {user.name} added: {', '.join(user.roles)}; sees {user.restrictions.describe()}", to=err)


@users_app.command("list")
def users_list() -> None:
    """Every user, with roles, restrictions and whether they are disabled."""
    settings, client = _client()
    _accounts_table(accounts.list_users(client, settings), with_id=False)


@users_app.command("disable")
def users_disable(name: str = typer.Argument(..., help="login name")) -> None:
    """Disable a user: logins and sessions stop working (users are never deleted)."""
    settings, client = _client()
    try:
        accounts.disable_user(client, settings, name)
    except AccountError as exc:
        fail(str(exc))
    record(client, settings, "user_disable", target=name)
    line(f"user {name} disabled", to=err)


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., help="what the key is for, e.g. case-system"),
    role: list[str] = _ROLES,
    custodian: list[str] = _CUSTODIANS,
    collection: list[str] = _COLLECTIONS,
    official_only: bool = _OFFICIAL_ONLY,
) -> None:
    """Make an API key and print its token on stdout: this is the only time it is shown."""
    settings, client = _client()
    try:
        key, token = accounts.create_key(client, settings, name, role, _restrictions(custodian, collection, official_only), cli_user())
    except AccountError as exc:
        fail(str(exc))
    record(client, settings, "key_create", target=key.key_id, details=key.public())
    line(f"key {key.key_id} ({key.name}) created; send it as 'Authorization: Bearer <token>'. "
         "Store the token now: it cannot be shown again.", to=err)
    sys.stdout.write(token + "\n")


@keys_app.command("list")
def keys_list() -> None:
    """Every API key (never its token), revoked ones included."""
    settings, client = _client()
    _accounts_table(accounts.list_keys(client, settings), with_id=True)


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="the key's id, as `keys list` shows")) -> None:
    """Revoke an API key: it stops working within seconds (the record stays for the audit trail)."""
    settings, client = _client()
    try:
        accounts.revoke_key(client, settings, key_id)
    except AccountError as exc:
        fail(str(exc))
    record(client, settings, "key_revoke", target=key_id)
    line(f"key {key_id} revoked", to=err)


audit_app = typer.Typer(help="The audit trail: show it (newest first), or verify that nobody has changed it.",
                        invoke_without_command=True)


@audit_app.callback()
def audit(
    ctx: typer.Context,
    user: Optional[str] = typer.Option(None, "--user", help="only this user (an API key is key:<name>)"),
    action: Optional[str] = typer.Option(None, "--action", help="search, view, export, report, login, denied, user_add, ..."),
    since: Optional[datetime] = typer.Option(None, "--since", help="ISO date or time, e.g. 2025-06-01 (UTC)"),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="entries to show, newest first"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Show the audit trail, newest first (`lantern audit verify` checks its hash chain)."""
    if ctx.invoked_subcommand is not None:
        return
    settings, client = _client()
    page = read_audit(client, settings, user=user, action=action, since=since, size=limit)
    if as_json:
        for entry in page["entries"]:
            write_json(entry)
        return
    trail = table("time", "user", "action", "outcome", "what", "total", "from")
    for entry in page["entries"]:
        what = entry.get("query") or entry.get("target") or entry.get("reason") or entry.get("route", "")
        total = entry.get("total")
        add_row(trail, entry["time"], entry["user"], entry["action"], entry.get("outcome", ""), str(what)[:80],
                "" if total is None else str(total), entry.get("client", ""))
    out.print(trail)
    line(f"{len(page['entries'])} of {page['total']} entries")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain: exit 0 if intact, else 1 and every entry deleted, altered,
    moved or inserted. Prints the last entry's seq and hash: note them elsewhere to compare later."""
    settings, client = _client()
    result = verify(client, settings)
    for problem in result.problems:
        line(label("tampered:", "red"), " ", problem)
    line(f"{result.entries} entries checked; last entry {result.last.seq}, hash {result.last.hash}")
    if not result.intact:
        fail(f"the audit trail has been tampered with: {len(result.problems)} problems")
    line(label("intact:", "green"), " every entry is where it was written, unchanged")


def serving_refusal(settings: Settings, client: OpenSearch, host: str) -> str | None:
    """Why `lantern serve` must not bind `host` (a non-loopback address), or None if it may."""
    if not settings.auth:
        return (f"refusing to serve on {host}: Lantern holds personal data and authentication is off. "
                "Turn it on with LANTERN_AUTH=on, create an admin with `lantern users add NAME --role admin`, "
                "and put a TLS-terminating proxy in front; or serve on 127.0.0.1 (the default).")
    if not accounts.has_active_admin(client, settings):
        return (f"refusing to serve on {host}: LANTERN_AUTH is on but no enabled admin user exists. "
                "Create one first: `lantern users add NAME --role admin`.")
    return None
