"""Business relevance of a private item: a transparent score, so the gap report is about official
business and not about family chat.

No model, no black box: a handful of signals, each with a weight from settings
(`LANTERN_BUSINESS_WEIGHTS`), each counted for at most `business_signal_cap` distinct matches:

- `term`: an organisation or topic term from `LANTERN_BUSINESS_TERMS` / `LANTERN_BUSINESS_TERMS_FILE`
  (whole words, case-insensitive, in the subject, body or file name);
- `official_participant`: an address on the item in an official domain (`LANTERN_OFFICIAL_DOMAINS`);
- `org`: an organisation the NER stage found (`entity_orgs`);
- `work_word`: a word of government work (`WORK_WORDS`, or `LANTERN_BUSINESS_WORK_WORDS`).

The score is the sum of the weights of what fired; `business_signals` lists it ("term:ventilator",
"work_word:contract", ...). With the default weights and `LANTERN_BUSINESS_THRESHOLD=2`, one topic
term or one official participant makes an item business, and so do two work words or an
organisation with a work word; "love you, dinner at 7" fires nothing and scores 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.enrich.people import ADDRESS_FIELDS

WORK_WORDS = frozenset("""
agenda announcement approval approve board briefing budget cabinet civil committee consultation contract contracts
costings decision deadline delivery department directive draft foi funding grant guidance invoice legislation
meeting memo minister ministerial minutes officials parliament policy press procurement regulator report
review secretary spending stakeholder statement submission supplier suppliers tender treasury
""".split())
SIGNALS = ("term", "official_participant", "org", "work_word")


class BusinessTermsError(ValueError):
    """The terms file cannot be read; the message names it."""


@dataclass(frozen=True)
class BusinessRules:
    """What counts as business: the terms, work words, official domains, weights and threshold."""

    terms: tuple[str, ...] = ()
    work_words: frozenset[str] = WORK_WORDS
    official_domains: tuple[str, ...] = ("gov.uk",)
    weights: dict[str, float] = field(default_factory=lambda: {"term": 2.0, "official_participant": 2.0, "org": 1.0, "work_word": 1.0})
    cap: int = 2
    threshold: float = 2.0

    @classmethod
    def from_settings(cls, settings) -> "BusinessRules":
        """The rules configured by `settings`; BusinessTermsError when the terms file is unreadable."""
        terms = list(settings.business_terms)
        if settings.business_terms_file:
            terms += read_terms_file(Path(settings.business_terms_file))
        words = settings.business_work_words
        return cls(
            terms=tuple(dict.fromkeys(t.strip() for t in terms if t.strip())),
            work_words=frozenset(w.lower() for w in words) if words is not None else WORK_WORDS,
            official_domains=tuple(d.lower() for d in settings.official_domains),
            weights={**cls().weights, **settings.business_weights},
            cap=settings.business_signal_cap, threshold=settings.business_threshold,
        )

    def describe(self) -> dict[str, Any]:
        """The rules as shown in the report, so a reader can check a score by hand."""
        return {"terms": list(self.terms), "weights": self.weights, "cap_per_signal": self.cap, "threshold": self.threshold,
                "official_domains": list(self.official_domains), "work_words": sorted(self.work_words)}


def read_terms_file(path: Path) -> list[str]:
    """Terms from a file, one per line; blank lines and lines starting with # are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BusinessTermsError(f"business terms file {path} could not be read: {exc}") from exc
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


_WORD = re.compile(r"\w+")


class BusinessScorer:
    """Scores item sources (OpenSearch `_source` dicts) by `rules`."""

    def __init__(self, rules: BusinessRules):
        self.rules = rules
        alternatives = "|".join(re.escape(t) for t in sorted(rules.terms, key=len, reverse=True))
        self._terms = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if rules.terms else None
        self._canonical = {t.casefold(): t for t in rules.terms}

    def signals(self, source: dict[str, Any]) -> list[str]:
        """Every signal that fires on the item, as "kind:value", at most `cap` per kind, in a stable order."""
        text = "\n".join(filter(None, (source.get("subject"), source.get("body"), _as_text(source.get("file_name")))))
        found: dict[str, list[str]] = {kind: [] for kind in SIGNALS}
        if self._terms:
            found["term"] = _distinct(self._canonical.get(m.group(0).casefold(), m.group(0)) for m in self._terms.finditer(text))
        found["official_participant"] = _distinct(a for a in _addresses(source) if self._official(a))
        found["org"] = _distinct(source.get("entity_orgs") or [])
        terms = {t.casefold() for t in found["term"]}  # a word counts once: as a term if it is one
        found["work_word"] = _distinct(w for w in _WORD.findall(text.lower()) if w in self.rules.work_words and w not in terms)
        return [f"{kind}:{value}" for kind in SIGNALS for value in found[kind][: self.rules.cap]]

    def score(self, signals: Iterable[str]) -> float:
        """The sum of the weights of `signals`."""
        return round(sum(self.rules.weights.get(s.partition(":")[0], 0.0) for s in signals), 3)

    def assess(self, source: dict[str, Any]) -> dict[str, Any]:
        """The item fields: {business_score, business_signals}."""
        signals = self.signals(source)
        return {"business_score": self.score(signals), "business_signals": signals}

    def _official(self, address: str) -> bool:
        domain = address.rpartition("@")[2]
        return "@" in address and any(domain == d or domain.endswith("." + d) for d in self.rules.official_domains)


def _as_text(value: Any) -> str | None:
    return " ".join(value) if isinstance(value, list) else value


def _distinct(values: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return list(seen.values())


def _addresses(source: dict[str, Any]) -> Iterable[str]:
    for name in ADDRESS_FIELDS:
        value = source.get(name) or []
        for address in value if isinstance(value, list) else [value]:
            if isinstance(address, dict) and address.get("address"):
                yield str(address["address"]).lower()
