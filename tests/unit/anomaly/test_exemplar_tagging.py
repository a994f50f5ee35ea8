"""An anomaly episode tags its exemplar trace: a ``ricecoder.anomaly=true`` span joins that trace."""

from __future__ import annotations

import random

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from ricecoder_otel.anomaly import AnomalyMonitor, Exemplar
from ricecoder_otel.anomaly.otel import TAG_SPAN
from ricecoder_otel.testing import RicecoderCapture

from .conftest import START, gaussian

ROUTE = "/orders"
SERIES = f"http.server.request.duration{{http.route={ROUTE}}}"


def _window(capture: RicecoderCapture, latencies: list[float]) -> dict[str, ReadableSpan]:
    """One 10-second window of server spans on ROUTE, then a collection; the spans by trace id."""
    capture.advance(10)
    start_ns = int(capture.clock() * 1e9)
    tracer = capture.pipeline.tracer_provider.get_tracer("test")
    sent = {}
    for latency in latencies:
        span = tracer.start_span(f"GET {ROUTE}", kind=SpanKind.SERVER, start_time=start_ns)
        span.set_attribute("http.route", ROUTE)
        span.set_attribute("http.request.method", "GET")
        span.set_attribute("http.response.status_code", 200)
        span.end(end_time=start_ns + int(latency * 1e9))
        sent[f"{span.get_span_context().trace_id:032x}"] = span
    capture.collect()
    return sent  # type: ignore[return-value]


def test_the_exemplar_request_of_an_episode_gets_a_tag_span_in_its_trace(ricecoder_capture: RicecoderCapture) -> None:
    capture = ricecoder_capture
    rng = random.Random(3)
    for _ in range(120):
        _window(capture, [rng.lognormvariate(-3.0, 0.2) for _ in range(8)])
    assert capture.spans(TAG_SPAN) == []  # healthy traffic tags nothing
    slow: dict[str, ReadableSpan] = {}
    for _ in range(3):  # the route slows down twentyfold
        slow |= _window(capture, [rng.uniform(0.9, 1.1) for _ in range(8)])

    [event] = [
        r.log_record
        for r in capture.events("ricecoder.anomaly")
        if r.log_record.attributes is not None and r.log_record.attributes["ricecoder.anomaly.series"] == SERIES
    ]
    assert event.attributes is not None
    exemplar_trace = str(event.attributes["ricecoder.anomaly.exemplar.trace_id"])
    request = slow[exemplar_trace]
    tags = capture.spans(TAG_SPAN)
    tagged = {f"{t.context.trace_id:032x}" for t in tags if t.context is not None}
    assert exemplar_trace in tagged
    assert tagged <= set(slow)  # only requests of the anomalous windows
    [tag] = [t for t in tags if t.context is not None and f"{t.context.trace_id:032x}" == exemplar_trace]
    assert tag.attributes is not None and tag.attributes["ricecoder.anomaly"] is True
    assert tag.attributes["ricecoder.anomaly.series"] == SERIES
    assert float(tag.attributes["ricecoder.anomaly.score"]) >= 0.5  # type: ignore[arg-type]
    # A child of the exemplar request, at the request's end: the trace's duration is unchanged.
    assert tag.parent is not None and request.context is not None
    assert tag.parent.span_id == request.context.span_id
    assert tag.start_time == tag.end_time == request.end_time
    assert tag.kind is SpanKind.INTERNAL


def test_the_monitor_tells_exemplar_listeners_once_per_new_exemplar_request() -> None:
    monitor = AnomalyMonitor()
    heard: list[tuple[str, str, float]] = []
    monitor.add_exemplar_listener(lambda key, ex, score: heard.append((key, ex.trace_id, score)))
    values = [*gaussian(400), 400.0, 420.0, 410.0, *gaussian(30, seed=9)]
    for i, v in enumerate(values):
        monitor.observe("cpu", v, START + 60 * i, Exemplar(f"{i:032x}", f"{i:016x}", int((START + 60 * i) * 1e9)))
    trace_ids = [trace for _, trace, _ in heard]
    assert trace_ids[0] == f"{400:032x}"  # the point that opened the episode, at once
    assert len(trace_ids) == len(set(trace_ids)) and set(trace_ids) <= {f"{i:032x}" for i in (400, 401, 402)}
    [closing] = [ep for ep in monitor.drain_episodes() if not ep.is_open]
    assert closing.trace_id == trace_ids[-1]  # the episode's exemplar is always one that was tagged
    assert all(score >= 0.5 for _, _, score in heard)
