"""sentry-sdk sends our errors to a loopback server that parses the envelopes as Sentry ingest would."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id

from ricecoder_otel.errors import ErrorEvent, track_error
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from tests.unit.errors.conftest import ErrorsCapture, errors_config

tracer = trace.get_tracer("tests.errors.sentry")
PROJECT = 42
KEY = "0123456789abcdef0123456789abcdef"


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Any]]]:
    """Envelope format: a header line, then per item a header line and its payload."""
    lines = body.split(b"\n")
    header = json.loads(lines[0])
    items: list[tuple[dict[str, Any], Any]] = []
    rest = b"\n".join(lines[1:])
    while rest.strip():
        item_header_raw, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_header_raw)
        if "length" in item_header:
            payload, rest = rest[: item_header["length"]], rest[item_header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item_header, json.loads(payload) if payload.strip() else None))
    return header, items


class Ingest:
    """A loopback Sentry ingest: checks path and auth, decodes envelopes, can hold requests."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.problems: list[str] = []
        self.hold = threading.Event()
        self.hold.set()
        self.in_flight = 0
        self.lock = threading.Lock()
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with ingest.lock:
                    ingest.in_flight += 1
                ingest.hold.wait(30)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                ingest.paths.append(self.path)
                auth = self.headers.get("X-Sentry-Auth", "")
                if f"sentry_key={KEY}" not in auth or not auth.startswith("Sentry "):
                    ingest.problems.append(f"bad auth {auth!r}")
                if self.path == f"/api/{PROJECT}/envelope/":
                    header, items = parse_envelope(body)
                    for item_header, payload in items:
                        if item_header.get("type") == "event":
                            if header.get("event_id") != payload["event_id"]:
                                ingest.problems.append("envelope and event ids differ")
                            ingest.events.append(payload)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")
                with ingest.lock:
                    ingest.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def dsn(self) -> str:
        return f"http://{KEY}@127.0.0.1:{self.server.server_address[1]}/{PROJECT}"

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.events)

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ingest() -> Iterator[Ingest]:
    server = Ingest()
    yield server
    server.close()


def capture(tmp_path: Path, **section: object) -> ErrorsCapture:
    return ErrorsCapture(errors_config(tmp_path, **section))


def fail(order: int) -> tuple[str, str]:
    with tracer.start_as_current_span("POST /pay") as span:
        span.set_attribute("user.id", "ann")
        try:
            raise TimeoutError(f"gateway timeout for order {order}")
        except TimeoutError as error:
            span.record_exception(error)
        context = span.get_span_context()
        return format_trace_id(context.trace_id), format_span_id(context.span_id)


def test_each_error_reaches_sentry_with_trace_ids_fingerprint_environment_and_release(
    tmp_path: Path, ingest: Ingest
) -> None:
    pipeline = capture(tmp_path, dsn=ingest.dsn, environment="staging", release="shop@2.0")
    try:
        sent = [fail(order) for order in range(3)]
        pipeline.drain()
        events = ingest.wait_for(3)
        [group] = pipeline.errors.engine.groups()  # type: ignore[union-attr]
        spans = pipeline.spans("POST /pay")
    finally:
        pipeline.close()
    assert ingest.problems == [] and len(events) == 3
    assert {(e["contexts"]["trace"]["trace_id"], e["contexts"]["trace"]["span_id"]) for e in events} == set(sent)
    for event in events:
        assert event["fingerprint"] == list(group.fingerprint)
        assert event["environment"] == "staging" and event["release"] == "shop@2.0"
        assert event["tags"]["ricecoder.error.group_id"] == group.id
        assert event["user"] == {"id": "ann"}
        [exception] = event["exception"]["values"]
        assert exception["type"] == "TimeoutError" and exception["value"].startswith("gateway timeout for order")
    # Our spans still go to the application's exporters, and none to Sentry.
    assert len(spans) == 3
    assert set(ingest.paths) == {f"/api/{PROJECT}/envelope/"}


def test_sample_rate_is_honoured(tmp_path: Path, ingest: Ingest) -> None:
    for rate, sent, low, high in ((0.0, 50, 0, 0), (0.5, 400, 140, 260)):
        ingest.events.clear()
        pipeline = capture(tmp_path / str(rate), dsn=ingest.dsn, sample_rate=rate)
        try:
            for n in range(sent):
                track_error(ErrorEvent(message=f"sampled {n}", error_type="Sampled"))
            pipeline.drain()
            records = pipeline.exception_records()
        finally:
            pipeline.close()  # flushes the Sentry transport
        assert len(records) == sent  # sampling applies to Sentry only
        assert low <= len(ingest.events) <= high, (rate, len(ingest.events))


def test_before_send_hooks_redact_or_drop(tmp_path: Path, ingest: Ingest) -> None:
    pipeline = capture(tmp_path, dsn=ingest.dsn)
    errors = pipeline.errors

    def redact(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        for value in event["exception"]["values"]:
            value["value"] = value["value"].replace("order-7731", "[order]")
        return None if "drop me" in event["exception"]["values"][0]["value"] else event

    def explode(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        if "explode" in event["exception"]["values"][0]["value"]:
            raise RuntimeError("redaction bug")
        return event

    errors.before_send.extend([redact, explode])
    try:
        for message in ("card 4111111111111111 declined for order-7731", "drop me", "explode here"):
            track_error(ErrorEvent(message=message, error_type="Payment"))
        pipeline.drain()
        assert errors.flush(5)
        events = ingest.wait_for(1)
    finally:
        pipeline.close()
    # The pipeline's redaction policy runs first (the card number), then the application's hooks.
    sent = [e["exception"]["values"][0]["value"] for e in events]
    assert sent == ["card [REDACTED:credit_card] declined for [order]"]
    assert SELF_TELEMETRY.snapshot().errors["errors.sentry.before_send"] == 1


def test_a_slow_sentry_endpoint_does_not_hold_up_tracking(tmp_path: Path, ingest: Ingest) -> None:
    ingest.hold.clear()  # the endpoint accepts connections and never answers until released
    pipeline = capture(tmp_path, dsn=ingest.dsn)
    try:
        for n in range(300):
            track_error(ErrorEvent(message=f"while sentry hangs {n}", error_type="Hang"))
        records = pipeline.exception_records()  # every error grouped and exported meanwhile
        assert len(records) == 300 and ingest.in_flight <= 1 and ingest.events == []
    finally:
        ingest.hold.set()
        pipeline.close()


def test_a_sentry_endpoint_that_is_down_loses_nothing_else(tmp_path: Path) -> None:
    down = Ingest()
    dsn = down.dsn
    down.close()  # nothing listens on that port any more
    pipeline = capture(tmp_path, dsn=dsn)
    try:
        for n in range(20):
            track_error(ErrorEvent(message=f"offline {n}", error_type="Offline"))
        assert len(pipeline.exception_records()) == 20
    finally:
        pipeline.close()


def test_a_malformed_dsn_is_reported_without_its_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = capture(tmp_path, dsn="not-a-dsn-secretvalue")
    try:
        track_error(ErrorEvent(message="still tracked", error_type="X"))
        assert len(pipeline.exception_records()) == 1
        assert pipeline.errors.sentry is None
    finally:
        pipeline.close()
    assert "secretvalue" not in capsys.readouterr().err
