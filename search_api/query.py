"""The investigator query language's parser: text → checked tree (`parse`).

The grammar is `query_grammar.lark`, parsed by lark (LALR, so a malformed query fails at a
known character with a known expectation, which becomes the 400's `position` and `hint`).
The lark tree is turned into the Node classes of `search_api.query_tree`, checked (known fields
through `search_api.query_fields.check`, valid dates, proximity operands), and only then handed
to `search_api.query_fields.to_dsl` for translation. The README's "Search syntax" table is the
user's reference; `FIELDS` in `search_api.query_fields` says what every field searches.
"""

from __future__ import annotations

from datetime import date
from importlib.resources import files

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from search_api.query_fields import FIELDS, check
from search_api.query_tree import (
    And, DateRange, Everything, Field, Fuzzy, Has, Near, Node, Not, Or, Phrase, QuerySyntaxError, Wildcard, Word, depth, fold,
    position_of,
)

MAX_DEPTH = 40  # nesting of groups and operators; deeper than this is a mistake, not a search
MAX_FUZZINESS = 2


# ---------- text → tree ----------

_PARSER = Lark(files("search_api").joinpath("query_grammar.lark").read_text(encoding="utf-8"),
               parser="lalr", lexer="contextual", propagate_positions=False, maybe_placeholders=False)


def parse(text: str) -> Node | None:
    """The checked tree of `text`, or None when there is nothing to search for.

    Raises QuerySyntaxError (position + hint) for malformed syntax, unknown fields, bad dates,
    impossible proximity operands and over-deep nesting.
    """
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _explain(text, exc) from None
    try:
        node = _ToNodes().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, QuerySyntaxError):
            raise exc.orig_exc from None
        raise
    if node is not None:
        check(node)
    return node


def _guarded(node: Node) -> Node:
    if depth(node) > MAX_DEPTH:
        raise QuerySyntaxError("the query is nested too deeply", position_of(node),
                               f"use at most {MAX_DEPTH} levels of parentheses and operators")
    return node


class _ToNodes(Transformer_NonRecursive):
    """lark tree → Nodes. Punctuation-only terms (`&`, `–`) carry no word and are dropped."""

    def start(self, children):
        return children[0] if children else None

    def or_expr(self, children):
        kept = [c for c in children if c is not None]
        return _guarded(Or(tuple(kept))) if len(kept) > 1 else (kept[0] if kept else None)

    def and_expr(self, children):
        kept = [c for c in children if c is not None]
        return _guarded(And(tuple(kept))) if len(kept) > 1 else (kept[0] if kept else None)

    def negation(self, children):
        return _guarded(Not(children[0])) if children[0] is not None else None

    def proximity(self, children):
        node = children[0]
        for operator, right in zip(children[1::2], children[2::2], strict=True):
            if node is None or right is None:
                raise QuerySyntaxError(f"{operator} needs a word on both sides", operator.start_pos,
                                       "put a word, phrase or wildcard on each side, e.g. vaccine w/5 contract")
            name, _, number = operator.value.partition("/")
            node = _guarded(Near(node, right, int(number), name.lower() == "pre", operator.start_pos))
        return node

    def field(self, children):
        token, child = children
        if child is None:
            raise QuerySyntaxError(f"{token.value} has no value", token.start_pos, f"write it glued to a value, e.g. {token.value}word")
        name = token.value[:-1].lower()
        if name == "has":
            return _has(child, token)
        return _guarded(Field(name, child, token.start_pos))

    @v_args(inline=True)
    def date(self, token, bounds):
        return DateRange(bounds[0], bounds[1], token.start_pos)

    @v_args(inline=True)
    def date_compare(self, token, value):
        start, end = _period(value)
        operator = token.value[4:]
        bound = {">": (end, None), ">=": (start, None), "<": (None, start), "<=": (None, end)}[operator]
        return DateRange(*bound, token.start_pos)

    def date_range(self, children):
        if len(children) == 1 and children[0].type == "DATE":
            return _period(children[0])
        values = [c for c in children if c.type == "DATE"]
        if not values:
            raise QuerySyntaxError("a date range needs at least one end", children[0].start_pos,
                                   "write date:2020-03..2020-06, date:2020-03.. or date:..2020-06")
        start = _period(children[0])[0] if children[0].type == "DATE" else None
        end = _period(children[-1])[1] if children[-1].type == "DATE" else None
        if start and end and start >= end:
            raise QuerySyntaxError("the date range ends before it starts", children[0].start_pos, "put the earlier date first")
        return (start, end)

    def phrase(self, children):
        token = children[0]
        text = token.value[1:-1]
        slop = int(children[1].value[1:]) if len(children) > 1 else None
        if not any(ch.isalnum() for ch in text):
            if slop is not None or text.strip():
                return None
            raise QuerySyntaxError("empty quotes", token.start_pos, 'put words between the quotes, e.g. "ministerial visit"')
        return Phrase(text, slop, token.start_pos)

    @v_args(inline=True)
    def term(self, token: Token):
        return _term(token)


def _term(token: Token) -> Node | None:
    text, position = token.value, token.start_pos
    head, tilde, tail = text.rpartition("~")
    if tilde and head and (tail == "" or tail.isdigit()):
        fuzziness = int(tail) if tail else None
        if fuzziness is not None and fuzziness > MAX_FUZZINESS:
            raise QuerySyntaxError(f"fuzziness {fuzziness} is too large", position + len(head),
                                   "use word~ (automatic), word~1 or word~2 (letters that may differ)")
        if not any(ch.isalnum() for ch in head):
            return None
        return Fuzzy(head, fuzziness, position)
    if "*" in text or "?" in text:
        if not text.strip("*?"):
            return Everything(position) if "*" in text else None
        return Wildcard(fold(text), position)
    if text.endswith(":") and text[:-1].lower() in _field_names():
        raise QuerySyntaxError(f"{text} has no value right after it", position, f"glue the value to the field: {text}word")
    if not any(ch.isalnum() for ch in text):
        return None
    return Word(text, position)


def _field_names() -> set[str]:
    return set(FIELDS) | {"has", "date"}


def _has(child: Node, token: Token) -> Has:
    if isinstance(child, Word) and child.text.lower() in ("attachment", "attachments", "pii"):
        return Has("pii" if child.text.lower() == "pii" else "attachment", token.start_pos)
    raise QuerySyntaxError("has: takes attachment or pii", token.start_pos, "write has:attachment or has:pii")


def _period(token: Token) -> tuple[date, date]:
    """The whole period a partial date names: 2020 → [2020-01-01, 2021-01-01)."""
    parts = [int(p) for p in token.value.split("-")]
    try:
        if len(parts) == 1:
            return date(parts[0], 1, 1), date(parts[0] + 1, 1, 1)
        if len(parts) == 2:
            start = date(parts[0], parts[1], 1)
            return start, date(start.year + start.month // 12, start.month % 12 + 1, 1)
        day = date(*parts)
        return day, date.fromordinal(day.toordinal() + 1)
    except ValueError:
        raise QuerySyntaxError(f"{token.value} is not a date", token.start_pos,
                               "dates are YYYY, YYYY-MM or YYYY-MM-DD (UTC), e.g. date:2020-03-01..2020-06-30") from None


# ---------- what went wrong, and where ----------

_DATE_HINT = "dates are YYYY, YYYY-MM or YYYY-MM-DD (UTC), e.g. date:2020-03..2020-06, date>=2021"
_HINTS = {
    "_OR": ("OR needs a term on both sides", 'remove it, or put a term before and after it; to find the word itself write "or" in lower case'),
    "_AND": ("AND needs a term on both sides", "remove it, or put a term before and after it"),
    "_NOT": ("NOT needs a term after it", "put a term after NOT, e.g. vaccine NOT draft"),
    "PROXIMITY": ("a proximity operator needs a term on both sides", "write e.g. vaccine w/5 contract or vaccine pre/3 contract"),
    "_RPAR": ("this ) has no matching (", "remove it, or add a ( before it"),
    "RANGE": ("a date range needs the date: field", "write date:2020-03..2020-06"),
}


def _explain(text: str, exc: UnexpectedInput) -> QuerySyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream
        if text[position] == '"':
            return QuerySyntaxError("this quote is never closed", position, 'add the closing " or remove this one')
        if "DATE" in exc.allowed or "RANGE" in exc.allowed:
            return QuerySyntaxError("expected a date here", position, _DATE_HINT)
        return QuerySyntaxError(f"unexpected {text[position]!r}", position, "put the text in quotes to search for it literally")
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        if exc.token.type == "_RPAR" and text[: exc.token.start_pos].rstrip().endswith("("):
            return QuerySyntaxError("empty parentheses", exc.token.start_pos, "put terms between them, or remove them")
        if "DATE" in exc.expected or "RANGE" in exc.expected:
            return QuerySyntaxError("expected a date here", exc.token.start_pos, _DATE_HINT)
        detail, hint = _HINTS.get(exc.token.type, (f"unexpected {exc.token.value!r}", "check the operators around it"))
        return QuerySyntaxError(detail, exc.token.start_pos, hint)
    # The input ended too early: an open group, or an operator with nothing after it.
    expected = getattr(exc, "expected", set()) or set()
    opened = _unclosed_parenthesis(text)
    if opened is not None and ("_RPAR" in expected or text.rstrip().endswith("(")):
        return QuerySyntaxError("this ( is never closed", opened, "add a ) to close the group, or remove the (")
    position = max(len(text.rstrip()) - 1, 0)
    parser = getattr(exc, "interactive_parser", None)
    state = parser.lexer_thread.state if parser is not None else None
    if state is not None and state.last_token is not None:
        position = state.last_token.start_pos
    return QuerySyntaxError("the query ends with an operator", position,
                            "put a term after the last operator, or remove it")


def _unclosed_parenthesis(text: str) -> int | None:
    """Where the last unmatched ( is, outside quotes."""
    stack: list[int] = []
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            stack.append(index)
        elif not quoted and char == ")" and stack:
            stack.pop()
    return stack[-1] if stack else None


__all__ = ["QuerySyntaxError", "parse", "MAX_DEPTH", "MAX_FUZZINESS"]
