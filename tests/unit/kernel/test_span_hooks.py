"""The span processor capabilities share: dispatch by kind, switching, containment, self-timing."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, TracerProvider
from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.guard import TIMING_SAMPLE
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks


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
