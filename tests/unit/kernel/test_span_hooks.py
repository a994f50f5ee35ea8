"""The span processor capabilities share: dispatch by kind, switching, containment, self-timing."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, TracerProvider
from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.guard import TIMING_SAMPLE
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks, has_events, span_attributes


def _provider(hooks: SpanHooks) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(hooks)
    return provider


def test_server_only_hooks_see_server_spans_and_the_others_see_every_span() -> None:
    hooks = SpanHooks()
    seen: dict[str, list[str]] = {"server": [], "all": [], "started": []}
    server = SpanHook("a", on_end=lambda span: seen["server"].append(span.name), server_only=True)
    every = SpanHook("b", on_end=lambda span: seen["all"].append(span.name))
    starts = SpanHook("c", on_start=lambda span, _ctx: seen["started"].append(span.name), server_only=True)
    for hook in (server, every, starts):
        hooks.switch(hook, True)
    tracer = _provider(hooks).get_tracer("t")
    tracer.start_span("GET /", kind=SpanKind.SERVER).end()
    tracer.start_span("SELECT", kind=SpanKind.CLIENT).end()
    assert seen == {"server": ["GET /"], "all": ["GET /", "SELECT"], "started": ["GET /"]}


def test_a_switched_off_hook_is_not_called_and_switching_is_idempotent() -> None:
    hooks = SpanHooks()
    calls: list[str] = []
    hook = SpanHook("a", on_end=lambda span: calls.append(span.name))
    hooks.switch(hook, True)
    hooks.switch(hook, True)
    tracer = _provider(hooks).get_tracer("t")
    tracer.start_span("one").end()
    hooks.switch(hook, False)
    hooks.switch(hook, False)
    tracer.start_span("two").end()
    hooks.switch(hook, True)
    tracer.start_span("three").end()
    assert calls == ["one", "three"] and hooks.is_on(hook)


def test_a_failing_hook_is_counted_and_the_others_still_run() -> None:
    hooks = SpanHooks()
    after: list[str] = []

    def broken_end(span: ReadableSpan) -> None:
        raise RuntimeError("bug")

    def broken_start(span: Span, context: Context | None) -> None:
        raise ValueError("bug")

    hooks.switch(SpanHook("broken.component", on_end=broken_end, on_start=broken_start), True)
    hooks.switch(SpanHook("fine", on_end=lambda span: after.append(span.name)), True)
    before = SELF_TELEMETRY.snapshot().errors.get("broken.component", 0)
    tracer = _provider(hooks).get_tracer("t")
    for n in range(3):
        tracer.start_span(f"s{n}").end()  # must not raise into the application
    assert after == ["s0", "s1", "s2"]
    assert SELF_TELEMETRY.snapshot().errors["broken.component"] - before == 6  # 3 starts + 3 ends


def test_the_time_each_hook_takes_is_sampled_into_self_telemetry() -> None:
    hooks = SpanHooks()
    hooks.switch(SpanHook("timed.component", on_end=lambda span: None), True)
    tracer = _provider(hooks).get_tracer("t")
    for n in range(TIMING_SAMPLE * 2):
        tracer.start_span(f"s{n}").end()
    assert SELF_TELEMETRY.snapshot().processor_time_ns.get("timed.component", 0) > 0


def test_hooks_read_a_finished_spans_attributes_and_events_without_copies() -> None:
    provider = TracerProvider()
    span = provider.get_tracer("t").start_span("GET /", attributes={"http.route": "/", "user.id": "u1"})
    span.end()
    readable = span._readable_span()
    fast = span_attributes(readable)
    assert dict(fast) == dict(readable.attributes or {})
    # The pinned SDK keeps a plain dict behind the read-only proxy: if that changes, this fails
    # (and span_attributes falls back to the public, slower property).
    assert type(fast) is dict
    assert not has_events(readable)
    with_event = provider.get_tracer("t").start_span("job")
    with_event.add_event("exception", {"exception.type": "ValueError"})
    with_event.end()
    assert has_events(with_event._readable_span())


def test_span_attributes_fall_back_to_the_public_property_for_other_span_objects() -> None:
    class Foreign:
        attributes = {"k": "v"}

    assert span_attributes(Foreign()) == {"k": "v"}  # type: ignore[arg-type]


def test_exporting_processors_get_every_span_after_the_hooks_and_flush_and_shut_down_with_them() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from ricecoder_otel.kernel.export import CountingBatchSpanProcessor

    hooks = SpanHooks()
    exporter = InMemorySpanExporter()
    exporting = CountingBatchSpanProcessor(exporter)
    exported_when_hooked: list[int] = []
    hooks.switch(SpanHook("a", on_end=lambda span: exported_when_hooked.append(len(exporter.get_finished_spans())),
                          server_only=True), True)  # fmt: skip
    hooks.add_exporting(exporting)
    provider = _provider(hooks)
    tracer = provider.get_tracer("t")
    tracer.start_span("GET /", kind=SpanKind.SERVER).end()
    tracer.start_span("SELECT", kind=SpanKind.CLIENT).end()  # no hook for it: exported all the same
    assert provider.force_flush(5_000)
    assert [s.name for s in exporter.get_finished_spans()] == ["GET /", "SELECT"]
    assert exported_when_hooked == [0]
    provider.shutdown()
    tracer.start_span("late", kind=SpanKind.SERVER).end()
    assert [s.name for s in exporter.get_finished_spans()] == ["GET /", "SELECT"]  # shut down with the hooks
