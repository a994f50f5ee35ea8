"""An anomaly's exemplar trace survives the gateway's tail sampling because the episode tags it.

The shipped agent -> gateway path runs with baseline sampling at 0 % and the latency policy out
of reach, so the only way a trace is kept is the gateway's ``anomalies`` policy
(``ricecoder.anomaly=true`` on any span of the trace). The real pipeline (ManualClock, OTLP/HTTP
to the agent) sends twenty minutes of healthy ``GET /orders`` windows, then a twentyfold
slowdown. The anomaly detector's episode points at an exemplar request and adds a tag span to
its trace, exported after the request's own spans (as in production, where the tag follows at
the next metrics collection); the gateway keeps exactly the tagged traces, whole (the request
span and the tag), and drops every other one, including the untagged slow requests of the same
windows.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ricecoder_otel.anomaly.otel import TAG_ATTRIBUTE, TAG_SPAN
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import Pipeline, build_pipeline
from ricecoder_otel.testing.memory import ManualClock
from tests.harness.collector import (
    CollectorHandle,
    agent_env,
    attributes,
    gateway_env,
    iter_spans,
    shipped,
    start_collector,
    traces_decided,
    wait_until,
)

ROUTE = "/orders"
SERIES = f"http.server.request.duration{{http.route={ROUTE}}}"


@pytest.fixture
def gateway_path(tmp_path: Path) -> Iterator[tuple[CollectorHandle, CollectorHandle]]:
    """(agent, gateway): baseline sampling 0 %, slow traces only past ten minutes, decisions after 5 s."""
    gateway = gateway_env(tmp_path / "gateway", sampling_percentage=0, decision_wait_s=5)
    gateway["GATEWAY_SLOW_TRACE_MS"] = "600000"
    gateway_handle = start_collector(shipped("gateway.yaml"), gateway, tmp_path / "gateway", name="gateway")
    try:
        agent = agent_env(tmp_path / "agent", gateway["GATEWAY_OTLP_GRPC_ENDPOINT"])
        agent_handle = start_collector(shipped("agent.yaml"), agent, tmp_path / "agent", name="agent")
    except BaseException:
        gateway_handle.stop()
        raise
    yield agent_handle, gateway_handle
    agent_handle.stop()
    gateway_handle.stop()


def _window(pipeline: Pipeline, clock: ManualClock, latencies: list[float]) -> set[str]:
    clock.advance(10)
    start_ns = int(clock() * 1e9)
    tracer = pipeline.tracer_provider.get_tracer("shop")
    ids = set()
    for latency in latencies:
        span = tracer.start_span(f"GET {ROUTE}", kind=SpanKind.SERVER, start_time=start_ns)
        span.set_attribute("http.route", ROUTE)
        span.set_attribute("http.request.method", "GET")
        span.set_attribute("http.response.status_code", 200)
        span.end(end_time=start_ns + int(latency * 1e9))
        ids.add(f"{span.get_span_context().trace_id:032x}")
    pipeline.tracer_provider.force_flush()  # the requests leave first, in their own export
    pipeline.force_flush()  # then one metrics interval: the anomaly feed runs, a tag leaves on its own
    return ids


def _kept(gateway: CollectorHandle) -> dict[str, list[dict[str, Any]]]:
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, span in iter_spans(Path(gateway.env["GATEWAY_FILE_DIR"]) / "traces.jsonl"):
        traces[span["traceId"]].append(span)
    return traces


def test_the_gateway_keeps_the_exemplar_trace_an_anomaly_tagged_and_drops_the_rest(
    tmp_path: Path, gateway_path: tuple[CollectorHandle, CollectorHandle]
) -> None:
    agent, gateway = gateway_path
    agent_http = f"http://{agent.env['AGENT_OTLP_HTTP_ENDPOINT']}"
    memory_spans, memory_logs = InMemorySpanExporter(), InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    clock = ManualClock(time.time() - 3600)
    pipeline = build_pipeline(
        MonitoringConfig.model_validate({"service_name": "shop", "store": {"location": str(tmp_path / "store.db")}}),
        set_global=False,
        span_exporters=[OTLPSpanExporter(endpoint=f"{agent_http}/v1/traces"), memory_spans],
        metric_readers=[],
        log_exporters=[OTLPLogExporter(endpoint=f"{agent_http}/v1/logs"), memory_logs],
        clock=clock,
        watch_config=False,
    )
    rng = random.Random(3)
    healthy: set[str] = set()
    slow: set[str] = set()
    try:
        for _ in range(120):  # 20 minutes of healthy 10-second windows
            healthy |= _window(pipeline, clock, [rng.lognormvariate(-3.0, 0.2) for _ in range(8)])
        for _ in range(3):  # the route slows down twentyfold (about 1 s: no latency policy reaches it)
            slow |= _window(pipeline, clock, [rng.uniform(0.9, 1.1) for _ in range(8)])
    finally:
        pipeline.shutdown()

    [event] = [
        r.log_record
        for r in memory_logs.get_finished_logs()
        if r.log_record.event_name == "ricecoder.anomaly"
        and r.log_record.attributes is not None
        and r.log_record.attributes["ricecoder.anomaly.series"] == SERIES
    ]
    assert event.attributes is not None
    exemplar = str(event.attributes["ricecoder.anomaly.exemplar.trace_id"])
    tags = [s for s in memory_spans.get_finished_spans() if s.name == TAG_SPAN]
    tagged = {f"{s.context.trace_id:032x}" for s in tags if s.context is not None}
    assert exemplar in tagged and tagged <= slow and len(tagged) < len(slow)
    requests = {
        f"{s.context.span_id:016x}": s for s in memory_spans.get_finished_spans() if s.context and s.name != TAG_SPAN
    }

    # Every trace sent has been decided on (kept or dropped) before we judge what was kept.
    sent = len(healthy) + len(slow)
    wait_until(lambda: traces_decided(gateway) >= sent, f"the gateway's decisions on {sent} traces", 90)
    wait_until(lambda: tagged <= set(_kept(gateway)), "the tagged traces in the gateway's traces file", 30)
    kept = _kept(gateway)
    assert set(kept) == tagged  # healthy and untagged slow traces dropped: only the tag kept these
    exemplar_spans = kept[exemplar]
    names = sorted(span["name"] for span in exemplar_spans)
    assert names == sorted([f"GET {ROUTE}", TAG_SPAN])
    [request] = [span for span in exemplar_spans if span["name"] == f"GET {ROUTE}"]
    [tag] = [span for span in exemplar_spans if span["name"] == TAG_SPAN]
    assert tag["parentSpanId"] == request["spanId"]
    assert attributes(tag)[TAG_ATTRIBUTE] is True
    assert attributes(tag)["ricecoder.anomaly.series"] == SERIES
    sent_request = requests[request["spanId"]]
    assert int(request["endTimeUnixNano"]) == sent_request.end_time == int(tag["startTimeUnixNano"])
