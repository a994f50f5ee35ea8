"""One replica of the shop's analytics: the real pipeline, its share of the events, a flush to the store.

    python -m tests.integration.analytics.replica DSN PART PARTS

Feeds every PARTS-th event of the hand-computed scenario starting at PART through
``AnalyticsEngine.track_action`` at the event's time (a manual clock), then shuts the pipeline
down, which flushes this replica's rows and sketches to the store. Every replica runs release
``1.0`` (first seen when its pipeline starts, a minute before the first event).
"""

from __future__ import annotations

import sys

from ricecoder_otel.analytics import AnalyticsEngine
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.testing.memory import ManualClock
from tests.unit.analytics.scenario import EVENTS, at, settings

RAW = {user: f"{user}-person@example.com" for user in "abcd"}
"""Raw ids that must never reach the store (they are recognisable text, unlike one letter)."""


def main(dsn: str, part: int, parts: int) -> None:
    analytics = settings(flush_interval="1h", release="1.0")
    monitoring = MonitoringConfig.model_validate({"analytics": analytics, "store": {"location": dsn}})
    clock = ManualClock(start=EVENTS[0][2] - 60)
    pipeline = build_pipeline(
        monitoring,
        set_global=False,
        span_exporters=[],
        metric_readers=[],
        log_exporters=[],
        clock=clock,
        watch_config=False,
    )
    engine = AnalyticsEngine().start()
    mine = EVENTS[part::parts]
    for user, feature, when in mine:
        clock.advance(when - clock())
        assert engine.track_action(RAW[user], feature, {"email": RAW[user]})
    if part == 0:
        engine.identify(RAW["a"], {"plan": "pro", "email": RAW["a"]})
        for user, account in (("a", "acme"), ("b", "acme"), ("c", "globex")):
            engine.group(RAW[user], account)
    clock.advance(max(0.0, at(15, 23) - clock()))
    pipeline.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
