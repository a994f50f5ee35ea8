"""The redacted copy of a span is the span the SDK's constructor would build, field for field."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from ricecoder_otel.compliance.redaction.otel import copy_span

PUBLIC = ("name", "context", "parent", "resource", "attributes", "events", "links", "kind", "status", "start_time",
          "end_time", "instrumentation_scope", "dropped_events", "dropped_links")  # fmt: skip


def _public(span: ReadableSpan) -> dict[str, Any]:
    values = {name: getattr(span, name) for name in PUBLIC}
    values["attributes"] = dict(values["attributes"] or {})
    values["events"] = [(e.name, dict(e.attributes or {}), e.timestamp) for e in values["events"]]
    values["links"] = [(link.context, dict(link.attributes or {})) for link in values["links"]]
    values["status"] = (values["status"].status_code, values["status"].description)
    return values


def _ended_sdk_span() -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    other = SpanContext(trace_id=7, span_id=9, is_remote=True)
    with provider.get_tracer("test", "1.2").start_as_current_span(
        "GET /users/ana@example.com", kind=SpanKind.SERVER, attributes={"user.email": "ana@example.com"},
        links=[Link(other, {"peer": "203.0.113.9"})],
    ) as span:
        span.add_event("retry", {"attempt": 2})
        span.set_status(Status(StatusCode.ERROR, "failed for ana@example.com"))
    (finished,) = exporter.get_finished_spans()
    provider.shutdown()
    return finished


def _plain(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=span.name, context=span.context, parent=span.parent, resource=span.resource, attributes=span.attributes,
        events=span.events, links=span.links, kind=span.kind, status=span.status, start_time=span.start_time,
        end_time=span.end_time, instrumentation_scope=span.instrumentation_scope,
    )  # fmt: skip


@pytest.mark.parametrize("plain", [False, True], ids=["sdk-span", "readable-span"])
def test_copying_a_span_matches_the_constructor(plain: bool) -> None:
    span = _plain(_ended_sdk_span()) if plain else _ended_sdk_span()
    status = Status(StatusCode.ERROR, "failed for [REDACTED:email]")
    attributes = {"user.email": "[REDACTED:email]"}
    events = [Event("retry", {"attempt": 3}, timestamp=5)]
    copied = copy_span(span, "GET /users/[REDACTED:email]", attributes, events, None, status)
    built = ReadableSpan(
        name="GET /users/[REDACTED:email]", context=span.context, parent=span.parent, resource=span.resource,
        attributes=attributes, events=events, links=span.links, kind=span.kind, status=status,
        start_time=span.start_time, end_time=span.end_time, instrumentation_scope=span.instrumentation_scope,
    )  # fmt: skip
    assert type(copied) is ReadableSpan
    assert _public(copied) == _public(built)
    assert copied.to_json() == built.to_json()
    assert span.name == "GET /users/ana@example.com"  # the original is unchanged
    assert dict(span.attributes or {}) == {"user.email": "ana@example.com"}


def test_a_span_object_without_the_sdk_fields_goes_through_the_constructor() -> None:
    class Foreign(ReadableSpan):
        """A span implementation that keeps its fields elsewhere (no instance dict entries)."""

        def __init__(self) -> None:
            pass

        name = "foreign"  # type: ignore[assignment]
        context = SpanContext(trace_id=1, span_id=2, is_remote=False)  # type: ignore[assignment]
        parent = None
        resource = ReadableSpan(name="r").resource  # type: ignore[assignment]
        events = ()  # type: ignore[assignment]
        links = ()  # type: ignore[assignment]
        kind = SpanKind.CLIENT  # type: ignore[assignment]
        start_time = 1  # type: ignore[assignment]
        end_time = 2  # type: ignore[assignment]
        instrumentation_scope = None

    status = Status(StatusCode.OK)
    copied = copy_span(Foreign(), "renamed", {"a": "b"}, None, None, status)
    assert (copied.name, dict(copied.attributes or {}), copied.kind, copied.status) == (
        "renamed", {"a": "b"}, SpanKind.CLIENT, status)  # fmt: skip
    assert (copied.start_time, copied.end_time, copied.context.span_id) == (1, 2, 2)  # type: ignore[union-attr]
