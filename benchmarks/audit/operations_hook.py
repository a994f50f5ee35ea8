"""Per-span cost of the audited-operations hook (compliance.audit.operations), in one run.

Two measurements, interleaved round by round so load changes hit every case alike:

* whole span: real SDK spans started and ended through a TracerProvider holding only the
  kernel's SpanHooks;
* dispatch only: ``SpanHooks.on_end`` called on one finished span, which isolates the hook.

Cases: (a) no hook on, (b) the audit hook on and the route matching nothing, (c) the hook on and
the route matching (the entry is built and queued; the writer is not started, so nothing is
appended; the queue is emptied between rounds). Reported: ns per span and the ratios to (a).

    .venv/bin/python -m benchmarks.audit.operations_hook [--spans 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from ricecoder_otel.compliance.audit.operations import AuditWriter, OperationMatcher
from ricecoder_otel.compliance.audit.otel import span_entry
from ricecoder_otel.config.model import AuditedOperations
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks


def attributes(route: str) -> dict[str, object]:
    return {"http.route": route, "http.request.method": "GET", "http.response.status_code": 200, "enduser.id": "a"}


def run(route: str, spans: int) -> float:
    tracer = provider.get_tracer("bench")
    attrs = attributes(route)
    started = time.perf_counter_ns()
    for _ in range(spans):
        tracer.start_span("GET", kind=SpanKind.SERVER, attributes=attrs).end()  # type: ignore[arg-type]
    return (time.perf_counter_ns() - started) / spans


def dispatch(route: str, hooks: SpanHooks, spans: int) -> float:
    span = TracerProvider().get_tracer("bench").start_span("GET", kind=SpanKind.SERVER, attributes=attributes(route))  # type: ignore[arg-type]
    span.end()
    on_end = hooks.on_end
    started = time.perf_counter_ns()
    for _ in range(spans):
        on_end(span)  # type: ignore[arg-type]
    return (time.perf_counter_ns() - started) / spans


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    matcher = OperationMatcher([AuditedOperations(tag="phi", routes=["/patients/*", "/records/*"]),
                                AuditedOperations(tag="admin", routes=["/admin/*"])])  # fmt: skip
    writer = AuditWriter(lambda: None, 10**9)

    def on_end(span):  # type: ignore[no-untyped-def]
        entry = span_entry(span, matcher)
        if entry is not None:
            writer.offer(entry)

    hooks = SpanHooks()
    provider = TracerProvider()
    provider.add_span_processor(hooks)
    hook = SpanHook("audit", on_end=on_end, server_only=True)
    cases = (("no hook", "/orders/{id}", False), ("hook, no match", "/orders/{id}", True),
             ("hook, match", "/patients/{id}", True))  # fmt: skip
    whole: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    only: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.rounds):
        for name, route, on in cases:
            hooks.switch(hook, on)
            whole[name].append(run(route, args.spans))
            only[name].append(dispatch(route, hooks, args.spans * 10))
            writer._queue.clear()
    for title, results in (("whole span", whole), ("dispatch only", only)):
        base = statistics.median(results["no hook"])
        print(f"\n{title}\n\n| case | ns per span (median of {args.rounds}) | ratio to no hook |\n|---|---|---|")
        for name, values in results.items():
            median = statistics.median(values)
            print(f"| {name} | {median:,.0f} | {median / base:.3f} |")
