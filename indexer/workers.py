"""Read several input files at once, so waits on Tika overlap, while items still stream.

Most of an ingest's time is spent waiting for Tika (and OpenSearch), not in Python. Worker
threads each take the next file and put what its reader yields on one bounded queue; the
pipeline consumes the queue. The bound keeps memory flat however fast the readers are, and a
big container (an mbox, a PST) still streams because its reader yields item by item.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_FINISHED = object()


def read_concurrently(
    paths: Iterable[Path], read: Callable[[Path], Iterable[T]], workers: int = 4, max_pending: int = 1000,
) -> Iterator[tuple[Path, T | None]]:
    """Yield (path, produced) for everything `read(path)` yields, and (path, None) once a file is done.

    Files are handed out in order; what they produce interleaves. If the consumer stops early
    the workers stop too. An exception escaping `read` is re-raised in the consumer.
    """
    pending: queue.Queue = queue.Queue(maxsize=max_pending)
    source = iter(paths)
    source_lock = threading.Lock()
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                pending.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            while not stop.is_set():
                with source_lock:
                    path = next(source, None)
                if path is None:
                    break
                for produced in read(path):
                    if not put((path, produced)):
                        return
                put((path, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put((None, exc))
        finally:
            put(_FINISHED)

    threads = [threading.Thread(target=work, name=f"lantern-reader-{n}", daemon=True) for n in range(max(1, workers))]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            entry = pending.get()
            if entry is _FINISHED:
                running -= 1
                continue
            path, produced = entry
            if path is None:
                raise produced
            yield path, produced
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def in_background(stream: Iterable[T], max_pending: int = 2000) -> Iterator[T]:
    """Iterate `stream` on a worker thread while the caller consumes it, so the two overlap
    (enrichment works on the next items while the previous bulk request is in flight)."""
    for _, produced in read_concurrently([Path(".")], lambda _: stream, workers=1, max_pending=max_pending):
        if produced is not None:
            yield produced
