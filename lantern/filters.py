"""The search filters as command-line options, generated from the item field table.

`lantern search`, `report terms` and `export results|production` take the same filters as
GET /api/v1/search: one `--NAME` option (repeatable) per field declared as a filter in
`indexer.model` (`--has-pii/--no-has-pii` for a flag), plus `--date-from` and `--date-to`. A
command decorated with `with_filters` receives them as one `filters` dict, holding only the
filters given, ready for `SearchRequest(**filters)`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, List, Optional, get_type_hints

import typer

from indexer.model import FIELDS


def _options() -> list[inspect.Parameter]:
    options = []
    for field in (f for f in FIELDS if f.spec.filter):
        dashed = "--" + field.name.replace("_", "-")
        if field.spec.filter == "flag":
            option = typer.Option(None, f"{dashed}/--no-{dashed[2:]}", help=field.spec.help)
            annotation: Any = Optional[bool]
        else:
            option = typer.Option([], dashed, help=f"{field.spec.help} (repeatable: any of them)")
            annotation = List[str]
        options.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation))
    for name in ("date_from", "date_to"):
        option = typer.Option(None, "--" + name.replace("_", "-"), help="YYYY-MM-DD, inclusive")
        options.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Optional[str]))
    return options


OPTIONS = _options()


def with_filters(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` (which takes `filters: dict`) with the filter options added to its signature for Typer."""
    hints = get_type_hints(command)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(command).parameters.values()
           if p.name != "filters"]

    @functools.wraps(command)
    def wrapper(**given: Any) -> Any:
        filters = {option.name: given.pop(option.name) for option in OPTIONS}
        return command(**given, filters={name: value for name, value in filters.items() if value not in (None, [])})

    parameters = own + OPTIONS
    wrapper.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
