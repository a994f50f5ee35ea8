"""The evaluation loop through the real pipeline: RED metrics from spans, exact p95 windows."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.trace import SpanKind

from ricecoder_otel.alerting.capability import AlertingCapability, next_tick
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.testing import ManualClock, RicecoderCapture

P95_RULE = {
    "name": "orders-slow",
    "metric": "http.server.request.duration",
    "match": {"http.route": "/orders"},
    "group_by": ["http.route"],
    "aggregation": "quantile",
    "quantile": 0.95,
    "window": "1m",
    "operator": ">",
    "threshold": 0.5,
    "for": "30s",
    "severity": "critical",
    "annotations": {"summary": "p95 of {{ $labels.http_route }} is {{ $value | humanizeDuration }}"},
}


def capture(rules: list[dict[str, Any]], interval: str = "1d") -> RicecoderCapture:
    config = MonitoringConfig.model_validate({"alerting": {"rules": rules, "evaluation_interval": interval}})
    return RicecoderCapture(config, clock=ManualClock())


@pytest.fixture
def shop() -> Iterator[RicecoderCapture]:
    cap = capture([P95_RULE])
    yield cap
    cap.close()


def serve(cap: RicecoderCapture, route: str, seconds: float, count: int = 5, status: int = 200) -> None:
    tracer = cap.pipeline.tracer_provider.get_tracer("shop")
    for _ in range(count):
        start = int(cap.clock() * 1e9)
        span = tracer.start_span(f"GET {route}", kind=SpanKind.SERVER, start_time=start)
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        span.end(end_time=start + int(seconds * 1e9))


def alerting(cap: RicecoderCapture) -> AlertingCapability:
    capability = cap.pipeline.capability("alerting")
    assert isinstance(capability, AlertingCapability)
    return capability


def states(cap: RicecoderCapture) -> list[tuple[str, str]]:
    """Transitions of this test's rules (the performance capability's built-in thresholds fire too)."""
    return [(e.log_record.attributes["ricecoder.alert.state"], e.log_record.attributes["ricecoder.alert.series"])
            for e in cap.events("ricecoder.alert")
            if not str(e.log_record.attributes["ricecoder.alert.name"]).startswith("performance.")]  # fmt: skip


def run(cap: RicecoderCapture, seconds: int, route_latency: float, other_latency: float = 0.01) -> None:
    for _ in range(seconds):
        cap.advance(1)
        serve(cap, "/orders", route_latency)
        serve(cap, "/cart", other_latency)
        alerting(cap).evaluate_now()


def test_a_p95_threshold_on_a_route_fires_once_after_its_hold_and_resolves_once(shop: RicecoderCapture) -> None:
    run(shop, 90, 0.05)
    assert states(shop) == []
    run(shop, 29, 2.0)  # p95 over 1m crosses 0.5 s after a few seconds; pending for 30 s
    assert states(shop) == []
    run(shop, 20, 2.0)
    assert states(shop) == [("firing", "http.server.request.duration{http.route=/orders}")]
    [fired] = shop.events("ricecoder.alert")
    attributes = fired.log_record.attributes
    assert attributes["ricecoder.alert.severity"] == "critical"
    assert attributes["ricecoder.alert.label.http.route"] == "/orders"
    # interpolated inside the 1-2.5 s bucket, like histogram_quantile
    assert attributes["ricecoder.alert.annotation.summary"] == "p95 of /orders is 2.368s"
    run(shop, 120, 0.05)  # the slow minute leaves the window
    assert states(shop) == [("firing", "http.server.request.duration{http.route=/orders}"),
                            ("resolved", "http.server.request.duration{http.route=/orders}")]  # fmt: skip


def test_a_slow_other_route_does_not_fire_the_orders_rule(shop: RicecoderCapture) -> None:
    run(shop, 120, 0.05, other_latency=3.0)
    assert states(shop) == []


def test_error_ratio_over_red_metrics() -> None:
    rule = {"name": "errors", "kind": "error_ratio", "metric": "ricecoder.http.server.errors",
            "total_metric": "http.server.request.duration", "window": "1m", "threshold": 0.2}  # fmt: skip
    cap = capture([rule])
    try:
        for _ in range(30):
            cap.advance(1)
            serve(cap, "/orders", 0.01, count=3)
            serve(cap, "/orders", 0.01, count=1, status=503)
            alerting(cap).evaluate_now()
        [fired] = cap.events("ricecoder.alert")
        assert fired.log_record.attributes["ricecoder.alert.value"] == pytest.approx(0.25)
    finally:
        cap.close()


def test_the_loop_runs_on_its_own_thread_at_the_interval_and_stops_with_the_capability() -> None:
    rule = {**P95_RULE, "for": "0s"}
    cap = capture([rule], interval="20ms")
    try:
        assert [t for t in threading.enumerate() if t.name == "ricecoder-alerting"]
        serve(cap, "/orders", 2.0)
        # Time moves on after the requests, as it does for a real loop: whether the loop's first
        # evaluation (20 ms after start) came before, amid or after them, a later one sees them.
        cap.advance(1)
        deadline = time.monotonic() + 60
        while not states(cap) and time.monotonic() < deadline:  # not any alert: performance ones come too
            time.sleep(0.02)
        assert states(cap) == [("firing", "http.server.request.duration{http.route=/orders}")]
        while alerting(cap).evaluations < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert alerting(cap).evaluations >= 5 and len(states(cap)) == 1  # announced once, evaluated on
        alerting(cap).stop()
        assert not [t for t in threading.enumerate() if t.name == "ricecoder-alerting"]
    finally:
        cap.close()


def test_the_loop_keeps_a_fixed_grid_whatever_an_evaluation_costs() -> None:
    # An evaluation that ends at 10.07 does not push the next one to 11.07: the grid stays at whole seconds.
    assert next_tick(10.0, 1.0, now=10.07) == 11.0
    assert next_tick(11.0, 1.0, now=11.999) == 12.0
    # One that overran two ticks skips them instead of running three evaluations back to back.
    assert next_tick(12.0, 1.0, now=15.5) == 16.0
    assert next_tick(16.0, 1.0, now=17.0) == 17.0
