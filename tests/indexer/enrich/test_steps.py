"""The step and pass registries keep their contracts: names once, fields the item declares, text steps
first, one runner that memoises texts, records failures and never drops an item."""

from __future__ import annotations

import pytest

from indexer.enrich.options import EnrichOptions
from indexer.enrich.passes import INGEST, PASSES
from indexer.enrich.runner import Runner
from indexer.enrich.stage import Enricher
from indexer.enrich.steps import STEPS
from indexer.enrich.steps.base import ItemStep, TextBatch, TextStep
from indexer.model import FIELDS, Custody, Item, Problem


def _item(n: int, body: str) -> Item:
    return Item(id=f"i{n}", kind="message", channel="whatsapp", source_path="chat.txt", locator=f"line[{n}]",
                source_sha256="0" * 64, custody=Custody("Step Tester", "private"), family_id=f"i{n}", body=body)


class _Counted(TextStep):
    name, writes = "counted", ("minhash",)

    def __init__(self) -> None:
        self.seen: list[str] = []

    def run(self, batch: TextBatch) -> None:
        for (_, body), result in zip(batch.texts, batch.results):
            self.seen.append(body)
            if body == "breaks":
                result.fail("counted: the text broke it")
            else:
                result.minhash = f"sig:{body}"


class _Tagged(ItemStep):
    name, writes = "tagged", ("dup_group",)

    def __init__(self) -> None:
        pass

    def run(self, items: list[Item]) -> None:
        for item in items:
            item.dup_group = f"group:{item.id}"


def test_steps_are_named_once_text_steps_first_and_write_only_fields_the_item_declares():
    names = [step.name for step in STEPS]
    assert len(names) == len(set(names))
    kinds = [issubclass(step, TextStep) for step in STEPS]
    assert kinds == sorted(kinds, reverse=True)
    declared = {field.name for field in FIELDS}
    for step in STEPS:
        assert set(step.writes) <= declared, step.name


def test_the_runner_refuses_an_item_step_before_a_text_step():
    with pytest.raises(ValueError, match="text steps run before item steps"):
        Runner([_Tagged(), _Counted()], EnrichOptions(ner=False))


def test_a_text_step_sees_each_distinct_text_once_and_a_failure_costs_only_its_item():
    counted = _Counted()
    runner = Runner([counted, _Tagged()], EnrichOptions(ner=False, batch_size=3))
    problems: list[Problem] = []
    bodies = ["ok", "thanks", "ok", "breaks", "ok", "thanks", "breaks"]
    items = list(runner.enrich_items((_item(n, body) for n, body in enumerate(bodies)), problems.append))
    assert [item.id for item in items] == [f"i{n}" for n in range(len(bodies))]  # nothing dropped, order kept
    assert sorted(counted.seen) == ["breaks", "breaks", "ok", "thanks"]  # a failure is not memoised
    assert [item.minhash for item in items] == ["sig:ok", "sig:thanks", "sig:ok", None, "sig:ok", "sig:thanks", None]
    assert [item.enrichment["status"] for item in items].count("failed") == 2
    assert [(p.locator, p.code) for p in problems] == [("line[3]", "enrichment_failed"), ("line[6]", "enrichment_failed")]
    assert all(item.dup_group == f"group:{item.id}" for item in items)  # item steps run on every item


def test_the_default_enricher_builds_every_step_the_options_ask_for():
    assert [step.name for step in Enricher(EnrichOptions(ner=False)).steps] == [s.name for s in STEPS if s.name != "entities"]


def test_the_passes_after_ingest_run_in_their_listed_order_and_time_themselves(enrich_ingest, tmp_path):
    mail = tmp_path / "one.eml"
    mail.write_text("From: a@example.org\nTo: b@example.org\nSubject: steps\nMessage-ID: <steps@example.org>\n\nA body.\n")
    summary, report = enrich_ingest([mail], custodian="Pass Tester")
    assert summary.items == 1 and report == []
    after_ingest = [kind.name for kind in PASSES if INGEST in kind.after]
    assert after_ingest == ["stale", "threads", "near_dups"]
    assert [name for name in summary.stage_seconds if name in {kind.name for kind in PASSES}] == after_ingest
    assert all(summary.stage_seconds[name] >= 0 for name in after_ingest)
