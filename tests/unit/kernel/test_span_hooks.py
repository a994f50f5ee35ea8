"""The span processor capabilities share: dispatch by kind, switching, containment, self-timing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, TracerProvider
from opentelemetry.trace import SpanKind, Tracer

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


def _shapes(tracer: Tracer) -> None:
    """Span shapes the gates tell apart: status, events, attributes, kinds."""
    from opentelemetry.trace import Status, StatusCode

    for kind in (SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL):
        tracer.start_span(f"plain {kind.name}", kind=kind, attributes={"http.route": "/a"}).end()
        failed = tracer.start_span(f"failed {kind.name}", kind=kind)
        failed.set_status(Status(StatusCode.ERROR, "boom"))
        failed.end()
        ok = tracer.start_span(f"ok {kind.name}", kind=kind)
        ok.set_status(Status(StatusCode.OK))
        ok.end()
        evented = tracer.start_span(f"event {kind.name}", kind=kind)
        evented.add_event("cache.miss")
        evented.end()
        raised = tracer.start_span(f"exception {kind.name}", kind=kind)
        raised.record_exception(ValueError("bad"))
        raised.end()
        tracer.start_span(f"user {kind.name}", kind=kind, attributes={"enduser.id": "u1"}).end()
        tracer.start_span(f"session {kind.name}", kind=kind, attributes={"session.id": "s1"}).end()
        tracer.start_span(f"empty user {kind.name}", kind=kind, attributes={"user.id": ""}).end()


def test_gated_hooks_see_exactly_the_spans_their_own_check_lets_through() -> None:
    """A gate is the hook's own first check moved into the dispatcher: each gated hook gets the
    spans an ungated hook would have kept with that check, the same span objects, in order."""
    from opentelemetry.trace import StatusCode

    def failed_or_events(span: ReadableSpan) -> bool:
        return (span.status.status_code is StatusCode.ERROR) or bool(span.events)

    users = frozenset({"user.id", "enduser.id"})

    def has_user(span: ReadableSpan) -> bool:
        return not users.isdisjoint(span.attributes or {})

    hooks = SpanHooks()
    seen: dict[str, list[ReadableSpan]] = {name: [] for name in ("fail", "fail_ref", "user", "user_ref", "all")}

    def keep(name: str, check: Callable[[ReadableSpan], bool] | None = None) -> Callable[[ReadableSpan], None]:
        return lambda span: seen[name].append(span) if check is None or check(span) else None

    for hook in (
        SpanHook("fail", on_end=keep("fail"), failures_only=True),
        SpanHook("fail.ref", on_end=keep("fail_ref", failed_or_events)),
        SpanHook("user", on_end=keep("user"), server_only=True, any_attribute=users),
        SpanHook("user.ref", on_end=keep("user_ref", has_user), server_only=True),
        SpanHook("all", on_end=keep("all")),
    ):
        hooks.switch(hook, True)
    _shapes(_provider(hooks).get_tracer("t"))

    assert [s.name for s in seen["fail"]] == [
        f"{shape} {kind}" for kind in ("SERVER", "CLIENT", "INTERNAL") for shape in ("failed", "event", "exception")
    ]
    assert seen["fail"] == seen["fail_ref"]
    assert [s.name for s in seen["user"]] == ["user SERVER", "empty user SERVER"]
    assert seen["user"] == seen["user_ref"]
    assert len(seen["all"]) == 24


def test_gates_read_other_span_objects_through_their_public_properties() -> None:
    """A ReadableSpan built by hand keeps its events as a tuple and may have no attributes: the
    gates fall back to the public properties and decide as the SDK's own spans do."""
    from opentelemetry.sdk.trace import Event
    from opentelemetry.trace import SpanContext, Status, StatusCode

    hooks = SpanHooks()
    failures: list[str] = []
    users: list[str] = []
    hooks.switch(SpanHook("f", on_end=lambda s: failures.append(s.name), failures_only=True), True)
    hooks.switch(SpanHook("u", on_end=lambda s: users.append(s.name), any_attribute=frozenset({"user.id"})), True)
    context = SpanContext(1, 2, is_remote=False)
    for span in (
        ReadableSpan("bare", context),
        ReadableSpan("event", context, events=(Event("e"),)),
        ReadableSpan("failed", context, status=Status(StatusCode.ERROR)),
        ReadableSpan("user", context, attributes={"user.id": "u1"}),
    ):
        hooks.on_end(span)
    assert failures == ["event", "failed"]
    assert users == ["user"]


def test_a_hook_with_two_gates_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"'both'.*pick one"):
        SpanHook("both", on_end=lambda span: None, failures_only=True, any_attribute=frozenset({"user.id"}))
