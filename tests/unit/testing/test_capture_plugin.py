"""The ``ricecoder_capture`` fixture, exercised the way a user's test suite uses it (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

APP = '''
import logging

import pytest
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

# Taken at import time, before any pipeline exists, as applications do.
tracer = trace.get_tracer("shop")
orders = metrics.get_meter("shop").create_counter("shop.orders")
log = logging.getLogger("shop")


def handle(route, status=200, start_ns=None, seconds=None):
    span = tracer.start_span(f"GET {route}", kind=SpanKind.SERVER, start_time=start_ns)
    span.set_attribute("http.route", route)
    span.set_attribute("http.request.method", "GET")
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    orders.add(1, {"route": route})
    span.end(end_time=None if seconds is None else start_ns + int(seconds * 1e9))
'''

TESTS = '''
import pytest

from app import handle, log


def test_spans_red_metrics_and_custom_metrics_from_the_global_api(ricecoder_capture):
    handle("/orders")
    handle("/orders", status=503)
    assert [s.name for s in ricecoder_capture.spans("GET /orders")] == ["GET /orders", "GET /orders"]
    points = ricecoder_capture.metric("http.server.request.duration", {"http.route": "/orders"})
    assert sorted((a["http.response.status_class"], p.count) for a, p in points) == [("2xx", 1), ("5xx", 1)]
    [(attributes, orders)] = ricecoder_capture.metric("shop.orders")
    assert attributes == {"route": "/orders"} and orders.value == 2


def test_each_test_gets_a_fresh_pipeline(ricecoder_capture):
    handle("/cart")
    assert [s.name for s in ricecoder_capture.spans()] == ["GET /cart"]
    assert ricecoder_capture.metric("shop.orders", {"route": "/orders"}) == []


def test_application_logs_are_captured(ricecoder_capture):
    log.warning("payment declined for order %s", 42)
    bodies = [r.log_record.body for r in ricecoder_capture.logs()]
    assert "payment declined for order 42" in bodies


@pytest.mark.ricecoder_config({"alerting": {"rules": [{
    "name": "orders-latency", "kind": "anomaly", "metric": "http.server.request.duration",
    "operator": ">=", "threshold": 0.5, "for": "15s", "severity": "critical"}]}})
def test_anomaly_and_alert_events_follow_the_manual_clock(ricecoder_capture):
    import random
    rng = random.Random(7)
    for minute in range(123):
        ricecoder_capture.advance(10)
        slow = minute >= 120
        start = int(ricecoder_capture.clock() * 1e9)
        for _ in range(8):
            handle("/orders", start_ns=start, seconds=rng.uniform(0.9, 1.1) if slow else rng.lognormvariate(-3, 0.2))
        ricecoder_capture.collect()
    anomaly = ricecoder_capture.events("ricecoder.anomaly")[0]  # the episode opens (and may close)
    assert anomaly.log_record.attributes["ricecoder.anomaly.phase"] == "start"
    series = anomaly.log_record.attributes["ricecoder.anomaly.series"]
    assert series == "http.server.request.duration{http.route=/orders}"
    alerts = ricecoder_capture.events("ricecoder.alert")
    assert [a.log_record.attributes["ricecoder.alert.state"] for a in alerts] == ["firing"]
'''


def test_the_fixture_captures_what_an_application_records(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP, test_app=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4)


def test_a_broken_assertion_fails_the_users_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP, test_app='''
from app import handle

def test_wrong_route(ricecoder_capture):
    handle("/orders")
    assert ricecoder_capture.spans("GET /cart"), "no span for /cart"
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no span for /cart*"])
