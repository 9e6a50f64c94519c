"""Fixtures shared by the source reader tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.digests import file_sha256, tree_sha256
from indexer.extract import TikaExtractor
from indexer.model import Custody
from indexer.sources.base import Limits, SourceContext


@pytest.fixture
def source_context(settings):
    """`source_context(path, custodian, account=None, limits=Limits())`: a SourceContext for a file or
    folder with a real Tika extractor (closed after the test)."""
    extractors: list[TikaExtractor] = []

    def build(path: Path, custodian: str, account: str | None = None, limits: Limits = Limits()) -> SourceContext:
        extractor = TikaExtractor(settings.effective_tika_url)
        extractors.append(extractor)
        digest = tree_sha256(path) if path.is_dir() else file_sha256(path)
        return SourceContext(str(path), digest, Custody(custodian, "private", account=account), extractor, limits)

    yield build
    for extractor in extractors:
        extractor.close()
