"""The span hook queues the parts of a span the worker reads, the same on the fast path and the public one."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanKind

from ricecoder_otel.performance.otel import PerformanceSpanProcessor
from ricecoder_otel.performance.profiler import ActiveSpans
from ricecoder_otel.performance.spans import span_record


class PublicOnly(ReadableSpan):
    """A ReadableSpan subclass: span_record must use the public properties for it."""


def finished() -> ReadableSpan:
    provider = TracerProvider()
    tracer = provider.get_tracer("tests.performance.records", "1.0")
    with tracer.start_as_current_span("GET /a", kind=SpanKind.SERVER) as server:
        server.set_attribute("http.route", "/a")
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as query:
            query.set_attribute("db.system", "sqlite")
    return query._readable_span()  # type: ignore[attr-defined,no-any-return]


def test_the_fast_path_reads_what_the_public_properties_say() -> None:
    span = finished()
    copy = PublicOnly(
        span.name, span.get_span_context(), span.parent, kind=span.kind, attributes=span.attributes,
        start_time=span.start_time, end_time=span.end_time, instrumentation_scope=span.instrumentation_scope,
    )  # fmt: skip
    fast, public = span_record(span), span_record(copy)
    assert fast[:7] == public[:7]
    assert dict(fast[7]) == dict(public[7]) == {"db.system": "sqlite"}
    context, parent, kind, name, scope, start, end, _ = fast
    assert context == span.get_span_context() and parent is not None and parent == span.parent
    assert (kind, name, start, end) == (SpanKind.CLIENT, "SELECT", span.start_time, span.end_time)
    assert scope is not None and scope.name == "tests.performance.records"


def test_the_queue_does_not_keep_the_spans() -> None:
    processor = PerformanceSpanProcessor(ActiveSpans())
    processor.on = True
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("tests.performance.records")
    with tracer.start_as_current_span("GET /a", kind=SpanKind.SERVER) as span:
        pass
    assert len(processor.queue) == 1
    assert not any(isinstance(part, (ReadableSpan, trace.Span)) for part in processor.queue[0])
    assert span.get_span_context() == processor.queue[0][0]
