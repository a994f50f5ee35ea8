"""The span hook queues the parts of a span the worker reads, the same on the fast path and the public one."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanContext, SpanKind

from ricecoder_otel.performance.otel import PerformanceSpanProcessor, span_record
from ricecoder_otel.performance.profiler import ActiveSpans


class PublicOnly(ReadableSpan):
    """A ReadableSpan subclass: the hook must read it through its public properties."""


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
    processor = PerformanceSpanProcessor(ActiveSpans())
    processor.on = True
    processor.end(span)  # the SDK's own span: the hook reads its fields
    processor.end(copy)  # any other ReadableSpan: the public properties, through span_record
    fast, public = processor.queue
    assert public == span_record(copy)
    assert fast[:8] == public[:8]
    assert dict(fast[8]) == dict(public[8]) == {"db.system": "sqlite"}
    trace_id, span_id, parent, kind, name, scope, start, end, _ = fast
    context = span.get_span_context()
    assert (trace_id, span_id) == (context.trace_id, context.span_id)
    assert parent is not None and parent == span.parent
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
    [record] = processor.queue
    assert record[:3] == (span.get_span_context().trace_id, span.get_span_context().span_id, None)
    # The span's own context is not kept: it dies with the exported span, not at the worker's pass.
    assert not any(isinstance(part, SpanContext) for part in record)


def test_a_span_without_a_context_is_not_queued() -> None:
    span = ReadableSpan("no context")
    assert span_record(span) is None
