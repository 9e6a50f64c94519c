"""Near-duplicates: MinHash LSH over word shingles on planted pairs and non-pairs, and the pass over the index."""

from __future__ import annotations

import random
from datetime import datetime
from email.message import EmailMessage

from indexer import store
from indexer.enrich.near_dups import compute_groups, decode, near_dup_index, shingles, signature, similarity
from indexer.enrich.stage import EnrichOptions, Enricher
from indexer.model import Custody
from indexer.sources.base import Limits, SourceContext
from indexer.sources.support.chat import conversation_key, message_item, sender_address
from services.index import ensure_items_index

WORDS = ("ventilator contract supplier minister department budget review meeting officials procurement urgent "
         "delivery hospital order price approval deadline statement briefing policy emergency capacity stock "
         "testing vaccine private official record message decision weekend agree call").split()


def prose(seed: int, words: int = 60) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


MESSAGE = prose(1)
PASTED = "FYI, see below.\n\n> " + MESSAGE + "\n\nSent from my iPhone"
ORIGINAL = "\n".join(prose(10 + n, 12) for n in range(10))
REPLY_FULL = "Agreed, go ahead with the order today.\n\nOn Tuesday Alice wrote:\n" + "\n".join("> " + line for line in ORIGINAL.splitlines())
REPLY_TRIMMED = "Agreed, go ahead with the order today.\n\nOn Tuesday Alice wrote:\n" + "\n".join("> " + line for line in ORIGINAL.splitlines()[:9])
HALF = " ".join(MESSAGE.split()[:30]) + " " + prose(99, 30)


def _groups(texts: dict[str, str], threshold: float = 0.8) -> dict[str, str]:
    return compute_groups({key: signature(text) for key, text in texts.items() if signature(text)}, threshold)


def test_shingles_ignore_case_punctuation_and_quote_marks():
    assert shingles("> Hello, World!  how are you today") == shingles("hello world how are you today")
    assert len(shingles("one two three four five six")) == 2
    assert shingles("too short") == {b"too short"}


def test_short_texts_get_no_signature():
    assert signature("ok thanks") is None
    assert signature(prose(3, 19)) is None and signature(prose(3, 20)) is not None
    assert len(decode(signature(MESSAGE))) == 64


def test_planted_pairs_are_grouped_and_non_pairs_are_not():
    groups = _groups({
        "message": MESSAGE, "pasted": PASTED,  # a WhatsApp message pasted into an email
        "reply_full": REPLY_FULL, "reply_trimmed": REPLY_TRIMMED,  # a reply with the quote trimmed
        "half": HALF, "other": prose(50), "short": "ok thanks",
    })
    assert groups["message"] == groups["pasted"]
    assert groups["reply_full"] == groups["reply_trimmed"]
    assert groups["message"] != groups["reply_full"]
    assert set(groups) == {"message", "pasted", "reply_full", "reply_trimmed"}  # half, other and short stand alone


def test_groups_are_transitive_and_exact_copies_join_them():
    a = prose(7, 100)
    b = a + " " + prose(8, 6)
    c = b + " " + prose(9, 6)
    groups = _groups({"a": a, "b": b, "c": c, "copy-of-a": a})
    assert similarity(decode(signature(a)), decode(signature(c))) < 1.0
    assert len({groups[k] for k in ("a", "b", "c", "copy-of-a")}) == 1
    assert groups["a"] == "near:" + __import__("hashlib").sha256(b"a").hexdigest()[:24]  # named after the smallest id


def test_the_threshold_decides():
    assert "half" not in _groups({"message": MESSAGE, "half": HALF}, threshold=0.8)
    assert _groups({"message": MESSAGE, "half": HALF}, threshold=0.2)["half"].startswith("near:")


def test_a_whatsapp_message_pasted_into_an_email_is_grouped_in_the_index(services, enrich_settings, enrich_ingest, tmp_path):
    ensure_items_index(services, enrich_settings)
    ctx = SourceContext("/evidence/near-dup-chat.txt", "c" * 64, Custody("Near Dup Tester", "private"), None, Limits())  # type: ignore[arg-type]
    chat = conversation_key("whatsapp", ctx, "Supply")
    items = [
        message_item(ctx, channel="whatsapp", locator=f"line[{n}]", conversation_id=chat, conversation_name="Supply",
                     seq=n, sender=sender_address("+44 7700 900555"), when=datetime(2020, 4, 1, 9, n), date_original=None, body=body)
        for n, body in enumerate([MESSAGE, prose(60), "ok thanks"])
    ]
    enriched = Enricher(EnrichOptions(ner=False)).enrich_items(items, record=lambda problem: None)
    assert list(store.write_items(services, enrich_settings.items_alias, enriched)) == []
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Alice <alice@near.example>", "Bob <bob@near.example>", "Fwd: supply"
    message["Date"] = "Wed, 01 Apr 2020 10:00:00 +0100"
    message["Message-ID"] = "<near-dup@lantern.test>"
    message.set_content(PASTED)
    (tmp_path / "pasted.eml").write_bytes(bytes(message))
    enrich_ingest([tmp_path / "pasted.eml"], custodian="Near Dup Tester")  # the pipeline runs the pass at the end

    hits = services.search(index=enrich_settings.items_alias, body={
        "query": {"term": {"custodian": "Near Dup Tester"}}, "size": 10, "_source": ["kind", "body", "near_dup_group", "minhash"]})["hits"]["hits"]
    by_body = {h["_source"]["body"].strip(): h["_source"] for h in hits}
    email = next(s for s in by_body.values() if s["kind"] == "email")
    assert email["near_dup_group"] == by_body[MESSAGE]["near_dup_group"] and email["near_dup_group"].startswith("near:")
    assert "near_dup_group" not in by_body[prose(60)] and "minhash" not in by_body["ok thanks"]
    assert near_dup_index(services, enrich_settings.items_alias, 0.8) == 0  # nothing changed: nothing written
