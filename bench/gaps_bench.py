"""Cost of the counterpart pass (indexer.enrich.counterparts) and of the record-gap report: items/s; JSON out.

`python -m bench.gaps_bench [--private N] [--official N] [--seed S]`

Writes a generated corpus straight into a throwaway index of the running OpenSearch (no Tika:
this measures the pass, not extraction): N private WhatsApp messages in conversations of a few
hundred messages each, and official emails of which a share quote a private message word for
word, hold an exact copy of one (same dup_group), paste it into a longer text (near-duplicate),
or record a call with its participants (note for the record). Then it runs the near-duplicate
pass (the counterpart pass reads its groups), the counterpart pass twice (the second run writes
nothing: the cost of keeping the fields up to date after an ingest that changed nothing), and
the report. The index is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.corpus import COMMON, DOMAIN, ORGS, PEOPLE
from indexer.enrich.business import BusinessRules
from indexer.enrich.counterpart_queries import MatchOptions
from indexer.enrich.counterparts import counterparts_index
from indexer.enrich.near_dups import near_dup_index, signature
from indexer.model import Address, Custody, Item
from indexer.store import write_items
from search_api.record_gaps import GapReportOptions, record_gaps_report
from services.index import ensure_items_index
from services.runtime import Runtime
from services.settings import Settings

START = datetime(2021, 1, 4, 9, 0, tzinfo=timezone.utc)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(COMMON + DOMAIN * 3 + [o.split()[0] for o in ORGS]) for _ in range(words)).capitalize() + "."


def _private(rng: random.Random, n: int, custodians: int) -> list[Item]:
    items = []
    for number in range(n):
        custodian = f"Bench Custodian {number % custodians}"
        conversation = f"bench-conv-{number // 300}"
        other = PEOPLE[(number // 300) % len(PEOPLE)]
        sender = Address(other, other) if number % 2 else Address(custodian, custodian)
        when = START + timedelta(hours=number * 3 + rng.randint(0, 2))
        body = _text(rng, rng.choice((3, 12, 25, 40)))
        item_id = f"bench-p-{number}"
        items.append(Item(id=item_id, kind="message", channel="whatsapp", source_path="/bench/chat.txt", locator=f"line[{number}]",
                          source_sha256="0" * 64, custody=Custody(custodian, "private", collection="bench"), family_id=item_id,
                          sender=sender, participants=[Address(custodian, custodian), Address(other, other)], body=body,
                          date=when.isoformat().replace("+00:00", "Z"), conversation_id=conversation, seq=number,
                          dup_group=f"whatsapp:{item_id}", minhash=signature(body)))
    return items


def _official(rng: random.Random, n: int, private: list[Item]) -> list[Item]:
    items = []
    for number in range(n):
        source = rng.choice(private)
        style = number % 5  # 0 quote, 1 exact copy, 2 pasted (near), 3 note, 4 unrelated
        other = source.participants[1].name or ""
        body = {0: f"For the file, from WhatsApp:\n> {source.body}\n{_text(rng, 30)}",
                1: source.body, 2: f"Copied: {source.body}",
                3: f"Note of a call with {other}. {source.body[:120]}", 4: _text(rng, 60)}[style]
        item_id = f"bench-o-{number}"
        custodian = source.custody.custodian
        items.append(Item(id=item_id, kind="message" if style == 1 else "email", channel="whatsapp" if style == 1 else "email",
                          source_path="/bench/official.mbox", locator=f"message[{number}]", source_sha256="1" * 64,
                          custody=Custody(custodian, "official", collection="bench"), family_id=item_id, subject=f"Bench {number}",
                          sender=Address(f"{custodian} <bench{number % 7}@dhsc.gov.uk>", custodian, f"bench{number % 7}@dhsc.gov.uk"),
                          body=body, date=source.date, dup_group=source.dup_group if style == 1 else f"email:{item_id}",
                          minhash=signature(body)))
    return items


def run(private_n: int, official_n: int, seed: int) -> dict[str, Any]:
    """Write the corpus, time the passes and the report, drop the index; return the figures."""
    settings = Settings(index_prefix=f"lantern-bench-gaps-{uuid.uuid4().hex[:8]}-", business_terms=["ppe", "vaccine", "procurement"])
    client = Runtime.open(settings, timeout=300).client
    alias = ensure_items_index(client, settings)
    try:
        rng = random.Random(seed)
        private = _private(rng, private_n, custodians=5)
        official = _official(rng, official_n, private)
        for problem in write_items(client, alias, private + official):
            print(problem, file=sys.stderr)
        client.indices.refresh(index=alias)
        figures: dict[str, Any] = {"private_items": private_n, "official_items": official_n, "seed": seed}
        started = time.perf_counter()
        near_dup_index(client, alias, settings.near_dup_threshold)
        figures["near_dup_seconds"] = round(time.perf_counter() - started, 2)
        options, rules = MatchOptions.from_settings(settings), BusinessRules.from_settings(settings)
        for label in ("first", "again"):
            stats = counterparts_index(client, alias, options, rules)
            figures[f"counterparts_{label}"] = {"seconds": round(stats.seconds, 2), "items_per_second": round(stats.items_per_second),
                                                "written": stats.written, "by_copy": dict(stats.by_copy)}
        started = time.perf_counter()
        report = record_gaps_report(client, alias, GapReportOptions.from_settings(settings))
        figures["report_seconds"] = round(time.perf_counter() - started, 2)
        figures["report_summary"] = report["summary"]
        return figures
    finally:
        client.indices.delete(index=f"{settings.index_prefix}*", ignore_unavailable=True, expand_wildcards="all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--private", type=int, default=4000)
    parser.add_argument("--official", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(run(args.private, args.official, args.seed), indent=2))


if __name__ == "__main__":
    main()
