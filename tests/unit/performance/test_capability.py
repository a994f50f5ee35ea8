"""The performance capability in the real pipeline: percentiles, bottlenecks, summaries, threshold alerts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.performance import PerformanceMonitor
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.performance.engine import Operation
from ricecoder_otel.performance.histogram import ExpHistogram
from ricecoder_otel.testing import RicecoderCapture
from tests.unit.performance.traces import db, http, request, template


def performance(capture: RicecoderCapture) -> PerformanceCapability:
    capability = capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability)
    return capability


def alerts(capture: RicecoderCapture) -> list[dict[str, Any]]:
    return [dict(e.log_record.attributes or {}) for e in capture.events("ricecoder.alert")]


def test_self_time_per_kind_of_work_from_each_trace(ricecoder_capture: RicecoderCapture) -> None:
    # 100 ms request: db 10..70 and 40..80 overlap (union 70 ms), an HTTP call 80..90, a template 90..95.
    for _ in range(4):
        request("/orders", 100, [db(10, 70), db(40, 80), http(80, 90), template(90, 95)])
    performance(ricecoder_capture).process_now()

    [report] = PerformanceMonitor().start().report("server")
    assert report.operation == Operation("server", "GET /orders")
    assert report.breakdown is not None and report.breakdown.count == 4
    shares = report.breakdown.shares()
    assert shares == pytest.approx({"database": 0.70, "http_client": 0.10, "template": 0.05, "own_code": 0.15})
    assert report.breakdown.top() == "database"


def test_the_category_that_grew_is_named_when_the_route_slows_down(ricecoder_capture: RicecoderCapture) -> None:
    capability = performance(ricecoder_capture)
    for _ in range(5):  # older half of the 5-minute window: 100 ms, 20 ms of it in the database
        request("/orders", 100, [db(10, 30), http(30, 50)])
    capability.process_now()
    ricecoder_capture.advance(160)
    for _ in range(5):  # newer half: 300 ms, the HTTP call went from 20 to 220 ms
        request("/orders", 300, [db(10, 30), http(30, 250)])
    capability.process_now()

    [report] = PerformanceMonitor().start().report("server")
    assert report.growth is not None
    assert report.growth.category == "http_client"
    assert report.growth.baseline_mean_s == pytest.approx(0.1)
    assert report.growth.recent_mean_s == pytest.approx(0.3)
    assert report.growth.category_delta_s == pytest.approx(0.2)


def test_percentiles_per_operation_for_routes_clients_and_databases(ricecoder_capture: RicecoderCapture) -> None:
    for n in range(1, 101):
        request("/items", n, [db(0, n / 2)])
    performance(ricecoder_capture).process_now()
    monitor = PerformanceMonitor().start()

    assert set(monitor.operations()) == {Operation("server", "GET /items"), Operation("database", "sqlite SELECT")}
    summary = monitor.percentiles("GET /items")
    bound = ExpHistogram().relative_error  # at scale 20 before downscaling: the guarantee only gets looser
    assert summary.count == 100 and summary.max == pytest.approx(0.1)
    for estimate, exact in ((summary.p50, 0.050), (summary.p90, 0.090), (summary.p95, 0.095), (summary.p99, 0.099)):
        assert abs(estimate - exact) / exact <= max(bound, 0.045)
    database = monitor.percentiles(Operation("database", "sqlite SELECT"))
    assert database.count == 100 and database.max == pytest.approx(0.05)


def test_finished_slots_are_stored_as_mergeable_summaries(ricecoder_capture: RicecoderCapture) -> None:
    capability = performance(ricecoder_capture)
    for n in range(1, 11):
        request("/a", 10 * n, [db(0, 5)])
    capability.process_now()
    ricecoder_capture.advance(30)  # one slot (window / 10) later
    capability.process_now()

    records = [r.log_record for r in ricecoder_capture.events("ricecoder.perf.summary")]
    server = [r for r in records if (r.attributes or {})["ricecoder.perf.kind"] == "server"]
    assert len(server) == 1
    attributes = dict(server[0].attributes or {})
    histogram = ExpHistogram.from_dict(json.loads(str(attributes["ricecoder.perf.histogram"])))
    assert histogram.count == 10 and histogram.max == pytest.approx(0.1)
    assert attributes["ricecoder.perf.requests"] == 10
    assert attributes["ricecoder.perf.self.database_s"] == pytest.approx(0.05)
    assert attributes["ricecoder.perf.self.own_code_s"] == pytest.approx(0.55 - 0.05)


@pytest.mark.ricecoder_config(
    {
        "performance": {
            "thresholds": {
                "max_response_time_ms": 200,
                "min_requests": 3,
                "for": "0s",
                "max_memory_mb": None,
                "max_cpu_percent": None,
            }
        }
    }
)
def test_a_slow_route_fires_the_p95_alert_and_resolves_when_it_leaves_the_window(
    ricecoder_capture: RicecoderCapture,
) -> None:
    capability = performance(ricecoder_capture)
    for _ in range(3):
        request("/fast", 50)
        request("/slow", 400)
    capability.process_now()
    [firing] = [e.log_record for e in ricecoder_capture.events("ricecoder.alert")]
    attributes = dict(firing.attributes or {})
    assert attributes["ricecoder.alert.name"] == "performance.p95_response_time"
    assert attributes["ricecoder.alert.state"] == "firing"
    assert attributes["ricecoder.alert.label.http.route"] == "/slow"
    assert attributes["ricecoder.alert.threshold"] == 200
    assert 400 * 0.95 < float(attributes["ricecoder.alert.value"]) < 400 * 1.05  # type: ignore[arg-type]
    assert [c.labels["http.route"] for c in PerformanceMonitor().start().firing()] == ["/slow"]

    ricecoder_capture.advance(301)  # the window moved past the slow requests
    capability.process_now()
    assert [alert["ricecoder.alert.state"] for alert in alerts(ricecoder_capture)] == ["firing", "resolved"]


@pytest.mark.ricecoder_config({"performance": {"thresholds": {
    "max_response_time_ms": 200, "min_requests": 1, "for": "0s", "routes": {"/report": 1000, "/export": None},
    "max_memory_mb": None, "max_cpu_percent": None}}})  # fmt: skip
def test_routes_override_or_switch_off_the_response_time_limit(ricecoder_capture: RicecoderCapture) -> None:
    request("/report", 600)
    request("/export", 5000)
    request("/other", 300)
    performance(ricecoder_capture).process_now()
    assert [alert["ricecoder.alert.label.http.route"] for alert in alerts(ricecoder_capture)] == ["/other"]


def test_memory_and_cpu_limits_fire_from_the_process_probe() -> None:
    capture = RicecoderCapture(MonitoringConfig.model_validate({"performance": {"thresholds": {"for": "0s"}}}))
    start = capture.clock()

    def probe() -> tuple[float, float, float]:  # by the pipeline's clock: the worker thread may evaluate too
        elapsed = capture.clock() - start
        if elapsed < 10:
            return 250.0, 10.0, 8000.0
        return (350.0, 95.0, 8000.0) if elapsed < 20 else (200.0, 5.0, 8000.0)

    try:
        capability = performance(capture)
        assert capability.worker is not None
        capability.worker.probe = probe
        capability.process_now()
        assert capture.events("ricecoder.alert") == []
        capture.advance(10)
        capability.process_now()
        capture.advance(10)
        capability.process_now()
        seen = sorted((alert["ricecoder.alert.name"], alert["ricecoder.alert.state"]) for alert in alerts(capture))
        assert seen == [
            ("performance.cpu", "firing"), ("performance.cpu", "resolved"),
            ("performance.memory", "firing"), ("performance.memory", "resolved"),
        ]  # fmt: skip
    finally:
        capture.close()


@pytest.mark.ricecoder_config({"performance": {"enabled": False}})
def test_switched_off_it_records_nothing(ricecoder_capture: RicecoderCapture) -> None:
    request("/orders", 100)
    performance(ricecoder_capture).process_now()
    assert PerformanceMonitor().start().report() == []


@pytest.mark.ricecoder_config({"performance": {"thresholds": {"min_requests": 1, "max_memory_mb": None,
                                                               "max_cpu_percent": None}}})  # fmt: skip
def test_by_default_a_limit_must_hold_for_a_minute(ricecoder_capture: RicecoderCapture) -> None:
    capability = performance(ricecoder_capture)
    request("/slow", 900)
    capability.process_now()
    assert alerts(ricecoder_capture) == []  # pending
    ricecoder_capture.advance(60)
    capability.process_now()
    assert [a["ricecoder.alert.state"] for a in alerts(ricecoder_capture)] == ["firing"]
