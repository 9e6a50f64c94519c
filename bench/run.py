"""The benchmark runner: one JSON of side-by-side figures, every ratio taken within the same run.

`python -m bench.run [--size N] [--out bench/results]` (what `make bench` calls):
  1. generates (or reuses) the corpus of bench/corpus.py at that size;
  2. ingests its mail (official mailboxes as record official, the rest private), then its chat,
     with `lantern ingest` in a child process (peak memory is
     the child's maximum RSS), each into an index of its own; time by pipeline stage is kept;
     the mail is ingested twice more, without NER and without NER or OCR (`--no-variants` skips it);
  3. the ceiling: the very documents Lantern wrote, re-sent with plain opensearch-py bulk into a
     fresh index on the same node;
  4. peers on the same mail: Debian's `recollindex` and `notmuch new`, one query each;
  5. recall of the phrases planted in the corpus (truth.json), searched through Lantern;
  6. query latency p50/p95/p99 for a fixed query mix at concurrency 1 and 8, directly against
     OpenSearch and through the HTTP API (the API's overhead as a ratio);
  7. the record-gaps pass over everything ingested (official counterparts of each private item)
     and the gap report, timed; the chat messages the corpus quotes in official emails should
     come out copied;
and writes bench/results/<timestamp>-<size>.json plus a PNG chart. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import httpx
from opensearchpy import helpers

from bench import corpus
from indexer.enrich.business import BusinessRules
from indexer.enrich.counterpart_queries import MatchOptions
from indexer.enrich.counterparts import counterparts_index
from search_api.record_gaps import GapReportOptions, record_gaps_report
from search_api.search import SearchRequest, build_body
from services.runtime import Runtime
from services.settings import Settings

MAIL_VARIANTS = {"no_ner": {"LANTERN_NER": "false"}, "no_ner_no_ocr": {"LANTERN_NER": "false", "LANTERN_OCR": "false"}}
QUERY_MIX = [
    "contract", "vaccine supplier", '"stock delivery"', "ppe AND masks", "budget OR invoice",
    "minister -press", "deliver*", "procurement w/5 contract", "from:priya*", "custodian:matt",
    "date:2020-03-01..2020-04-30 meeting", "Northgate Medical",
]


def machine() -> dict:
    import psutil

    return {
        "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


# The child process: one `run_ingest` per (record, paths) in argv[1], timed together, as
# `lantern ingest --record R` run once per record would.
_INGEST_CHILD = """
import json, resource, sys, time
from collections import Counter
from pathlib import Path
from indexer.enrich.entities import stop_worker_pool
from indexer.pipeline import custody_for, run_ingest
from services.settings import Settings
settings = Settings()
runs, custodian, report = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
kinds, problems, stages, files, cached, memo = Counter(), Counter(), Counter(), 0, 0, 0
started = time.perf_counter()
for record, paths in runs:
    summary = run_ingest(settings, [Path(p) for p in paths], custody_for(settings, custodian, None, record, 'bench'), report)
    kinds.update(summary.items_by_kind)
    problems.update(summary.problems_by_code)
    stages.update(summary.stage_seconds)
    files, cached, memo = files + summary.files, cached + summary.extract_cache_hits, memo + summary.enrich_memo_hits
seconds = time.perf_counter() - started
stop_worker_pool()  # so the NER workers' peak memory is in RUSAGE_CHILDREN
print(json.dumps({'seconds': seconds, 'items_by_kind': kinds, 'problems_by_code': problems, 'files': files,
                  'stage_seconds': stages, 'extract_cache_hits': cached, 'enrich_memo_hits': memo,
                  'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'ner_worker_peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def ingest(runs: list[tuple[str, list[Path]]], prefix: str, custodian: str, env_extra: dict[str, str]) -> dict:
    """`lantern ingest` of each (record, paths) in one child process; the summed summary, wall time and peak RSS."""
    env = {**os.environ, "LANTERN_INDEX_PREFIX": prefix, **env_extra}
    report = Path("/tmp") / f"{prefix}exceptions.jsonl"
    spec = json.dumps([(record, [str(p) for p in paths]) for record, paths in runs])
    done = subprocess.run([sys.executable, "-c", _INGEST_CHILD, spec, custodian, str(report)],
                          env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    items = sum(result["items_by_kind"].values())
    result["items"] = items
    result["items_per_hour"] = round(items / result["seconds"] * 3600)
    return result


def mail_runs(mail: Path) -> list[tuple[str, list[Path]]]:
    """The corpus's official mailboxes ingested as record official, the others as private."""
    boxes = sorted(p for p in mail.iterdir() if p.is_dir())
    official = [p for p in boxes if p.name.endswith("-official")]
    return [(record, paths) for record, paths in (("official", official), ("private", [p for p in boxes if p not in official])) if paths]


def ceiling(client, source_index: str, target_index: str, work: Path) -> dict:
    """Raw bulk of the same documents (already built) into a fresh index: the node's own speed.
    The documents are first copied to a JSON Lines file, so the timed part reads a file, not the node."""
    dump = work / f"{target_index}.jsonl"
    docs = 0
    with dump.open("w") as out:
        for hit in helpers.scan(client, index=source_index, query={"query": {"match_all": {}}}, size=2000):
            out.write(json.dumps(hit["_source"]) + "\n")
            docs += 1
    client.indices.delete(index=target_index, ignore_unavailable=True)
    settings_body = client.indices.get(index=source_index)
    body = next(iter(settings_body.values()))
    client.indices.create(index=target_index, body={
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0,
                               "analysis": body["settings"]["index"]["analysis"]}},
        "mappings": body["mappings"],
    })

    def actions():
        with dump.open() as lines:
            for line in lines:
                doc = json.loads(line)
                yield {"_index": target_index, "_id": doc["id"], "_source": doc}

    try:
        started = time.perf_counter()
        helpers.bulk(client, actions(), chunk_size=500)
        client.indices.refresh(index=target_index)
        seconds = time.perf_counter() - started
    finally:
        client.indices.delete(index=target_index, ignore_unavailable=True)
        dump.unlink(missing_ok=True)
    return {"docs": docs, "seconds": seconds, "docs_per_hour": round(docs / seconds * 3600)}


def recoll(mail: Path, work: Path, emails: int) -> dict:
    """Debian's recoll indexing the same Maildir (attachments through its own filters), and one query."""
    if not shutil.which("recollindex"):
        return {"skipped": "recollindex not installed (scripts/install-system-packages.sh recoll poppler-utils)"}
    config = work / "recoll"
    shutil.rmtree(config, ignore_errors=True)
    config.mkdir(parents=True)
    (config / "recoll.conf").write_text(f"topdirs = {mail}\nloglevel = 1\n")
    started = time.perf_counter()
    subprocess.run(["recollindex", "-c", str(config), "-z"], capture_output=True, check=False)
    seconds = time.perf_counter() - started
    query = time.perf_counter()
    out = subprocess.run(["recollq", "-c", str(config), "-S", "mtime", "vaccine supplier"], capture_output=True, text=True)
    return {"emails": emails, "seconds": seconds, "emails_per_hour": round(emails / seconds * 3600),
            "query_seconds": time.perf_counter() - query, "query_output_head": out.stdout.splitlines()[:2]}


def notmuch(mail: Path, work: Path, emails: int) -> dict:
    """notmuch indexing the same Maildir (mail text only: notmuch does not read attachment content)."""
    if not shutil.which("notmuch"):
        return {"skipped": "notmuch not installed"}
    config = work / "notmuch-config"
    database = work / "notmuch-db"
    shutil.rmtree(database, ignore_errors=True)
    database.mkdir(parents=True)
    config.write_text(f"[database]\npath={database}\nmail_root={mail}\n[new]\ntags=new\n")
    env = {**os.environ, "NOTMUCH_CONFIG": str(config)}
    started = time.perf_counter()
    done = subprocess.run(["notmuch", "new", "--quiet"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    count = subprocess.run(["notmuch", "count", "vaccine and supplier"], env=env, capture_output=True, text=True)
    return {"emails": emails, "seconds": seconds, "emails_per_hour": round(emails / seconds * 3600),
            "exit": done.returncode, "stderr_head": done.stderr[:200], "count_vaccine_supplier": count.stdout.strip()}


def recall(client, index: str, truth: dict) -> dict:
    """Share of planted phrases found by a Lantern search."""
    found = 0
    missed = []
    for phrase, where in truth["planted"].items():
        body = build_body(SearchRequest(q=phrase, size=1))
        if client.search(index=index, body=body)["hits"]["total"]["value"] > 0:
            found += 1
        else:
            missed.append({phrase: where})
    planted = len(truth["planted"])
    return {"planted": planted, "found": found, "recall": found / planted if planted else None, "missed_sample": missed[:10]}


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"n": len(ordered), "p50_ms": round(pick(0.50), 2), "p95_ms": round(pick(0.95), 2),
            "p99_ms": round(pick(0.99), 2), "mean_ms": round(statistics.fmean(ordered) * 1000, 2)}


def latency(run_one, concurrency: int, rounds: int) -> dict:
    jobs = [query for _ in range(rounds) for query in QUERY_MIX]
    with ThreadPoolExecutor(concurrency) as pool:
        samples = list(pool.map(run_one, jobs))
    return _percentiles(samples)


def query_latency(settings: Settings, index_prefix: str, rounds: int) -> dict:
    """The query mix directly against OpenSearch and through the API, at concurrency 1 and 8."""
    client = Runtime.open(settings).client
    alias = f"{index_prefix}items"

    def direct(query: str) -> float:
        started = time.perf_counter()
        client.search(index=alias, body=build_body(SearchRequest(q=query, size=20)))
        return time.perf_counter() - started

    port = 8765
    env = {**os.environ, "LANTERN_INDEX_PREFIX": index_prefix}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "search_api.app:create_app",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=httpx.Limits(max_connections=16))
    try:
        for _ in range(100):
            try:
                if http.get("/api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)

        def api(query: str) -> float:
            started = time.perf_counter()
            http.get("/api/v1/search", params={"q": query, "size": 20}).raise_for_status()
            return time.perf_counter() - started

        for query in QUERY_MIX:  # warm both paths the same way
            direct(query)
            api(query)
        result = {}
        for concurrency in (1, 8):
            result[f"direct_c{concurrency}"] = latency(direct, concurrency, rounds)
            result[f"api_c{concurrency}"] = latency(api, concurrency, rounds)
            result[f"api_overhead_p50_c{concurrency}"] = round(
                result[f"api_c{concurrency}"]["p50_ms"] / result[f"direct_c{concurrency}"]["p50_ms"], 3)
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)


def record_gaps(client, settings: Settings, alias: str, truth: dict) -> dict:
    """The record-gaps pass (official counterparts of every private item) over the whole run, and the
    report; the WhatsApp messages the corpus quotes in official emails should come out copied."""
    options, rules = MatchOptions.from_settings(settings), BusinessRules.from_settings(settings)
    stats = counterparts_index(client, alias, options, rules)
    started = time.perf_counter()
    report = record_gaps_report(client, alias, GapReportOptions.from_settings(settings))
    report_seconds = time.perf_counter() - started
    return {"private_items": stats.items, "seconds": round(stats.seconds, 1), "items_per_second": round(stats.items_per_second),
            "written": stats.written, "by_copy": dict(stats.by_copy), "report_seconds": round(report_seconds, 2),
            "report_summary": report["summary"], "quoted_chat": quoted_chat(client, alias, truth, rules.threshold)}


def quoted_chat(client, alias: str, truth: dict, threshold: float) -> dict:
    """The WhatsApp messages the corpus quotes in official emails, as the pass classified them. Only
    business ones are looked for in official text (an item below the threshold is matched by hash only)."""
    texts = sorted(set(truth.get("quoted_chat", [])))
    outcome = Counter()
    for start in range(0, len(texts), 200):
        lines: list[dict] = []
        for text in texts[start:start + 200]:
            lines += [{"index": alias}, {"size": 1, "_source": ["business_score", "official_copy"], "query": {"bool": {
                "filter": [{"term": {"channel": "whatsapp"}}, {"match_phrase": {"body.exact": text}}]}}}]
        for response in client.msearch(body=lines)["responses"]:
            hits = response.get("hits", {}).get("hits", [])
            if not hits:
                outcome["not_indexed"] += 1
                continue
            source = hits[0]["_source"]
            business = (source.get("business_score") or 0) >= threshold
            copied = source.get("official_copy") not in (None, "none")
            outcome[f"{'business' if business else 'not_business'}_{'found_copied' if copied else 'missed'}"] += 1
    return {"quoted": len(texts), **outcome}


def chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    ingested, peers = result["ingest"], result.get("peers", {})
    rates = {
        "Lantern mail\n(emails/h)": ingested.get("mail", {}).get("emails_per_hour"),
        "no NER\n(emails/h)": result.get("mail_variants", {}).get("no_ner", {}).get("emails_per_hour"),
        "no NER,\nno OCR\n(emails/h)": result.get("mail_variants", {}).get("no_ner_no_ocr", {}).get("emails_per_hour"),
        "recoll\n(emails/h)": peers.get("recoll", {}).get("emails_per_hour"),
        "notmuch\n(emails/h)": peers.get("notmuch", {}).get("emails_per_hour"),
        "Lantern chat\n(msgs/h)": ingested.get("chat", {}).get("messages_per_hour"),
        "bulk ceiling\n(docs/h)": result["ceiling"].get("docs_per_hour"),
    }
    rates = {label: rate for label, rate in rates.items() if rate}
    left.bar(list(rates), [v / 1000 for v in rates.values()], color="#1d3557")
    left.set_yscale("log")  # mail at 10^5 an hour beside a bulk ceiling at 10^7
    left.set_ylabel("thousands per hour (log scale)")
    left.set_title(f"Ingest, {result['corpus']['size']:,} items")
    left.tick_params(axis="x", labelsize=8)
    queries = result.get("queries")
    if not queries:
        right.set_axis_off()
        right.set_title("Query latency: measured separately (--queries-on)")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        return
    labels = ["direct c1", "API c1", "direct c8", "API c8"]
    keys = ["direct_c1", "api_c1", "direct_c8", "api_c8"]
    for offset, percentile in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        right.bar([i + offset * 0.25 for i in range(4)], [queries[k][percentile] for k in keys], width=0.25, label=percentile)
    right.set_xticks([i + 0.25 for i in range(4)], labels)
    right.set_ylabel("ms")
    right.set_title("Query latency")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _ratio(numerator, denominator):
    return round(numerator / denominator, 3) if numerator and denominator else None


def run(args, settings: Settings, client, prefix: str, result: dict) -> None:
    """Fill `result` with the parts asked for: ingest, ceiling, peers, recall, query latency."""
    only = args.only
    name = f"corpus-{args.size}" if only == "all" else f"corpus-{only}-{args.size}"
    if only == "all" and args.email_share != corpus.EMAIL_SHARE:
        name += f"-email{args.email_share:g}"
    corpus_dir = args.work / name
    if not (corpus_dir / "truth.json").exists():
        shutil.rmtree(corpus_dir, ignore_errors=True)
        corpus.generate(corpus_dir, args.size, mail=only != "chat", chat=only != "mail", email_share=args.email_share)
    truth = json.loads((corpus_dir / "truth.json").read_text())
    result["corpus"] = {"size": args.size, "only": only, "email_share": args.email_share if only == "all" else None, **truth["counts"]}
    ingested, ratios = {}, {}
    if truth["counts"]["emails"]:
        mail = ingested["mail"] = ingest(mail_runs(corpus_dir / "mail"), prefix + "mail-", "Bench Mail", {})
        mail["emails_per_hour"] = round(truth["counts"]["emails"] / mail["seconds"] * 3600)
    variants = {}
    if truth["counts"]["emails"] and not args.no_variants:
        # The same mail again without NER, then without NER or OCR: what recoll does (no entities, and
        # no OCR in its default configuration), so the side-by-side shows where the time goes.
        for variant, env in MAIL_VARIANTS.items():
            figures = variants[variant] = ingest(mail_runs(corpus_dir / "mail"), f"{prefix}mail-{variant}-", "Bench Mail", env)
            figures["emails_per_hour"] = round(truth["counts"]["emails"] / figures["seconds"] * 3600)
            client.indices.delete(index=f"{prefix}mail-{variant}-*", ignore_unavailable=True, expand_wildcards="all")
        result["mail_variants"] = variants
    if truth["counts"]["chat_messages"]:
        chat = ingested["chat"] = ingest([("private", [corpus_dir / "chat"])], prefix + "chat-", "Bench Chat", {})
        chat["messages_per_hour"] = round(truth["counts"]["chat_messages"] / chat["seconds"] * 3600)
    result["ingest"] = ingested
    # The ceiling re-sends what the largest ingest wrote.
    largest = max(ingested, key=lambda part: ingested[part]["items"])
    result["ceiling"] = {"of": largest, **ceiling(client, f"{prefix}{largest}-items", f"{prefix}ceiling", args.work)}
    for part, figures in ingested.items():
        ratios[f"{part}_items_vs_ceiling"] = _ratio(figures["items_per_hour"], result["ceiling"]["docs_per_hour"])
    if "mail" in ingested:
        emails = truth["counts"]["emails"]
        result["peers"] = {"recoll": recoll(corpus_dir / "mail", args.work, emails),
                           "notmuch": notmuch(corpus_dir / "mail", args.work, emails)}
        for peer in ("recoll", "notmuch"):
            ratios[f"mail_vs_{peer}"] = _ratio(ingested["mail"]["emails_per_hour"], result["peers"][peer].get("emails_per_hour"))
            for variant, figures in variants.items():
                ratios[f"mail_{variant}_vs_{peer}"] = _ratio(figures["emails_per_hour"], result["peers"][peer].get("emails_per_hour"))
    # One alias over every index of the run for recall and latency.
    client.indices.put_alias(index=",".join(f"{prefix}{part}-items-v*" for part in ingested), name=f"{prefix}items")
    result["recall"] = recall(client, f"{prefix}items", truth)
    if not args.skip_queries:
        result["queries"] = query_latency(settings, prefix, args.rounds)
    if not args.skip_gaps and "mail" in ingested:
        result["record_gaps"] = record_gaps(client, settings, f"{prefix}items", truth)
    result["ratios"] = ratios


def main() -> None:
    parser = argparse.ArgumentParser(description="Lantern benchmark: JSON with side-by-side figures")
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", "10000")),
                        help="items in the corpus (BENCH_SIZE; default 10000); attachments come on top")
    parser.add_argument("--only", choices=("all", "mail", "chat"), default=os.environ.get("BENCH_ONLY", "all"),
                        help="a corpus of mail and chat (default), or of one kind only (e.g. 1,000,000 chat messages)")
    parser.add_argument("--email-share", type=float, default=float(os.environ.get("BENCH_EMAIL_SHARE", corpus.EMAIL_SHARE)),
                        help=f"share of the items that are emails when mail and chat are mixed (default {corpus.EMAIL_SHARE})")
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("BENCH_WORK", "/tmp/lantern-bench")),
                        help="where corpora (reused by size) and peers' indexes go (BENCH_WORK)")
    parser.add_argument("--out", type=Path, default=Path("bench/results"), help="where the JSON and PNG go")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the query mix per measurement")
    parser.add_argument("--no-variants", action="store_true",
                        help="skip the extra mail ingests without NER and without NER or OCR (run by default)")
    parser.add_argument("--skip-gaps", action="store_true", help="no record-gaps pass (official counterparts of private items)")
    parser.add_argument("--keep", action="store_true", help="keep the run's indexes (for --queries-on)")
    parser.add_argument("--skip-queries", action="store_true", help="no query latency (measure it later with --queries-on)")
    parser.add_argument("--queries-on", metavar="PREFIX", help="only measure query latency on a kept run's indexes")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    settings = Settings()
    client = Runtime.open(settings, timeout=300).client
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    prefix = args.queries_on or f"bench-{stamp.lower()}-"
    result: dict = {"when": stamp, "prefix": prefix, "machine": machine(),
                    "settings": {"ocr": settings.ocr, "ocr_min_bytes": settings.ocr_min_bytes,
                                 "ingest_workers": settings.ingest_workers}}
    try:
        if args.queries_on:
            result["items"] = client.count(index=f"{prefix}items")["count"]
            result["queries"] = query_latency(settings, prefix, args.rounds)
        else:
            run(args, settings, client, prefix, result)
    finally:
        if not (args.keep or args.queries_on):
            client.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")
    result["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"{stamp}-queries" if args.queries_on else f"{stamp}-{args.only}-{args.size}"
    target = args.out / f"{name}.json"
    target.write_text(json.dumps(result, indent=1))
    if "ingest" in result:
        chart(result, target.with_suffix(".png"))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
