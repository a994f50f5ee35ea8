"""The worker writes the aggregates to the store every ``flush_interval``; a failed write keeps them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ricecoder_otel.analytics import AnalyticsEngine
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.analytics.engine import day_of
from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.store import open_store
from ricecoder_otel.testing import RicecoderCapture

KEY = "flush-test-key-0123456789"


def analytics_of(capture: RicecoderCapture) -> AnalyticsCapability:
    found = capture.pipeline.capability("analytics")
    assert isinstance(found, AnalyticsCapability)
    return found


@pytest.mark.ricecoder_config({"analytics": {"pseudonym_key": KEY, "flush_interval": "1s"}})
def test_the_worker_flushes_every_flush_interval_and_reports_read_the_store(
    ricecoder_capture: RicecoderCapture,
) -> None:
    analytics = analytics_of(ricecoder_capture)
    assert analytics.core is not None
    engine = AnalyticsEngine().start()
    assert engine.track_action("alice", "search") and engine.track_action("bob", "search")
    today = day_of(ricecoder_capture.clock())
    deadline = time.monotonic() + 30
    while analytics.flushes < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert analytics.flushes >= 1  # nobody called flush: the worker did, on its interval
    assert analytics.core.snapshot().rows() == 0  # drained into the store
    stored = analytics.analytics_store().read(today, lg_k=14)
    assert {(user, feature) for _, user, feature in stored.activity} == {
        (analytics.core.pseudonymise("alice"), "search"),
        (analytics.core.pseudonymise("bob"), "search"),
    }
    rows = {row["feature"]: row for row in engine.report("active").rows}
    assert (rows["*"]["dau"], rows["search"]["mau"]) == (2, 2)


@pytest.mark.ricecoder_config({"analytics": {"pseudonym_key": KEY}})
def test_a_failed_flush_keeps_the_rows_for_the_next_one(ricecoder_capture: RicecoderCapture, tmp_path: Path) -> None:
    analytics = analytics_of(ricecoder_capture)
    assert analytics.core is not None
    location = str(tmp_path / "replica.db")
    open_store(location).close()  # created and migrated
    read_only = open_store(location, read_only=True)
    analytics._store = AnalyticsStore(read_only, analytics.replica)
    assert AnalyticsEngine().track_action("alice", "search")
    assert analytics.flush_now() is False
    read_only.close()
    assert SELF_TELEMETRY.snapshot().errors["analytics.store"] == 1
    assert analytics.core.snapshot().rows() == 1  # restored, not lost
    writable = open_store(location)
    analytics._store = AnalyticsStore(writable, analytics.replica)
    assert AnalyticsEngine().track_action("alice", "search")
    assert analytics.flush_now() is True
    stored = analytics.analytics_store().read(day_of(ricecoder_capture.clock()), lg_k=14)
    analytics._store = None
    writable.close()
    [(key, row)] = stored.activity.items()
    assert key[1] == analytics.core.pseudonymise("alice") and row.count == 2
