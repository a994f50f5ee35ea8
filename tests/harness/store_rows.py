"""Builders of store rows shared by the store tests (unit and integration)."""

from __future__ import annotations

from ricecoder_otel.store.records import LogRow, MetricPoint, RetentionPolicy, SpanRecord

BASE_NS = 1_700_000_000_000_000_000
SECOND = 1_000_000_000


def span(i: int, *, at: int | None = None, name: str = "GET /items", trace: int = 1) -> SpanRecord:
    start = BASE_NS + i * SECOND if at is None else at
    return SpanRecord(
        trace_id=f"{trace:032x}",
        span_id=f"{i + 1:016x}",
        parent_span_id=None if i == 0 else f"{1:016x}",
        name=name,
        kind="SERVER",
        start_ns=start,
        end_ns=start + 5_000_000,
        status_code="ERROR" if i % 5 == 4 else "OK",
        status_message="boom" if i % 5 == 4 else "",
        service_name="shop",
        attributes={"http.route": "/items/<id>", "http.response.status_code": 200, "tags": ["a", "b"]},
        events=[{"name": "exception", "time_ns": start + 1, "attributes": {"exception.type": "ValueError"}}],
        resource={"service.name": "shop", "service.version": "1.0"},
    )


def point(i: int, *, at: int | None = None, name: str = "requests", route: str = "/a") -> MetricPoint:
    return MetricPoint(
        time_ns=BASE_NS + i * SECOND if at is None else at,
        name=name,
        kind="counter",
        unit="1",
        attributes={"http.route": route},
        value=float(i),
        service_name="shop",
    )


def histogram(i: int) -> MetricPoint:
    return MetricPoint(
        time_ns=BASE_NS + i * SECOND,
        name="http.server.request.duration",
        kind="histogram",
        unit="s",
        attributes={"http.route": "/a"},
        count=3,
        sum=0.75,
        bucket_bounds=[0.1, 0.5],
        bucket_counts=[1, 1, 1],
        service_name="shop",
    )


def log(i: int, *, at: int | None = None, severity: int = 9) -> LogRow:
    return LogRow(
        time_ns=BASE_NS + i * SECOND if at is None else at,
        severity_number=severity,
        severity_text="ERROR" if severity >= 17 else "INFO",
        body=f"message {i}",
        event_name="checkout.completed" if i % 2 else "",
        trace_id=f"{1:032x}",
        span_id=f"{i + 1:016x}",
        attributes={"user.id": f"u{i}"},
        service_name="shop",
    )


NO_RETENTION = RetentionPolicy(max_age_ns=None, max_bytes=None, interval_ns=None)
"""For tests whose rows carry fixed, old timestamps that the default policy would delete."""
