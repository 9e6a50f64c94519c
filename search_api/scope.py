"""Scope: the filter clauses that confine a caller to the items it may see.

A user or API key may be restricted to named custodians, to named collections and to the
official record. Those restrictions become OpenSearch filter clauses that every query builder
in search_api ANDs into every query it sends: hits, totals, facets, cursors, item lookups,
threads, conversations, people, reports and exports. Filtering inside the query (never
afterwards in Python) is what keeps counts and facets from leaking what is out of scope.
An empty scope means "everything".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Scope = Sequence[dict[str, Any]]
EVERYTHING: Scope = ()


@dataclass(frozen=True)
class Restrictions:
    """What a user or key is confined to. Given together, custodians and collections both apply."""

    custodians: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    official_only: bool = False

    def filters(self) -> list[dict[str, Any]]:
        """The OpenSearch filter clauses for these restrictions ([] when unrestricted)."""
        clauses: list[dict[str, Any]] = []
        if self.custodians:
            clauses.append({"terms": {"custodian": list(self.custodians)}})
        if self.collections:
            clauses.append({"terms": {"collection": list(self.collections)}})
        if self.official_only:
            clauses.append({"term": {"record": "official"}})
        return clauses

    def describe(self) -> str:
        """One line for listings: 'custodians: A, B; official only', or 'everything'."""
        parts = []
        if self.custodians:
            parts.append("custodians: " + ", ".join(self.custodians))
        if self.collections:
            parts.append("collections: " + ", ".join(self.collections))
        if self.official_only:
            parts.append("official only")
        return "; ".join(parts) or "everything"


def scoped(query: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """`query` confined to `scope` (unchanged when the scope is everything)."""
    if not scope:
        return query
    return {"bool": {"must": [query], "filter": list(scope)}}
