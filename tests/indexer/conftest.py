"""Fixtures for the reliability tests: an OpenSearch and a Tika of our own, which tests may kill.

The shared servers on 9200/9998 serve everyone's tests and must never be stopped; these run on
free ports with their own state folder (the installed distributions under LANTERN_HOME are
reused), start once per session when a test asks for them, and are stopped at the end.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

from bench.corpus import Truth, Writer, write_mail
from lantern.sample_archive import generate
from sample_corpora import CORPORA, CORPORA_PRESENT
from services import local
from services.settings import Settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def own_services(settings: Settings):
    """Settings for a private OpenSearch + Tika pair (started here, stopped at the end); OCR off
    so every run of the same input extracts the same text."""
    state = Path(tempfile.mkdtemp(prefix="lantern-own-services-"))
    state.chmod(0o755)  # the servers run as the unprivileged service user when we are root
    own = settings.model_copy(update={
        "state_dir": state, "opensearch_url": None, "tika_url": None,
        "opensearch_port": _free_port(), "opensearch_transport_port": _free_port(), "tika_port": _free_port(),
        "opensearch_heap": "512m", "tika_heap": "512m", "ocr": False,
        "index_prefix": f"lantern-faults-{uuid.uuid4().hex[:8]}-",
    })
    try:
        local.up(own, say=lambda line: None, timeout=600)
        yield own
    finally:
        local.down(own, say=lambda line: None)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def reliability_corpus(tmp_path_factory) -> Path:
    """A corpus that takes some seconds to ingest and has problems to report: the sample archive,
    150 generated emails with attachments (the benchmark's generator), two bad files, and the
    real-world EML files when the shared corpora are present."""
    root = tmp_path_factory.mktemp("reliability") / "corpus"
    generate(root / "sample")
    write_mail(root / "generated", Writer(seed=7), 150, Truth(), custodians=2)
    if CORPORA_PRESENT:
        shutil.copytree(CORPORA / "eml", root / "eml")
    (root / "bad").mkdir()
    (root / "bad" / "empty.eml").write_bytes(b"")
    (root / "bad" / "junk.xyz").write_bytes(b"\x00\x01 not a document")
    return root
