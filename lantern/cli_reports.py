"""`lantern report terms|gaps` and `lantern export ...`: the search-term and record-gap reports and the exports from the shell.

Thin, like the rest of the CLI: build the same request the API builds, call the same library
functions (`search_api.reports`, `search_api.exports`, `search_api.production`), write the output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from lantern.filters import with_filters
from lantern.output import err, fail, line, write_chunks, write_json

report_app = typer.Typer(help="Reports that document a search.", no_args_is_help=True)
export_app = typer.Typer(help="Export a search's results: CSV, JSON Lines or a production ZIP.", no_args_is_help=True)


@report_app.command("terms")
@with_filters
def report_terms(
    file: Path = typer.Argument(..., help="one query per line; blank lines and lines starting with # are skipped", exists=True, dir_okay=False),
    as_csv: bool = typer.Option(False, "--csv", help="CSV instead of JSON"),
    *, filters: dict,
) -> None:
    """Per query: hits, unique hits, hits with families, per custodian and record (as POST /api/v1/reports/terms)."""
    from search_api.query import QuerySyntaxError
    from search_api.reports import MAX_QUERIES, filters_request, report_csv, terms_report
    from services.runtime import Runtime

    lines = file.read_text(encoding="utf-8").splitlines()
    queries = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not queries or len(queries) > MAX_QUERIES:
        fail(f"{file} must hold between 1 and {MAX_QUERIES} queries, one per line")
    runtime = Runtime.open()
    try:
        report = terms_report(runtime.client, runtime.alias, queries, filters_request(filters))
    except QuerySyntaxError as exc:
        fail(f"{exc.detail} at character {exc.position + 1}: {exc.hint}")
    except ValueError as exc:
        fail(str(exc))
    if as_csv:
        write_chunks([report_csv(report)])
    else:
        write_json(report, indent=2)


def _search_request(query: str, sort: Optional[str], filters: dict):
    from search_api.search import SearchRequest

    try:
        return SearchRequest(q=query, sort=sort, **filters)
    except ValidationError as exc:
        fail("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))


def _write(chunks, out: Optional[Path], binary: bool = False) -> None:
    if out is None:
        if binary:
            fail("a ZIP is not written to the terminal: give --out FILE")
        write_chunks(chunks)
        return
    with out.open("wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as handle:
        for chunk in chunks:
            handle.write(chunk)
    line("written: ", out, to=err)


_QUERY = typer.Argument("", help="query text (see the README's search syntax); empty: everything")
_OUT = typer.Option(None, "--out", help="file to write (default: standard output)")


@export_app.command("results")
@with_filters
def export_results(
    query: str = _QUERY,
    format: str = typer.Option("csv", help="csv (metadata) or jsonl (items with text)"),
    out: Optional[Path] = _OUT,
    sort: Optional[str] = typer.Option(None, help="relevance, date_desc or date_asc"),
    *, filters: dict,
) -> None:
    """Every matching item as CSV or JSON Lines, streamed (as GET /api/v1/exports/results.csv|jsonl)."""
    from search_api.exports import CSV_COLUMNS, JSON_EXCLUDED, csv_chunks, export_hits, jsonl_chunks
    from search_api.query import QuerySyntaxError
    from services.runtime import Runtime

    if format not in ("csv", "jsonl"):
        fail("--format is csv or jsonl")
    runtime = Runtime.open()
    request = _search_request(query, sort, filters)
    source = list(CSV_COLUMNS) if format == "csv" else {"excludes": list(JSON_EXCLUDED)}
    try:
        hits = export_hits(runtime.client, runtime.alias, request, source)
    except QuerySyntaxError as exc:
        fail(f"{exc.detail} at character {exc.position + 1}: {exc.hint}")
    _write(csv_chunks(hits) if format == "csv" else jsonl_chunks(hits), out)


@export_app.command("production")
@with_filters
def export_production(
    query: str = _QUERY,
    out: Path = typer.Option(..., "--out", help="the ZIP file to write"),
    *, filters: dict,
) -> None:
    """A production ZIP: natives, extracted text, manifest.csv with SHA-256 (as GET /api/v1/exports/production.zip)."""
    from search_api.exports import JSON_EXCLUDED, export_hits
    from search_api.production import production_chunks
    from search_api.query import QuerySyntaxError
    from services.runtime import Runtime

    runtime = Runtime.open()
    request = _search_request(query, None, filters)
    try:
        hits = export_hits(runtime.client, runtime.alias, request, {"excludes": list(JSON_EXCLUDED)})
    except QuerySyntaxError as exc:
        fail(f"{exc.detail} at character {exc.position + 1}: {exc.hint}")
    about = request.model_dump(mode="json", exclude={"size", "offset", "cursor", "expand"}, exclude_defaults=True)
    _write(production_chunks(hits, about), out, binary=True)


def _day(value: Optional[str], option: str):
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, not {value!r}")


@report_app.command("gaps")
def report_gaps(
    custodian: list[str] = typer.Option([], help="only these custodians (repeatable)"),
    date_from: Optional[str] = typer.Option(None, "--from", help="first day, YYYY-MM-DD"),
    date_to: Optional[str] = typer.Option(None, "--to", help="last day, YYYY-MM-DD (inclusive)"),
    format: str = typer.Option("json", "--format", help="json or csv"),
    out: Optional[Path] = typer.Option(None, "--out", help="file to write (default: standard output)"),
    refresh: bool = typer.Option(False, "--refresh", help="re-run counterpart matching and business scoring first"),
    limit: int = typer.Option(1000, help="at most this many uncopied items and loss events listed"),
    transfer: Optional[Path] = typer.Option(None, "--transfer", help="instead of the report, write the records-transfer "
                                            "package of the uncopied business items to this ZIP"),
    include_transferred: bool = typer.Option(False, "--include-transferred", help="with --transfer: also items already "
                                             "put into an earlier package"),
) -> None:
    """The record-keeping gap report (as GET /api/v1/reports/record-gaps): per custodian and month, private
    business items, their official copies, the uncopied ones; silences and deleted messages. With --transfer,
    the package to file them into the records system (as POST /api/v1/reports/record-gaps/transfer)."""
    from indexer.enrich.business import BusinessRules, BusinessTermsError
    from indexer.enrich.counterparts import run_counterparts
    from search_api.record_gaps import GapReportOptions, record_gaps_report, report_csv
    from search_api.transfers import ledger_index
    from services.runtime import Runtime

    if format not in ("json", "csv"):
        fail("--format is json or csv")
    if transfer is not None and (out is not None or format != "json"):
        fail("--transfer writes the package to its own file: --out and --format are for the report")
    if include_transferred and transfer is None:
        fail("--include-transferred goes with --transfer")
    first, last = _day(date_from, "--from"), _day(date_to, "--to")
    runtime = Runtime.open(timeout=120)
    settings, client = runtime.settings, runtime.client
    try:
        rules = BusinessRules.from_settings(settings)
    except BusinessTermsError as exc:
        fail(str(exc))
    if refresh:
        stats = run_counterparts(runtime)
        line(f"counterparts: {stats.items} private items matched in {stats.seconds:.1f} s "
             f"({stats.items_per_second:.0f}/s), {stats.written} updated", to=err)
    if transfer is not None:
        _write_transfer(settings, client, transfer, custodian, first, last, include_transferred)
        return
    options = GapReportOptions.from_settings(settings, uncopied_limit=limit, events_limit=limit)
    report = record_gaps_report(client, settings.items_alias, options, custodian, first, last, rules=rules.describe(),
                                ledger_index=ledger_index(settings))
    text = report_csv(report) if format == "csv" else json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    _write([text], out)


def _write_transfer(settings, client, out: Path, custodian: list[str], first, last, include_transferred: bool) -> None:
    """Write the records-transfer package to `out`, record its items in the ledger and the audit trail."""
    from lantern.cli_admin import cli_user, record
    from search_api.transfer_package import NothingToTransfer, prepare_package
    from search_api.transfers import ledger_index, record_transfers

    try:
        package = prepare_package(client, settings.items_alias, ledger_index(settings), settings.business_threshold,
                                  cli_user(), custodian, first, last, include_transferred=include_transferred)
    except NothingToTransfer as exc:
        fail(str(exc))
    entries: list[dict] = []
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("wb") as handle:  # renamed only when whole, so a ZIP at `out` is always complete
            for chunk in package.chunks(entries.extend):
                handle.write(chunk)
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    record_transfers(client, ledger_index(settings), entries)
    record(client, settings, "export", total=package.item_count, target=package.package_id,
           details={"report": "record-gaps-transfer", "filters": package.selection, "files": len(package.units)})
    line(f"written: {out}: package {package.package_id}, {len(package.units)} file(s), "
         f"{package.item_count} item(s), now recorded as transferred, awaiting filing", to=err)
