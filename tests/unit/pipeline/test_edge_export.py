"""One bad log record (or span) costs at most itself, never its export batch.

Real encoders and exporters throughout: the OTLP encoder (``encode_logs``), the OTLP/HTTP
exporters posting to a loopback receiver that decodes the protobuf, and the ``ricecoder_local``
exporter writing to a temporary SQLite store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from ricecoder_otel.kernel.export import (
    CountingBatchLogRecordProcessor,
    CountingBatchSpanProcessor,
    EdgeSafeLogProcessor,
    IsolatingLogExporter,
    IsolatingSpanExporter,
)
from ricecoder_otel.kernel.sanitize import CYCLE, DEPTH_LIMIT, TRUNCATED
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.store import Store, open_store
from ricecoder_otel.store.exporters import LocalLogExporter

BAD = {2: "cyclic", 6: "deep"}


@pytest.fixture(autouse=True)
def clean_self_telemetry() -> Iterator[None]:
    SELF_TELEMETRY.reset()
    yield
    SELF_TELEMETRY.reset()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "telemetry.db")
    yield opened
    opened.close()


class _Receiver:
    """A loopback OTLP/HTTP endpoint keeping every decoded request."""

    def __init__(self) -> None:
        self.logs: list[ExportLogsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/logs":
                    receiver.logs.append(ExportLogsServiceRequest.FromString(data))
                else:
                    receiver.traces.append(ExportTraceServiceRequest.FromString(data))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def log_bodies(self) -> list[AnyValue]:
        return [
            record.body
            for request in self.logs
            for resource in request.resource_logs
            for scope in resource.scope_logs
            for record in scope.log_records
        ]

    def span_names(self) -> list[str]:
        return [
            span.name
            for request in self.traces
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    made = _Receiver()
    yield made
    made.close()


def _deep(levels: int) -> dict[str, Any]:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value  # type: ignore[no-any-return]


def _emit_batch(provider: LoggerProvider, unencodable_at: int | None = None) -> None:
    """Ten records in one batch: a cyclic body at 2, a 5,000-deep one at 6, the rest ordinary."""
    logger = provider.get_logger("shop")
    for i in range(10):
        if i == unencodable_at:  # fine to sanitise, impossible to encode: time past uint64
            logger.emit(LogRecord(timestamp=2**64, body=f"record {i}"))
        elif i == 2:
            cyclic: dict[str, Any] = {"order": i}
            cyclic["self"] = cyclic
            logger.emit(body=cyclic, attributes={"i": i})
        elif i == 6:
            logger.emit(body=_deep(5000), attributes={"i": i, "nested": _deep(600)})
        else:
            logger.emit(body=f"record {i}", attributes={"i": i, "huge": 2**70})


def _provider(*exporters: LogRecordExporter, edge: bool = True) -> LoggerProvider:
    provider = LoggerProvider()
    if edge:
        provider.add_log_record_processor(EdgeSafeLogProcessor())
    for exporter in exporters:
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000))
    return provider


def _text(value: AnyValue) -> str:
    return str(value)


# the problem -------------------------------------------------------------------------------
def test_without_the_edge_one_bad_body_loses_the_whole_batch(receiver: _Receiver, store: Store) -> None:
    captured = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = _provider(
        captured, OTLPLogExporter(endpoint=f"{receiver.url}/v1/logs"), LocalLogExporter(store), edge=False
    )
    _emit_batch(provider)
    provider.force_flush()

    with pytest.raises(RecursionError):
        encode_logs(captured.get_finished_logs())
    assert receiver.log_bodies() == []
    assert store.query_logs() == []
    provider.shutdown()


# the edge processor ------------------------------------------------------------------------
def test_the_otlp_encoder_takes_the_sanitised_batch_with_markers_in_the_two_bad_records() -> None:
    captured = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = _provider(captured)
    _emit_batch(provider)
    provider.force_flush()

    request = ExportLogsServiceRequest.FromString(encode_logs(captured.get_finished_logs()).SerializeToString())
    records = request.resource_logs[0].scope_logs[0].log_records
    assert len(records) == 10
    assert CYCLE in _text(records[2].body) and "order" in _text(records[2].body)
    assert DEPTH_LIMIT in _text(records[6].body)
    attributes = {kv.key: kv.value for kv in records[6].attributes}
    assert DEPTH_LIMIT in _text(attributes["nested"])  # kept (bounded) rather than dropped by the encoder
    huge = {kv.key: kv.value for kv in records[0].attributes}["huge"]
    assert huge.string_value == str(2**70)
    assert [records[i].body.string_value for i in (0, 9)] == ["record 0", "record 9"]
    provider.shutdown()


def test_all_ten_records_reach_the_otlp_receiver_and_the_local_store(receiver: _Receiver, store: Store) -> None:
    provider = _provider(
        IsolatingLogExporter(OTLPLogExporter(endpoint=f"{receiver.url}/v1/logs")),
        IsolatingLogExporter(LocalLogExporter(store)),
    )
    _emit_batch(provider)
    provider.force_flush()

    bodies = receiver.log_bodies()
    assert len(bodies) == 10 and len(receiver.logs) == 1  # one request: nothing needed isolating
    assert CYCLE in _text(bodies[2]) and DEPTH_LIMIT in _text(bodies[6])
    rows = sorted(store.query_logs(), key=lambda row: row.attributes["i"])
    assert [row.attributes["i"] for row in rows] == list(range(10))
    assert CYCLE in rows[2].body and DEPTH_LIMIT in rows[6].body
    assert rows[0].body == "record 0"
    assert SELF_TELEMETRY.snapshot().dropped == {}
    provider.shutdown()


def test_plain_records_are_left_untouched() -> None:
    captured = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(EdgeSafeLogProcessor())
    provider.add_log_record_processor(SimpleLogRecordProcessor(captured))
    body: dict[str, Any] = {"order": 7, "items": ["a", "b"]}
    provider.get_logger("shop").emit(body=body, attributes={"route": "/pay", "status": 200, "ok": True})
    provider.get_logger("shop").emit(body="x" * 70_000)

    first, second = captured.get_finished_logs()
    assert first.log_record.body is body
    assert dict(first.log_record.attributes or {}) == {"route": "/pay", "status": 200, "ok": True}
    assert second.log_record.body == "x" * 65_536 + TRUNCATED


def test_a_record_the_sanitiser_cannot_repair_is_dropped_alone_and_counted(receiver: _Receiver, store: Store) -> None:
    provider = _provider(
        IsolatingLogExporter(OTLPLogExporter(endpoint=f"{receiver.url}/v1/logs")),
        IsolatingLogExporter(LocalLogExporter(store)),
    )
    _emit_batch(provider, unencodable_at=4)
    provider.force_flush()

    survivors = [i for i in range(10) if i != 4]
    assert len(receiver.log_bodies()) == 9
    assert sorted(row.attributes["i"] for row in store.query_logs()) == survivors
    # one drop per exporter that had to leave it out
    assert SELF_TELEMETRY.snapshot().dropped == {"logs.unencodable": 2}
    provider.shutdown()


class _RaisingEncoder(LogRecordExporter):
    """Encodes like the OTLP/gRPC exporter, which lets the encoder's exception escape ``export``."""

    def __init__(self) -> None:
        self.exported: list[ReadableLogRecord] = []

    def export(self, batch: Any) -> LogRecordExportResult:
        encode_logs(batch).SerializeToString()
        self.exported.extend(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def test_an_exporter_that_raises_is_isolated_too() -> None:
    inner = _RaisingEncoder()
    provider = _provider(IsolatingLogExporter(inner))
    _emit_batch(provider, unencodable_at=9)
    provider.force_flush()

    assert len(inner.exported) == 9
    assert SELF_TELEMETRY.snapshot().dropped == {"logs.unencodable": 1}
    provider.shutdown()


def test_a_transport_failure_is_returned_without_splitting_the_batch() -> None:
    calls: list[int] = []

    class Down(_RaisingEncoder):
        def export(self, batch: Any) -> LogRecordExportResult:
            calls.append(len(batch))
            return LogRecordExportResult.FAILURE

    provider = _provider(IsolatingLogExporter(Down()))
    _emit_batch(provider)
    provider.force_flush()

    assert calls == [10]  # no retry storm against a collector that is down
    assert SELF_TELEMETRY.snapshot().dropped == {}
    provider.shutdown()


# spans -------------------------------------------------------------------------------------
def test_a_span_with_a_non_string_name_is_dropped_alone(receiver: _Receiver) -> None:
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            IsolatingSpanExporter(OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces")), schedule_delay_millis=60_000
        )
    )
    tracer = provider.get_tracer("shop")
    for i in range(5):
        tracer.start_span(f"span {i}", attributes={"nested": _deep(600)}).end()
    tracer.start_span(123).end()  # type: ignore[arg-type]  # the SDK accepts it; the encoder does not
    provider.force_flush()

    assert sorted(receiver.span_names()) == [f"span {i}" for i in range(5)]
    assert SELF_TELEMETRY.snapshot().dropped == {"spans.unencodable": 1}
    provider.shutdown()


def test_wrapped_exporters_keep_their_own_drop_counter_and_queue_gauge(store: Store) -> None:
    logs = CountingBatchLogRecordProcessor(IsolatingLogExporter(LocalLogExporter(store)))
    spans = CountingBatchSpanProcessor(IsolatingSpanExporter(OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")))
    try:
        assert set(SELF_TELEMETRY.snapshot().queue_depth) == {"logs.LocalLogExporter", "spans.OTLPSpanExporter"}
    finally:
        logs.shutdown()  # type: ignore[no-untyped-call]
        spans.shutdown()  # type: ignore[no-untyped-call]
