"""The export path's shortcut for spans known clean, and the SDK fields it (and the span hooks) read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, SpanContext, Status, StatusCode, TraceFlags

from ricecoder_otel.compliance.redaction.engine import Redactor, build_policy
from ricecoder_otel.compliance.redaction.otel import SpanRedactor
from ricecoder_otel.testing import RicecoderCapture

CLEAN = {"http.route": "/orders/<id>", "http.request.method": "GET", "http.response.status_code": 200}


def _finished(change: Callable[..., None] | None = None, name: str = "GET /orders/<id>") -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    links = [Link(SpanContext(7, 9, is_remote=True), {"peer": "ana@example.com"})] if change is _link else None
    with provider.get_tracer("t").start_as_current_span(name, attributes=CLEAN, links=links) as span:
        if change is not None and change is not _link:
            change(span)
    (finished,) = exporter.get_finished_spans()
    provider.shutdown()
    return finished


def _link(span: object) -> None:
    """Marker: the span gets a link whose attributes hold an email."""


def _redactor() -> tuple[SpanRedactor, Redactor]:
    redactor = Redactor(build_policy())
    return SpanRedactor(lambda: redactor, lambda tally, signal: None), redactor


def test_a_span_seen_clean_before_passes_unchanged_as_the_same_object() -> None:
    transform, redactor = _redactor()
    first = _finished()
    assert transform(first) is first  # the full pass: every value scanned once
    assert redactor.known_clean(first.name, dict(first.attributes or {}))
    again = _finished()
    assert transform(again) is again


@pytest.mark.parametrize(
    ("change", "leak"),
    [
        (lambda span: span.set_attribute("note", "mail ana@example.com"), "attributes"),
        (lambda span: span.set_attribute("http.route", "/users/ana@example.com"), "attributes"),
        (lambda span: span.add_event("retry", {"to": "ana@example.com"}), "events"),
        (lambda span: span.set_status(Status(StatusCode.ERROR, "failed for ana@example.com")), "status"),
        (_link, "links"),
    ],
    ids=["new-attribute", "changed-value", "event", "status-description", "link"],
)
def test_anything_not_known_clean_takes_the_full_pass(change: Callable[..., None], leak: str) -> None:
    transform, _ = _redactor()
    transform(_finished())  # name and attributes now known clean
    span = _finished(change)
    redacted = transform(span)
    assert redacted is not None and redacted is not span
    text = str(redacted.to_json())
    assert "ana@example.com" not in text and "[REDACTED:email]" in text, leak


def test_a_new_name_takes_the_full_pass() -> None:
    transform, _ = _redactor()
    transform(_finished())
    redacted = transform(_finished(name="GET /users/ana@example.com"))
    assert redacted is not None and redacted.name == "GET /users/[REDACTED:email]"


def test_the_pipeline_exports_repeated_clean_spans_as_they_are(ricecoder_capture: RicecoderCapture) -> None:
    tracer = ricecoder_capture.pipeline.tracer_provider.get_tracer("t")
    for n in range(3):
        with tracer.start_as_current_span("GET /orders/<id>", attributes=CLEAN):
            pass
        with tracer.start_as_current_span("GET /orders/<id>", attributes={**CLEAN, "user.email": f"u{n}@example.com"}):
            pass
    spans = ricecoder_capture.spans()
    assert [dict(s.attributes or {}) for s in spans[0::2]] == [CLEAN] * 3
    assert [dict(s.attributes or {}).get("user.email") for s in spans[1::2]] == ["[REDACTED:email]"] * 3


def test_the_sdk_keeps_what_the_hot_paths_read_where_they_read_it() -> None:
    """Span hooks, RED metrics, the performance worker and this shortcut read these fields directly;
    this fails first if an SDK release moves them."""
    span = _finished(lambda s: s.add_event("e"))
    fields: object = span
    assert type(fields._attributes) is BoundedAttributes and fields._attributes._dict == CLEAN  # type: ignore[attr-defined]
    assert type(fields._events) is BoundedList and len(fields._events._dq) == 1  # type: ignore[attr-defined]
    assert type(fields._links) is BoundedList and not fields._links._dq  # type: ignore[attr-defined]
    assert fields._status._description is None  # type: ignore[attr-defined]
    context = SpanContext(trace_id=11, span_id=22, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    assert (context[0], context[1], context[3]) == (context.trace_id, context.span_id, context.trace_flags)
