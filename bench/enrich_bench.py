"""Enrichment throughput: items per hour with NER on and off, side by side in one run; JSON out.

`python -m bench.enrich_bench [--emails N] [--chats N] [--seed S] [--pipeline]`

- enrichment alone (default, no services needed): generated email bodies and chat messages
  (bench.corpus's text: names, organisations, places and UK personal data sprinkled in) go
  through `Enricher.enrich_items` (NER, PII, people, MinHash signature), then the in-memory
  near-duplicate grouping; emails and chat messages are measured separately.
- `--pipeline`: also writes the generated corpus (Maildir and WhatsApp exports) and ingests
  it twice into throwaway indices of the running services, NER off then on, so the cost of
  NER is a ratio of whole-pipeline throughput measured in the same run.

Both orders are alternated (off, on, off, on) and the best of each is kept, because these
machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from bench.corpus import Writer, generate
from indexer.enrich import entities
from indexer.enrich.near_dups import compute_groups
from indexer.enrich.stage import EnrichOptions, Enricher
from indexer.model import Address, Custody, Item, stable_id
from indexer.sources.base import Limits, SourceContext
from indexer.sources.support.chat import message_item, sender_address


def email_items(writer: Writer, count: int) -> list[Item]:
    custody = Custody("Bench", "official")
    items = []
    for n in range(count):
        item_id = stable_id("b" * 64, f"email[{n}]")
        body = "\n\n".join(writer.paragraph() for _ in range(writer.rng.randint(1, 4)))
        items.append(Item(id=item_id, kind="email", channel="email", source_path="/bench/mail", locator=f"email[{n}]",
                          source_sha256="b" * 64, custody=custody, family_id=item_id, subject=writer.sentence(5).rstrip("."),
                          body=body, sender=Address(raw="Alice Hart <alice.hart@dhsc.gov.uk>", name="Alice Hart", address="alice.hart@dhsc.gov.uk"),
                          to=[Address(raw="Tom Reeve <tom.reeve@dhsc.gov.uk>", name="Tom Reeve", address="tom.reeve@dhsc.gov.uk")]))
    return items


def chat_items(writer: Writer, count: int) -> list[Item]:
    ctx = SourceContext("/bench/chat.txt", "c" * 64, Custody("Bench", "private"), None, Limits())  # type: ignore[arg-type]
    start = datetime(2020, 3, 1, 8, 0)
    return [
        message_item(ctx, channel="whatsapp", locator=f"line[{n}]", conversation_id="whatsapp:bench", conversation_name="Bench",
                     seq=n, sender=sender_address("+44 7700 900123" if n % 3 else "Matt"), when=start + timedelta(minutes=n),
                     date_original=None, body=writer.sentence())
        for n in range(count)
    ]


def _fresh(items: list[Item]) -> list[Item]:
    """Copies with no enrichment, so every round does the same work."""
    import copy

    return [copy.copy(item) for item in items]


def time_enrichment(items: list[Item], ner: bool) -> float:
    enricher = Enricher(EnrichOptions(ner=ner))
    started = time.perf_counter()
    for _ in enricher.enrich_items(_fresh(items), record=lambda problem: None):
        pass
    return time.perf_counter() - started


def enrichment_alone(emails: list[Item], chats: list[Item], rounds: int) -> dict:
    result: dict = {}
    for name, items in (("email", emails), ("chat_message", chats)):
        seconds = {"ner_off": [], "ner_on": []}
        for _ in range(rounds):
            seconds["ner_off"].append(time_enrichment(items, ner=False))
            seconds["ner_on"].append(time_enrichment(items, ner=True))
        best = {key: min(values) for key, values in seconds.items()}
        result[name] = {
            "items": len(items),
            "mean_chars": round(sum(len(i.body) for i in items) / len(items)),
            "items_per_hour_ner_off": round(len(items) / best["ner_off"] * 3600),
            "items_per_hour_ner_on": round(len(items) / best["ner_on"] * 3600),
            "ner_cost_ratio": round(best["ner_on"] / best["ner_off"], 2),
        }
    enricher = Enricher(EnrichOptions(ner=False))
    signatures = {}
    for item in enricher.enrich_items(_fresh(emails), record=lambda problem: None):
        if item.minhash:
            signatures[item.id] = item.minhash
    started = time.perf_counter()
    compute_groups(signatures, 0.8)
    grouping = time.perf_counter() - started
    result["near_dup_grouping"] = {"signatures": len(signatures), "items_per_hour": round(len(signatures) / grouping * 3600)}
    return result


def pipeline(size: int, seed: int) -> dict:
    """Whole-pipeline ingest of the generated corpus, NER off then on, emails and chat separately."""
    from indexer.pipeline import custody_for, run_ingest
    from services.runtime import Runtime
    from services.settings import Settings

    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="lantern-bench-") as tmp:
        root = Path(tmp)
        truth = generate(root / "corpus", size, seed)
        for name, folder in (("email", root / "corpus" / "mail"), ("chat_message", root / "corpus" / "chat")):
            row: dict = {}
            for ner in (False, True):
                settings = Settings(index_prefix=f"lantern-bench-{uuid.uuid4().hex[:8]}-", ner=ner)
                custody = custody_for(settings, "Bench", None, "private", "bench")
                started = time.perf_counter()
                summary = run_ingest(settings, [folder], custody, root / f"report-{name}-{ner}.jsonl")
                seconds = time.perf_counter() - started
                Runtime.open(settings).client.indices.delete(index=f"{settings.index_prefix}*", ignore_unavailable=True)
                row["items"] = summary.items
                row["items_per_hour_ner_on" if ner else "items_per_hour_ner_off"] = round(summary.items / seconds * 3600)
                row["seconds_ner_on" if ner else "seconds_ner_off"] = round(seconds, 1)
            row["ner_cost_ratio"] = round(row["seconds_ner_on"] / row["seconds_ner_off"], 2)
            result[name] = row
        result["corpus"] = truth.counts
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=500)
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pipeline", action="store_true", help="also ingest a generated corpus (needs the services)")
    parser.add_argument("--pipeline-size", type=int, default=2000)
    args = parser.parse_args()

    started = time.perf_counter()
    entities.load_model()
    load_seconds = time.perf_counter() - started
    writer = Writer(args.seed)
    report = {
        "benchmark": "enrichment",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "model": entities.MODEL,
        "model_load_seconds": round(load_seconds, 2),
        "enrichment_alone": enrichment_alone(email_items(writer, args.emails), chat_items(writer, args.chats), args.rounds),
    }
    if args.pipeline:
        report["whole_pipeline"] = pipeline(args.pipeline_size, args.seed)
    report["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
