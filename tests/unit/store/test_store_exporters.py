"""The local exporters under the real SDK: what lands in the store, and failing safely."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from ricecoder_otel.store import Store, get_default_store, open_store, set_default_store
from ricecoder_otel.store.exporters import (
    LocalLogExporter,
    LocalMetricExporter,
    LocalSpanExporter,
    dropped_totals,
)
from ricecoder_otel.store.postgres import PostgresStore
from tests.harness.ports import free_port

RESOURCE = Resource.create({"service.name": "shop", "service.version": "1.2.3"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "telemetry.db")
    yield opened
    opened.close()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ricecoder_otel.store" and r.levelno == logging.WARNING]


def test_spans_from_a_batch_processor_land_with_their_tree_status_and_events(store: Store) -> None:
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(BatchSpanProcessor(LocalSpanExporter(store)))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("GET /checkout", attributes={"http.route": "/checkout"}) as parent,
        tracer.start_as_current_span("charge card") as child,
    ):
        child.record_exception(ValueError("card declined"))
        child.set_status(Status(StatusCode.ERROR, "card declined"))
    provider.force_flush()
    provider.shutdown()

    rows = {row.name: row for row in store.query_spans()}
    assert set(rows) == {"GET /checkout", "charge card"}
    server, charge = rows["GET /checkout"], rows["charge card"]
    assert server.trace_id == charge.trace_id == format(parent.get_span_context().trace_id, "032x")
    assert charge.parent_span_id == server.span_id == format(parent.get_span_context().span_id, "016x")
    assert server.parent_span_id is None
    assert server.attributes == {"http.route": "/checkout"}
    assert (charge.status_code, charge.status_message) == ("ERROR", "card declined")
    assert charge.events[0]["name"] == "exception"
    assert charge.events[0]["attributes"]["exception.message"] == "card declined"
    assert server.service_name == "shop" and server.resource["service.version"] == "1.2.3"
    assert server.end_ns >= charge.end_ns >= charge.start_ns >= server.start_ns
    assert child.get_span_context().span_id == int(charge.span_id, 16)


def test_an_exporter_built_without_arguments_writes_to_the_default_store(tmp_path: Path) -> None:
    set_default_store(tmp_path / "default.db")
    try:
        provider = TracerProvider(resource=RESOURCE)
        provider.add_span_processor(SimpleSpanProcessor(LocalSpanExporter()))
        provider.get_tracer("test").start_span("background job").end()
        provider.shutdown()
        assert [s.name for s in get_default_store().query_spans()] == ["background job"]
    finally:
        get_default_store().close()
        set_default_store(None)


def test_metrics_are_stored_cumulatively_with_their_kind(store: Store) -> None:
    exporter = LocalMetricExporter(store)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meter = provider.get_meter("test")
    orders = meter.create_counter("orders", unit="{order}")
    queue = meter.create_up_down_counter("queue.depth")
    latency = meter.create_histogram("checkout.duration", unit="s")
    meter.create_observable_gauge("temperature", callbacks=[lambda _: [Observation(21.5, {"room": "a"})]])

    orders.add(2, {"region": "eu"})
    queue.add(5)
    latency.record(0.2)
    provider.force_flush()
    orders.add(3, {"region": "eu"})
    queue.add(-2)
    latency.record(3.0)
    provider.force_flush()
    provider.shutdown()

    points = store.query_metrics(limit=1000)
    by_name: dict[str, list[object]] = {}
    for point in sorted(points, key=lambda p: p.time_ns):
        by_name.setdefault(point.name, []).append(point)
    assert [p.value for p in by_name["orders"]][:2] == [2.0, 5.0]  # type: ignore[attr-defined]
    assert [p.value for p in by_name["queue.depth"]][:2] == [5.0, 3.0]  # type: ignore[attr-defined]
    first_orders = by_name["orders"][0]
    assert (first_orders.kind, first_orders.unit, first_orders.attributes) == ("counter", "{order}", {"region": "eu"})  # type: ignore[attr-defined]
    assert by_name["queue.depth"][0].kind == "updowncounter"  # type: ignore[attr-defined]
    assert by_name["temperature"][0].kind == "gauge"  # type: ignore[attr-defined]
    assert by_name["temperature"][0].value == 21.5  # type: ignore[attr-defined]
    histogram = by_name["checkout.duration"][1]
    assert (histogram.kind, histogram.count, histogram.sum) == ("histogram", 2, 3.2)  # type: ignore[attr-defined]
    assert sum(histogram.bucket_counts) == 2  # type: ignore[attr-defined]
    assert len(histogram.bucket_counts) == len(histogram.bucket_bounds) + 1  # type: ignore[attr-defined]
    assert store.counts().metric_series == 4


def test_metrics_collected_by_any_reader_can_be_exported(store: Store) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])

    def rooms(_: CallbackOptions) -> list[Observation]:
        return [Observation(1, {"room": "a"}), Observation(2, {"room": "b"})]

    provider.get_meter("test").create_observable_up_down_counter("occupancy", callbacks=[rooms])
    data = reader.get_metrics_data()
    assert data is not None
    assert LocalMetricExporter(store).export(data) is MetricExportResult.SUCCESS
    provider.shutdown()
    assert sorted((p.attributes["room"], p.value) for p in store.query_metrics()) == [("a", 1.0), ("b", 2.0)]


def test_log_records_and_events_keep_severity_and_trace_context(store: Store) -> None:
    logger_provider = LoggerProvider(resource=RESOURCE)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(LocalLogExporter(store)))
    app_logger = logging.getLogger("shop.checkout")
    handler = LoggingHandler(logger_provider=logger_provider)
    app_logger.addHandler(handler)
    tracer_provider = TracerProvider(resource=RESOURCE)
    try:
        with tracer_provider.get_tracer("test").start_as_current_span("GET /pay") as current:
            app_logger.error("payment failed for order %s", 42, extra={"order.id": 42})
        logger_provider.get_logger("shop").emit(
            event_name="checkout.completed", body={"total": 9.5}, severity_number=SeverityNumber.INFO
        )
        logger_provider.force_flush()
    finally:
        app_logger.removeHandler(handler)
        logger_provider.shutdown()

    rows = {row.event_name: row for row in store.query_logs()}
    error, event = rows[""], rows["checkout.completed"]
    assert (error.body, error.severity_number, error.severity_text) == ("payment failed for order 42", 17, "ERROR")
    assert error.trace_id == format(current.get_span_context().trace_id, "032x")
    assert error.span_id == format(current.get_span_context().span_id, "016x")
    assert error.attributes["order.id"] == 42
    assert (event.body, event.severity_number, event.trace_id) == ('{"total": 9.5}', 9, None)
    assert store.query_logs(min_severity=17) == [error]


def test_a_broken_store_fails_the_export_counts_drops_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "telemetry.db"
    path.write_bytes(b"not a database " * 500)
    exporter = LocalSpanExporter(open_store(path))
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    before = dropped_totals()["spans"]

    for i in range(3):
        provider.get_tracer("test").start_span(f"request {i}").end()  # the application is not disturbed

    assert exporter.dropped_spans == 3
    assert dropped_totals()["spans"] - before == 3
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert f"cannot store spans: {path} is not a readable SQLite store" in warnings[0]
    provider.shutdown()
    assert path.read_bytes() == b"not a database " * 500


def test_metric_and_log_exporters_count_what_they_drop(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    path.write_bytes(b"garbage" * 1000)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    counter = provider.get_meter("t").create_counter("c")
    counter.add(1, {"k": "a"})
    counter.add(1, {"k": "b"})
    data = reader.get_metrics_data()
    assert data is not None
    metric_exporter = LocalMetricExporter(open_store(path))
    assert metric_exporter.export(data) is MetricExportResult.FAILURE
    assert metric_exporter.dropped_points == 2
    provider.shutdown()

    log_exporter = LocalLogExporter(open_store(path))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    for body in ("first", "second", "third"):
        logger_provider.get_logger("t").emit(body=body, severity_number=SeverityNumber.WARN)
    logger_provider.shutdown()
    assert log_exporter.dropped_logs == 3


def test_an_unreachable_postgres_is_reported_without_its_password(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # reserved: nothing listens there
    store = PostgresStore(f"postgresql://app:hunter2@127.0.0.1:{port}/telemetry", connect_timeout_s=2)
    exporter = LocalSpanExporter(store)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("test").start_span("one").end()
    provider.get_tracer("test").start_span("two").end()
    provider.shutdown()

    warnings = _warnings(caplog)
    assert exporter.dropped_spans == 2
    assert len(warnings) == 1
    assert f"cannot reach PostgreSQL at postgresql://app:********@127.0.0.1:{port}/telemetry" in warnings[0]
    assert "hunter2" not in caplog.text


def test_export_after_shutdown_fails_without_writing(store: Store) -> None:
    exporter = LocalSpanExporter(store)
    exporter.shutdown()
    provider = TracerProvider()
    span = provider.get_tracer("t").start_span("late")
    span.end()
    assert exporter.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
    assert exporter.dropped_spans == 1
    assert store.counts().spans == 0
