"""Email threading over Message-ID / In-Reply-To / References, with the subject fallback."""

from __future__ import annotations

from indexer.enrich.threads import EmailLinks, compute_threads


def _email(item_id, message_id=None, in_reply_to=None, references=(), subject=None, date=None):
    return EmailLinks(item_id, message_id, in_reply_to, list(references), subject, date)


def test_replies_join_their_root_even_when_the_middle_message_is_missing():
    threads = compute_threads([
        _email("a", "<1@x>", subject="Budget", date="2020-01-01"),
        # "<2@x>" was never collected; both replies name it.
        _email("c", "<3@x>", "<2@x>", ["<1@x>", "<2@x>"], "Re: Budget", "2020-01-03"),
        _email("d", "<4@x>", "<2@x>", [], "Re: Budget", "2020-01-04"),
        _email("e", "<5@x>", subject="Other matter", date="2020-01-02"),
    ])
    assert threads["a"] == threads["c"] == threads["d"]
    assert threads["e"] != threads["a"]


def test_message_ids_are_compared_case_insensitively_and_trimmed():
    threads = compute_threads([_email("a", "<ABC@x>"), _email("b", "<b@x>", " <abc@X> ")])
    assert threads["a"] == threads["b"]


def test_reply_without_ids_falls_back_to_the_subject():
    threads = compute_threads([
        _email("root", "<r@x>", subject="PPE deliveries", date="2020-03-01"),
        _email("reply", None, subject="RE: Fwd: PPE   deliveries", date="2020-03-02"),
        _email("same-subject-not-a-reply", None, subject="PPE deliveries", date="2020-03-05"),
    ])
    assert threads["reply"] == threads["root"]
    assert threads["same-subject-not-a-reply"] != threads["root"]


def test_thread_id_is_stable_and_named_by_the_earliest_message():
    first = compute_threads([_email("a", "<1@x>", date="2020-01-01"), _email("b", "<2@x>", "<1@x>", date="2020-01-02")])
    again = compute_threads([_email("b", "<2@x>", "<1@x>", date="2020-01-02"), _email("a", "<1@x>", date="2020-01-01")])
    assert first == again
    assert first["a"].startswith("thread:")
