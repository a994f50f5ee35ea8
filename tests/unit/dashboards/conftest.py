from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.store.sqlite import SQLiteStore
from tests.unit.dashboards.support import StoredPipeline, store_at


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = store_at(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def stored_pipeline(store: SQLiteStore) -> Iterator[StoredPipeline]:
    running = StoredPipeline(store)
    yield running
    running.close()
