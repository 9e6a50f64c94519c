"""Where an ingest's time goes: wall-clock seconds spent pulling from each stage of the stream."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def timed(stream: Iterable[T], seconds: dict[str, float], name: str) -> Iterator[T]:
    """Pass `stream` through, adding to `seconds[name]` the time spent waiting for each element.

    Stages nest (store pulls from enrich, which pulls from read), so a stage's own time is its
    total minus the total of the stage it pulls from.
    """
    iterator = iter(stream)
    seconds.setdefault(name, 0.0)
    while True:
        started = time.perf_counter()
        try:
            element = next(iterator)
        except StopIteration:
            seconds[name] += time.perf_counter() - started
            return
        seconds[name] += time.perf_counter() - started
        yield element
