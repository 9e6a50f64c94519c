"""The `lantern` command. Thin: parse arguments, call the library, format the output."""

from __future__ import annotations

import ipaddress
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from lantern.filters import with_filters
from lantern.output import add_row, data, err, fail, label, line, out, table, visible, write_json
from services import local
from services.install import InstallError
from services.settings import get_settings

app = typer.Typer(help="Lantern: find all the information held on a subject, across official and private email and chat.",
                  no_args_is_help=True, add_completion=False)
services_app = typer.Typer(help="Run the local OpenSearch and Tika servers (or check configured ones).", no_args_is_help=True)
app.add_typer(services_app, name="services")


def _print_status(statuses: list[local.ServiceStatus]) -> None:
    rows = table("service", "state", "url", "managed by", "detail")
    for s in statuses:
        state = label("up", "green") if s.healthy else label("down", "red")
        managed = f"lantern (pid {s.pid})" if s.managed and s.pid else ("lantern" if s.managed else "external")
        add_row(rows, s.name, state, s.url, managed, s.detail)
    out.print(rows)


@services_app.command("up")
def services_up() -> None:
    """Install (first time only) and start OpenSearch and Tika on 127.0.0.1; wait until both answer."""
    try:
        statuses = local.up(get_settings(), say=lambda text: line(text, to=err))
    except (local.ServiceError, InstallError) as exc:
        fail(str(exc))
    _print_status(statuses)


@services_app.command("down")
def services_down() -> None:
    """Stop the OpenSearch and Tika processes that `services up` started."""
    local.down(get_settings(), say=lambda text: line(text, to=err))


@services_app.command("status")
def services_status() -> None:
    """Show whether OpenSearch and Tika are up. Exit code 0 only when both are healthy."""
    statuses = local.status(get_settings())
    _print_status(statuses)
    raise typer.Exit(code=0 if all(s.healthy for s in statuses) else 3)


class _Bar:
    """The ingest progress bar (bytes of input read), shown only on a terminal."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = None

    def start(self, total_files: int, total_bytes: int) -> None:
        self.task = self.progress.add_task(f"ingesting {total_files} files", total=max(total_bytes, 1))

    def advance(self, path: Path, size: int) -> None:
        self.progress.update(self.task, advance=size, description=visible(path.name[:40]))


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="files or folders (EML, MBOX) to ingest", exists=False),
    custodian: str = typer.Option(..., help="the person whose mailbox or device this came from"),
    account: Optional[str] = typer.Option(None, help="the address or phone the material was collected from"),
    record: Optional[str] = typer.Option(None, help="official or private (default: official if the account's domain is in LANTERN_OFFICIAL_DOMAINS, else private)"),
    collection: Optional[str] = typer.Option(None, help="name of this ingest batch (default: today's date)"),
    report: Optional[Path] = typer.Option(None, help="exception report path (JSON Lines); default: the interrupted run's when resuming, else a new file under LANTERN_HOME/reports"),
    timezone: Optional[str] = typer.Option(None, help="IANA zone of the device for chat exports without offsets (default LANTERN_DEFAULT_TIMEZONE, Europe/London)"),
    restart: bool = typer.Option(False, "--restart", help="ignore an interrupted run of this command and read every file again"),
) -> None:
    """Index email archives and chat exports. Safe to re-run: items have stable ids, so nothing is duplicated.

    If a run is interrupted (crash, kill, a service down too long), running the same command
    again resumes it: files already finished are skipped, the rest are read again, and the
    exception report is not duplicated. Once a run has completed, the same command reads
    everything again (picking up changed files and removing the items of their old versions).
    """
    from indexer.journal import JournalBusy
    from indexer.pipeline import custody_for, run_ingest
    from services.runtime import Runtime

    settings = get_settings()
    try:
        custody = custody_for(settings, custodian, account, record, collection)
    except ValueError as exc:
        fail(str(exc))
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not sys.stderr.isatty(), transient=True) as bar, \
            Runtime.open(settings, timeout=120) as runtime:
        try:
            summary = run_ingest(runtime, paths, custody, report, progress=_Bar(bar), timezone=timezone, restart=restart)
        except (local.ServiceError, JournalBusy) as exc:
            fail(str(exc))
    if summary.resumed_files:
        line(f"resumed an interrupted run: {summary.resumed_files} files were already done")
    line(f"files: {summary.files}   items: {summary.items}   problems: {summary.problems}   ({summary.seconds:.1f}s)")
    for kind, count in sorted(summary.items_by_kind.items()):
        line(f"  {kind}: {count}")
    for code, count in sorted(summary.problems_by_code.items()):
        line(f"  problem {code}: {count}")
    if summary.stage_seconds:
        line("time by stage: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in summary.stage_seconds.items()))
    if summary.stale_items_deleted:
        line(f"items of earlier versions of changed files removed: {summary.stale_items_deleted}")
    line("exception report: ", summary.report_path)
    if summary.incomplete_files:
        fail(f"{len(summary.incomplete_files)} files could not be read because a service did not answer; "
              "run the same command again to read them")


@app.command()
@with_filters
def search(
    query: str = typer.Argument("", help='query text (README "Search syntax"): words ANDed, "phrases", OR, NOT, w/N, from:, date:...'),
    size: int = typer.Option(20, help="hits to show (max 100)"),
    sort: Optional[str] = typer.Option(None, help="relevance, date_desc or date_asc"),
    as_json: bool = typer.Option(False, "--json", help="print exactly the API's response body"),
    *, filters: dict,
) -> None:
    """Search the index from the shell; the same search as GET /api/v1/search."""
    from search_api.search import SearchRequest, run_search
    from services.runtime import Runtime

    try:
        request = SearchRequest(q=query, size=size, sort=sort, **filters)
    except ValidationError as exc:
        fail("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))
    from search_api.query import QuerySyntaxError

    from lantern.cli_admin import record

    runtime = Runtime.open()
    settings, client = runtime.settings, runtime.client
    try:
        result = run_search(client, runtime.alias, request)
    except QuerySyntaxError as exc:
        fail(f"{exc.detail} at character {exc.position + 1}: {exc.hint}")
    record(client, settings, "search", query=query, total=result["total"],
           details={"filters": request.model_dump(mode="json", exclude={"q", "size", "offset", "cursor", "expand"}, exclude_defaults=True)})
    if as_json:
        write_json(result)
        return
    line(f"{result['total']} items")
    for hit in result["hits"]:
        title = hit.get("subject") or hit.get("file_name") or "(no subject)"
        sender = (hit.get("from") or {}).get("raw", "")
        line(data(hit["id"], "bold"), f"  {(hit.get('date') or '')[:10]}  {hit['kind']:<10} {hit['custodian']} ({hit['record']})  {sender}")
        line("    ", title)
        if hit.get("snippet"):
            line("    ", hit["snippet"].replace("<mark>", "").replace("</mark>", ""))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to bind; beyond loopback only with LANTERN_AUTH=on and an admin user"),
    port: int = typer.Option(8000, help="port to listen on"),
) -> None:
    """Serve the search API and the web UI (http://HOST:PORT/, API docs at /docs)."""
    import uvicorn

    from search_api.app import create_app, server_config
    from services.index import ensure_items_index
    from services.runtime import Runtime

    from lantern.cli_admin import serving_refusal

    runtime = Runtime.open()
    settings, client = runtime.settings, runtime.client
    if not _is_loopback(host) and not settings.auth:
        fail(serving_refusal(settings, client, host))  # before touching OpenSearch: no auth, no question
    try:
        ensure_items_index(client, settings)
        refusal = None if _is_loopback(host) else serving_refusal(settings, client, host)
    except Exception as exc:  # noqa: BLE001 - any failure here means OpenSearch is not usable
        fail(f"OpenSearch at {settings.effective_opensearch_url} is not usable ({exc.__class__.__name__}); run `lantern services up`")
    if refusal:
        fail(refusal)
    mode = "authentication on" if settings.auth else "authentication off: loopback only"
    line(f"Lantern UI at http://{host}:{port}/  ({mode})", to=err)
    uvicorn.Server(server_config(create_app(settings), host, port, log_level="info")).run()


@app.command("demo-data")
def demo_data(dest: Path = typer.Argument(Path("demo-data"), help="folder to write the sample archive into")) -> None:
    """Write the bundled sample archive (two custodians, official and private mailboxes)."""
    from lantern.sample_archive import generate

    archive = generate(dest)
    for mailbox in archive.mailboxes:
        line(mailbox.path, "  ", mailbox.custodian, "  ", mailbox.account, "  ", mailbox.record)


@app.command()
def demo(
    dest: Path = typer.Option(Path("demo-data"), help="folder for the sample archive"),
    serve_ui: bool = typer.Option(True, "--serve/--no-serve", help="serve the UI afterwards"),
    port: int = typer.Option(8000, help="port for the UI"),
) -> None:
    """Start the services, write and ingest the sample archive, and serve the UI on 127.0.0.1."""
    from lantern.demo import ingest_sample

    settings = get_settings()
    services_up()
    report = settings.reports_dir / "demo-exceptions.jsonl"
    report.unlink(missing_ok=True)
    archive, summaries = ingest_sample(settings, dest, report)
    items = sum(s.items for s in summaries)
    problems = sum(s.problems for s in summaries)
    line(f"sample archive in {archive.root}: {items} items indexed, {problems} problems (report: {report})")
    line('try: lantern search "vaccine contract"   or open the UI and search for zanzibarquill')
    if serve_ui:
        serve(host="127.0.0.1", port=port)


@app.command()
def enrich(
    report: Optional[Path] = typer.Option(None, help="exception report path (JSON Lines); default under LANTERN_HOME/reports"),
) -> None:
    """Re-run enrichment (entities, personal data, people, near-duplicates, official counterparts) over the existing index; no re-ingest."""
    from indexer.enrich.counterparts import run_counterparts  # official copies of private items (record-gap report)
    from indexer.enrich.entities import ModelUnavailable
    from indexer.enrich.stage import run_enrich
    from services.runtime import Runtime

    with Runtime.open(timeout=120) as runtime:
        settings = runtime.settings
        if report is None:
            report = settings.reports_dir / f"enrich-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.jsonl"
        try:
            updated, failures = run_enrich(runtime, report)
        except ModelUnavailable as exc:
            fail(str(exc))
        line(f"items enriched: {updated}   enrichment failures: {failures}   (NER {'on' if settings.ner else 'off'})")
        line("exception report: ", report)
        stats = run_counterparts(runtime)
    line(f"private items matched to the official record: {stats.items}   updated: {stats.written}   "
                    f"({stats.items_per_second:.0f} items/s)   by official_copy: {dict(stats.by_copy)}")


people_app = typer.Typer(help="The people registry: one person across email addresses, phone numbers and chat names.", no_args_is_help=True)
app.add_typer(people_app, name="people")


@people_app.command("import")
def people_import(file: Path = typer.Argument(..., help="CSV of person,identity rows (identity: email, phone, handle or display name)")) -> None:
    """Replace the alias registry with FILE and apply it to the items already indexed."""
    from indexer.enrich.people import AliasFileError, import_alias_file
    from services.index import ensure_items_index
    from services.runtime import Runtime

    runtime = Runtime.open(timeout=120)
    settings, client = runtime.settings, runtime.client
    try:
        alias = ensure_items_index(client, settings)
        registry, changed = import_alias_file(client, settings.people_index, alias, file, settings.phone_region)
    except AliasFileError as exc:
        fail(str(exc))
    line(f"people: {len(registry.labels)}   identities: {len(registry.by_identity)}   items updated: {changed}")


from lantern.cli_reports import export_app, report_app  # noqa: E402 - their own module, registered here

app.add_typer(report_app, name="report")
app.add_typer(export_app, name="export")

from lantern.cli_admin import audit_app, keys_app, users_app  # noqa: E402 - their own module, registered here

app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
