"""The real app served on a free loopback port in a thread, for browser tests and API fuzzing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from search_api.app import create_app, server_config


def serve_app(settings) -> Iterator[str]:
    """Yield the base URL of `create_app(settings)` running on 127.0.0.1; stop it afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(server_config(create_app(settings), "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the app did not start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
