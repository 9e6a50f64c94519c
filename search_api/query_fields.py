"""What each query-language field searches, and the translation of a query tree to OpenSearch DSL.

One table, `FIELDS`, names every `field:`; each entry is a spec that knows how a word, a phrase,
a wildcard pattern and a fuzzy term become queries on the mapped fields (`services/index.py`).
Text is matched through the index analysers, so case and accents never matter; patterns and
fuzzy terms (which OpenSearch does not analyse) are folded by `query_tree.fold` first. `to_dsl` and
`highlight_dsl` are the entry points for a checked tree from `search_api.query.parse`; this module
imports only the tree (`search_api.query_tree`), never the parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from search_api.query_tree import (
    LEAVES, And, DateRange, Everything, Field, Fuzzy, Has, Near, Node, Not, Or, Phrase, QuerySyntaxError, Wildcard,
    Word, fold, position_of,
)

ADDRESS_ROOTS = ("from", "to", "cc", "bcc", "participants")
# A wildcard inside w/N or pre/N is expanded to the words it matches, up to this many; more is a 400.
MAX_EXPANSIONS = 1000
TOO_MANY_TERMS = "expanded to too many terms"  # OpenSearch's message when MAX_EXPANSIONS is exceeded
# OpenSearch's messages when a query has more clauses than indices.query.bool.max_clause_count (1,024).
TOO_MANY_CLAUSES = ("too_many_clauses", "too many nested clauses", "maxclausecount")


def _fuzziness(value: int | None) -> int | str:
    return "AUTO" if value is None else value


def _any(queries: list[dict[str, Any]]) -> dict[str, Any]:
    return queries[0] if len(queries) == 1 else {"bool": {"should": queries, "minimum_should_match": 1}}


# Where the index's word tokenizer (Unicode word breaks) always splits: a wildcard pattern holding
# one of these (`SI-61597*`, `covid-19*`) spans several indexed words. Dots and apostrophes are kept:
# the tokenizer keeps them between letters (`terms.pdf`, `don't`).
_WORD_BREAK = re.compile(r"[^\w.'*?]+")


def _across_words(field: str, pattern: str) -> dict[str, Any] | None:
    """A query for a pattern spanning several words of `field`: its pieces as adjacent words in order
    (a piece with * or ? matches the words it fits, the most frequent MAX_EXPANSIONS of them); None
    when the pattern is one word."""
    pieces = [piece for piece in _WORD_BREAK.split(pattern) if piece.strip("*?")]
    if len(pieces) < 2:
        return None
    clauses = [{"span_multi": {"match": {"wildcard": {field: {"value": piece, "rewrite": f"top_terms_{MAX_EXPANSIONS}"}}}}}
               if "*" in piece or "?" in piece else {"span_term": {field: piece}} for piece in pieces]
    return {"span_near": {"clauses": clauses, "slop": 0, "in_order": True}}


@dataclass(frozen=True)
class TextSpec:
    """Analysed text (subject, body, file names, ...): words and phrases go through the analysers
    (stemmed and exact fields together), patterns and fuzzy terms match the `.exact` words. A pattern
    spanning several words matches them in a row, and the whole value of the `keyword_fields` (file
    names are identifiers: `SI-61597*` finds `SI-61597.pdf`)."""

    match_fields: tuple[str, ...]  # may carry ^boosts
    exact_fields: tuple[str, ...]
    interval_fields: tuple[str, ...]  # where w/N, pre/N and "..."~N look
    keyword_fields: tuple[str, ...] = ()  # whole values, for patterns

    def word(self, text: str) -> dict[str, Any]:
        # A phrase query: "covid-19" or an address splits into several words that must be adjacent.
        return {"multi_match": {"query": text, "fields": list(self.match_fields), "type": "phrase"}}

    def phrase(self, text: str, slop: int | None) -> dict[str, Any]:
        if slop is None:
            return self.word(text)
        rule = {"match": {"query": text, "max_gaps": slop, "ordered": False}}
        return _any([{"intervals": {name: rule}} for name in self.interval_fields])

    def wildcard(self, pattern: str) -> dict[str, Any]:
        queries = [{"wildcard": {name: {"value": pattern, "case_insensitive": True}}} for name in self.exact_fields]
        if _WORD_BREAK.search(pattern):
            queries += [query for name in self.exact_fields if (query := _across_words(name, pattern))]
            queries += [{"wildcard": {name: {"value": pattern, "case_insensitive": True}}} for name in self.keyword_fields]
        return _any(queries)

    def fuzzy(self, text: str, fuzziness: int | None) -> dict[str, Any]:
        return {"multi_match": {"query": text, "fields": list(self.exact_fields), "fuzziness": _fuzziness(fuzziness),
                                "operator": "and"}}

    def everything(self) -> dict[str, Any]:
        return _any([{"exists": {"field": name.split("^")[0]}} for name in self.exact_fields])


@dataclass(frozen=True)
class AddressSpec:
    """People fields ({raw, name, address, person}): `from:matt*` matches the display name, the raw
    header and the address; a whole address or person key matches exactly."""

    roots: tuple[str, ...]
    interval_fields: tuple[str, ...] = ()

    def _text(self) -> list[str]:
        return [f"{root}.{part}" for root in self.roots for part in ("raw", "name")]

    def _keywords(self) -> list[str]:
        return [f"{root}.{part}" for root in self.roots for part in ("address", "person")]

    def word(self, text: str) -> dict[str, Any]:
        exact = [{"term": {name: {"value": fold(text), "case_insensitive": True}}} for name in self._keywords()]
        return _any([{"multi_match": {"query": text, "fields": self._text(), "type": "phrase"}}, *exact])

    def phrase(self, text: str, slop: int | None) -> dict[str, Any]:
        return self.word(text)

    def wildcard(self, pattern: str) -> dict[str, Any]:
        return _any([{"wildcard": {name: {"value": pattern, "case_insensitive": True}}}
                     for name in self._text() + self._keywords()])

    def fuzzy(self, text: str, fuzziness: int | None) -> dict[str, Any]:
        return {"multi_match": {"query": text, "fields": self._text(), "fuzziness": _fuzziness(fuzziness), "operator": "and"}}

    def everything(self) -> dict[str, Any]:
        return _any([{"exists": {"field": f"{root}.raw"}} for root in self.roots])


@dataclass(frozen=True)
class KeywordSpec:
    """Keyword fields (custodian, channel, ...): the whole value, case-insensitive. With `by_word`,
    a single word also matches a value containing that word (`custodian:alice` → "Alice Hart")."""

    fields: tuple[str, ...]
    by_word: bool = False
    interval_fields: tuple[str, ...] = ()

    def word(self, text: str) -> dict[str, Any]:
        queries = [{"term": {name: {"value": text, "case_insensitive": True}}} for name in self.fields]
        if self.by_word and " " not in text.strip():
            # The value contains the word: a regexp over the keyword, the word escaped character by character.
            word = "".join(ch if ch.isalnum() else "\\" + ch for ch in text)
            queries += [{"regexp": {name: {"value": f"(.*[^a-zA-Z0-9])?{word}([^a-zA-Z0-9].*)?", "case_insensitive": True,
                                           "flags": "NONE"}}} for name in self.fields]
        return _any(queries)

    def phrase(self, text: str, slop: int | None) -> dict[str, Any]:
        return _any([{"term": {name: {"value": text, "case_insensitive": True}}} for name in self.fields])

    def wildcard(self, pattern: str) -> dict[str, Any]:
        return _any([{"wildcard": {name: {"value": pattern, "case_insensitive": True}}} for name in self.fields])

    def fuzzy(self, text: str, fuzziness: int | None) -> dict[str, Any]:
        return _any([{"fuzzy": {name: {"value": text, "fuzziness": _fuzziness(fuzziness)}}} for name in self.fields])

    def everything(self) -> dict[str, Any]:
        return _any([{"exists": {"field": name}} for name in self.fields])


@dataclass(frozen=True)
class EntitySpec:
    """Named entities and personal data found by enrichment: words match inside an entity
    (`entity:hancock` → "Matt Hancock"); the whole text or normalised value matches exactly."""

    text_fields: tuple[str, ...] = ("entity_people.text", "entity_orgs.text", "entity_places.text")
    keyword_fields: tuple[str, ...] = ("entity_people", "entity_orgs", "entity_places", "entities.text", "entities.norm")
    interval_fields: tuple[str, ...] = ()

    def word(self, text: str) -> dict[str, Any]:
        exact = [{"term": {name: {"value": text, "case_insensitive": True}}} for name in self.keyword_fields]
        return _any([{"multi_match": {"query": text, "fields": list(self.text_fields), "type": "phrase"}}, *exact])

    def phrase(self, text: str, slop: int | None) -> dict[str, Any]:
        return self.word(text)

    def wildcard(self, pattern: str) -> dict[str, Any]:
        return _any([{"wildcard": {name: {"value": pattern, "case_insensitive": True}}}
                     for name in self.text_fields + self.keyword_fields])

    def fuzzy(self, text: str, fuzziness: int | None) -> dict[str, Any]:
        return {"multi_match": {"query": text, "fields": list(self.text_fields), "fuzziness": _fuzziness(fuzziness), "operator": "and"}}

    def everything(self) -> dict[str, Any]:
        return _any([{"exists": {"field": name}} for name in ("entity_people", "entity_orgs", "entity_places")])


DEFAULT = TextSpec(
    match_fields=("subject^3", "subject.exact^3", "body", "body.exact", "file_name^2", "attachment_names",
                  "from.raw", "to.raw", "conversation_name"),
    exact_fields=("subject.exact", "body.exact", "file_name", "attachment_names", "from.raw", "to.raw", "conversation_name"),
    interval_fields=("subject.exact", "body.exact"),
    keyword_fields=("file_name.keyword", "attachment_names.keyword"),
)

FIELDS: dict[str, TextSpec | AddressSpec | KeywordSpec | EntitySpec] = {
    "subject": TextSpec(("subject", "subject.exact"), ("subject.exact",), ("subject.exact",)),
    "body": TextSpec(("body", "body.exact"), ("body.exact",), ("body.exact",)),
    "attachment": TextSpec(("file_name", "attachment_names"), ("file_name", "attachment_names"), ("file_name", "attachment_names"),
                           ("file_name.keyword", "attachment_names.keyword")),
    "from": AddressSpec(("from",)),
    "to": AddressSpec(("to", "cc", "bcc")),
    "cc": AddressSpec(("cc",)),
    "bcc": AddressSpec(("bcc",)),
    "participant": AddressSpec(ADDRESS_ROOTS),
    "person": KeywordSpec(("people", *(f"{root}.person" for root in ADDRESS_ROOTS))),
    "custodian": KeywordSpec(("custodian",), by_word=True),
    "channel": KeywordSpec(("channel",)),
    "record": KeywordSpec(("record",)),
    "kind": KeywordSpec(("kind",)),
    "entity": EntitySpec(),
}
FIELD_HINT = ("fields: " + " ".join(f"{name}:" for name in FIELDS)
              + " has:attachment has:pii date:2020-03..2020-06 date>2021")


# ---------- checks that need the field table ----------

def check(node: Node, spec: Any = DEFAULT) -> None:
    """Raise QuerySyntaxError for unknown fields, fields inside fields and impossible proximity operands."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            check(child, spec)
    elif isinstance(node, Not):
        check(node.child, spec)
    elif isinstance(node, Field):
        if node.name not in FIELDS:
            raise QuerySyntaxError(f"unknown field {node.name}:", node.position,
                                   FIELD_HINT + '; to search for text containing a colon, put it in quotes')
        if spec is not DEFAULT:
            raise QuerySyntaxError(f"{node.name}: inside another field", node.position, "use one field per group, e.g. subject:(a OR b)")
        check(node.child, FIELDS[node.name])
    elif isinstance(node, (Has, DateRange)) and spec is not DEFAULT:
        raise QuerySyntaxError("has: and date: cannot be inside another field", node.position, "move it out of the field's group")
    elif isinstance(node, Near):
        if not spec.interval_fields:
            raise QuerySyntaxError("w/N and pre/N work on text only", node.position,
                                   "use them unfielded or inside subject:(...), body:(...) or attachment:(...)")
        _check_operand(node.left)
        _check_operand(node.right)


def _check_operand(node: Node) -> None:
    if isinstance(node, (Word, Phrase, Wildcard, Fuzzy)):
        return
    if isinstance(node, Near):
        _check_operand(node.left)
        _check_operand(node.right)
    elif isinstance(node, Or):
        for child in node.children:
            _check_operand(child)
    elif isinstance(node, Field):
        raise QuerySyntaxError("a field inside w/N or pre/N", node.position, "put the field around it: subject:(vaccine w/5 contract)")
    else:
        raise QuerySyntaxError("w/N and pre/N take words, phrases, wildcards or (a OR b) groups", position_of(node),
                               "AND, NOT, dates and has: cannot be inside a proximity search")


# ---------- translation ----------

def translate(node: Node, spec: Any) -> dict[str, Any]:
    """The DSL for `node` searched in `spec`'s fields."""
    if isinstance(node, Word):
        return spec.word(node.text)
    if isinstance(node, Phrase):
        return spec.phrase(node.text, node.slop)
    if isinstance(node, Wildcard):
        return spec.wildcard(node.pattern)
    if isinstance(node, Fuzzy):
        return spec.fuzzy(node.text, node.fuzziness)
    if isinstance(node, Everything):
        return {"match_all": {}} if spec is DEFAULT else spec.everything()
    if isinstance(node, And):
        return {"bool": {"must": [translate(child, spec) for child in node.children]}}
    if isinstance(node, Or):
        return {"bool": {"should": [translate(child, spec) for child in node.children], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [translate(node.child, spec)]}}
    if isinstance(node, Field):
        return translate(node.child, FIELDS[node.name])
    if isinstance(node, Near):
        return _any([{"intervals": {name: interval_rule(node)}} for name in spec.interval_fields])
    if isinstance(node, Has):
        if node.what == "pii":
            return {"term": {"has_pii": True}}
        return {"exists": {"field": "attachment_names"}}
    if isinstance(node, DateRange):
        bounds = {}
        if node.start:
            bounds["gte"] = node.start.isoformat()
        if node.end:
            bounds["lt"] = node.end.isoformat()
        return {"range": {"date": {**bounds, "format": "strict_date"}}}
    raise TypeError(f"not a query node: {node!r}")


def interval_rule(node: Node) -> dict[str, Any]:
    """An `intervals` rule for a proximity operand (checked by `check`)."""
    if isinstance(node, Near):
        return {"all_of": {"intervals": [interval_rule(node.left), interval_rule(node.right)], "max_gaps": node.distance,
                           "mode": "ordered" if node.ordered else "unordered"}}
    if isinstance(node, Or):
        return {"any_of": {"intervals": [interval_rule(child) for child in node.children]}}
    if isinstance(node, Word):
        return {"match": {"query": node.text, "max_gaps": 0, "ordered": True}}
    if isinstance(node, Phrase):
        if node.slop is None:
            return {"match": {"query": node.text, "max_gaps": 0, "ordered": True}}
        return {"match": {"query": node.text, "max_gaps": node.slop, "ordered": False}}
    if isinstance(node, Wildcard):
        return {"wildcard": {"pattern": node.pattern, "max_expansions": MAX_EXPANSIONS}}
    if isinstance(node, Fuzzy):
        return {"fuzzy": {"term": fold(node.text), "fuzziness": _fuzziness(node.fuzziness)}}
    raise TypeError(f"not a proximity operand: {node!r}")


def too_broad(node: Node | None) -> QuerySyntaxError:
    """The error for a query whose proximity wildcard matched more than MAX_EXPANSIONS words."""
    position = next(_proximity_wildcards(node), 0) if node is not None else 0
    return QuerySyntaxError(f"a wildcard inside w/N or pre/N matches more than {MAX_EXPANSIONS} different words", position,
                            "make it more specific (vaccin* rather than v*), or use it outside the proximity search")


def too_large(node: Node | None = None) -> QuerySyntaxError:
    """The error for a query that expands to more clauses than OpenSearch takes (each word is searched in
    several fields, so a few hundred words OR'd together are already too many)."""
    return QuerySyntaxError("the query has too many words or terms for one search (OpenSearch takes at most 1,024 "
                            "clauses, and each word counts once per field searched)", 0,
                            "split it into several searches, or use the search-term report with one query per term")


def too_big_for_opensearch(reason: str, node: Node | None = None) -> QuerySyntaxError | None:
    """The 400 to answer when OpenSearch's error `reason` says the query was too large, else None."""
    if TOO_MANY_TERMS in reason:
        return too_broad(node)
    if any(marker in reason.lower() for marker in TOO_MANY_CLAUSES):
        return too_large(node)
    return None


def _proximity_wildcards(node: Node, inside: bool = False) -> Iterator[int]:
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from _proximity_wildcards(child, inside)
    elif isinstance(node, (Not, Field)):
        yield from _proximity_wildcards(node.child, inside)
    elif isinstance(node, Near):
        yield from _proximity_wildcards(node.left, True)
        yield from _proximity_wildcards(node.right, True)
    elif isinstance(node, Wildcard) and inside:
        yield node.position


HIGHLIGHTED = TextSpec(
    match_fields=("subject", "subject.exact", "body", "body.exact", "file_name"),
    exact_fields=("subject.exact", "body.exact", "file_name"),
    interval_fields=("subject.exact", "body.exact"),
)


def highlight_leaves(node: Node, negated: bool = False, spec: Any = DEFAULT) -> Iterator[dict[str, Any]]:
    """Queries for the positive text leaves of the tree, on the highlighted fields."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from highlight_leaves(child, negated, spec)
    elif isinstance(node, Not):
        yield from highlight_leaves(node.child, not negated, spec)
    elif isinstance(node, Field):
        if isinstance(FIELDS[node.name], TextSpec):
            yield from highlight_leaves(node.child, negated, FIELDS[node.name])
    elif negated or not isinstance(spec, TextSpec):
        return
    elif isinstance(node, Near):
        yield translate(node, HIGHLIGHTED if spec is DEFAULT else spec)
    elif isinstance(node, LEAVES) and not isinstance(node, Everything):
        yield translate(node, HIGHLIGHTED if spec is DEFAULT else spec)


# ---------- the whole tree → OpenSearch DSL ----------

def to_dsl(node: Node | None) -> dict[str, Any]:
    """The OpenSearch query for a checked tree from `parse` (None: every item)."""
    if node is None:
        return {"match_all": {}}
    return translate(node, DEFAULT)


def highlight_dsl(node: Node | None) -> dict[str, Any] | None:
    """A query of the positive words, phrases and patterns of the tree, for highlighting only
    (so `custodian:` or `NOT draft` never decide what is marked in the text)."""
    leaves = list(highlight_leaves(node)) if node is not None else []
    return {"bool": {"should": leaves, "minimum_should_match": 1}} if leaves else None


__all__ = ["to_dsl", "highlight_dsl", "FIELDS", "DEFAULT", "MAX_EXPANSIONS", "TOO_MANY_TERMS", "check", "translate",
           "interval_rule", "highlight_leaves", "too_broad", "too_large", "too_big_for_opensearch"]
