"""The span hook runs on every span's end: only spans with error status or an exception event queue anything."""

from __future__ import annotations

from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.trace import Link, SpanContext, Status, StatusCode

from ricecoder_otel.errors.intake import RawError
from ricecoder_otel.errors.sources import ErrorSpanProcessor
from ricecoder_otel.kernel.span_hooks import has_events, has_links


def finished_spans() -> dict[str, ReadableSpan]:
    provider = TracerProvider()
    tracer = provider.get_tracer("tests.errors.hook")
    spans: dict[str, ReadableSpan] = {}
    with tracer.start_as_current_span("clean") as span:
        span.set_attribute("http.route", "/a")
    spans["clean"] = span  # type: ignore[assignment]
    with tracer.start_as_current_span("event") as span:
        span.add_event("cache.miss")
    spans["event"] = span  # type: ignore[assignment]
    with tracer.start_as_current_span("exception", record_exception=False) as span:
        span.record_exception(ValueError("bad 7"))
    spans["exception"] = span  # type: ignore[assignment]
    with tracer.start_as_current_span("status", set_status_on_exception=False) as span:
        span.set_status(Status(StatusCode.ERROR, "upstream failed"))
    spans["status"] = span  # type: ignore[assignment]
    return {name: s._readable_span() for name, s in spans.items()}  # type: ignore[attr-defined]


def test_only_failed_spans_and_exception_events_are_submitted() -> None:
    submitted: list[RawError] = []

    def submit(raw: RawError) -> bool:
        submitted.append(raw)
        return True

    hook = ErrorSpanProcessor(submit)
    hook.on = True
    spans = finished_spans()
    for span in spans.values():
        hook.end(span)
    assert [(r.source, r.error_type, (r.context or {})["span.name"]) for r in submitted] == [
        ("span", "ValueError", "exception"),
        ("span.status", "SpanError", "status"),
    ]


def test_the_event_check_agrees_with_the_public_events_for_every_shape() -> None:
    spans = finished_spans()
    for span in spans.values():  # the SDK's BoundedList (read through its deque)
        assert has_events(span) == bool(span.events)
        assert has_links(span) == bool(span.links)
    context = SpanContext(1, 2, is_remote=False)
    plain = ReadableSpan("plain", context, events=(), links=())  # any other sequence: the public property
    with_event = ReadableSpan("with", context, events=(Event("exception", {"exception.type": "E"}),),
                              links=(Link(context),))
    assert (has_events(plain), has_events(with_event)) == (False, True)
    assert (has_links(plain), has_links(with_event)) == (False, True)
