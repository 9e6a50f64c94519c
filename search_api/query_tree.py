"""The query tree: what a parsed investigator query is, and nothing about text or OpenSearch.

`search_api.query` builds these nodes from query text (`parse`); `search_api.query_fields` checks
them against the field table and translates them to OpenSearch DSL. Both import this module, and
it imports neither, so the query modules import in one direction: tree ← fields ← parser.
`QuerySyntaxError` lives here because the parser, the field checks and the size limits all raise
it, always pointing at a node's (or a character's) position in the query text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, Union


class QuerySyntaxError(ValueError):
    """A query that cannot be searched: `position` is the 0-based character offset of the problem."""

    def __init__(self, detail: str, position: int, hint: str):
        super().__init__(detail)
        self.detail, self.position, self.hint = detail, position, hint

    def to_body(self) -> dict[str, Any]:
        """The HTTP 400 body: {"detail", "position", "hint"}."""
        return {"detail": self.detail, "position": self.position, "hint": self.hint}


# ---------- the nodes ----------

@dataclass(frozen=True)
class Word:
    text: str
    position: int


@dataclass(frozen=True)
class Wildcard:
    pattern: str  # lower-cased and accent-folded; `*` any characters, `?` one character
    position: int


@dataclass(frozen=True)
class Fuzzy:
    text: str
    fuzziness: int | None  # None: OpenSearch's AUTO (by word length)
    position: int


@dataclass(frozen=True)
class Phrase:
    text: str
    slop: int | None  # `"a b"~N`: the words in any order, at most N other words between them
    position: int


@dataclass(frozen=True)
class Everything:
    position: int


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Near:
    """`left w/N right` (any order) or `left pre/N right` (left first): at most N words between."""

    left: Node
    right: Node
    distance: int
    ordered: bool
    position: int


@dataclass(frozen=True)
class Field:
    name: str
    child: Node
    position: int


@dataclass(frozen=True)
class Has:
    what: str  # "attachment" | "pii"
    position: int


@dataclass(frozen=True)
class DateRange:
    start: date | None  # inclusive
    end: date | None  # exclusive
    position: int


Node = Union[Word, Wildcard, Fuzzy, Phrase, Everything, And, Or, Not, Near, Field, Has, DateRange]
LEAVES = (Word, Wildcard, Fuzzy, Phrase, Everything)


def fold(text: str) -> str:
    """Lower-case and strip accents, as the `.exact` analyzer does (for wildcard and fuzzy terms,
    which OpenSearch does not analyse)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def position_of(node: Node) -> int:
    """Where `node` starts in the query text."""
    if isinstance(node, (And, Or)):
        return position_of(node.children[0])
    if isinstance(node, Not):
        return position_of(node.child)
    return node.position


def depth(node: Node) -> int:
    """How deeply `node` nests groups and operators (a leaf is 1)."""
    if isinstance(node, (And, Or)):
        return 1 + max(map(depth, node.children))
    if isinstance(node, (Not, Field)):
        return 1 + depth(node.child)
    if isinstance(node, Near):
        return 1 + max(depth(node.left), depth(node.right))
    return 1


__all__ = [
    "QuerySyntaxError", "Node", "LEAVES", "Word", "Wildcard", "Fuzzy", "Phrase", "Everything", "And", "Or", "Not", "Near",
    "Field", "Has", "DateRange", "fold", "position_of", "depth",
]
