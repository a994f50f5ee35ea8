"""The store section of the config reaches the store the pipeline writes to."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.config.model import StoreConfig
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.store import RetentionPolicy, SpanRecord, get_default_store, set_default_store

HOUR_NS = 3600 * 1_000_000_000


@pytest.fixture
def restored_env() -> Iterator[None]:
    """build_pipeline applies OTEL_* defaults to os.environ; put it back afterwards."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("OTEL_", "RICECODER_")):
            del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(saved)
    set_default_store(None)


def _span(name: str, start_ns: int) -> SpanRecord:
    return SpanRecord(
        trace_id=f"{start_ns:032x}"[-32:], span_id=f"{start_ns:016x}"[-16:], parent_span_id=None,
        name=name, kind="SERVER", start_ns=start_ns, end_ns=start_ns + 1_000_000,
    )  # fmt: skip


def test_the_configured_age_and_size_reach_the_pipelines_store(restored_env: None, tmp_path: Path) -> None:
    location = tmp_path / "telemetry.db"
    config = MonitoringConfig(store=StoreConfig(location=str(location), max_age=timedelta(hours=3), max_size_mb=7))
    pipeline = build_pipeline(config, set_global=False)
    try:
        store = get_default_store()
        assert store.retention.max_age_ns == 3 * HOUR_NS
        assert store.retention.max_bytes == 7 * 1024 * 1024
        assert store.retention == RetentionPolicy(max_age_ns=3 * HOUR_NS, max_bytes=7 * 1024 * 1024)

        # And the store deletes by that age: 2 hours old stays, 4 hours old goes.
        now = store.clock()  # writers apply the policy themselves, by the store's clock
        store.write_spans([_span("recent", now - 2 * HOUR_NS), _span("old", now - 4 * HOUR_NS)])
        store.enforce_retention(now_ns=now)  # the write may already have applied it
        assert [s.name for s in store.query_spans()] == ["recent"]
    finally:
        pipeline.shutdown()
        get_default_store().close()
