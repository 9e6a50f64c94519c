"""What every reader's output goes through: bodies cut at the text limit, each cut reported."""

from __future__ import annotations

from indexer.model import Custody, Item, Problem
from indexer.sources.base import Limits, SourceContext, capped


def _item(locator: str, body: str, html: str | None = None) -> Item:
    return Item(id=locator, kind="document", channel="file", source_path="/x", locator=locator, source_sha256="d",
                custody=Custody("A", "private"), family_id=locator, body=body, body_html=html)


def test_bodies_above_the_limit_are_cut_and_reported_too_large():
    ctx = SourceContext("/x", "d", Custody("A", "private"), None, Limits(max_text_chars=10))  # type: ignore[arg-type]
    produced = list(capped([_item("short", "0123456789"), _item("long", "0123456789abc", "<p>" + "x" * 20 + "</p>"),
                            Problem("/x", "p", "corrupt", "kept as it is")], ctx))
    items = {p.locator: p for p in produced if isinstance(p, Item)}
    problems = [p for p in produced if isinstance(p, Problem)]
    assert items["short"].body == "0123456789" and items["short"].extraction == "ok"
    assert items["long"].body == "0123456789" and items["long"].body_html is None
    assert items["long"].extraction == "partial" and items["long"].problems
    assert [(p.locator, p.code, p.item_id) for p in problems] == [("long", "too_large", "long"), ("p", "corrupt", None)]
