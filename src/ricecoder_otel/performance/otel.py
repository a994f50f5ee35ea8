"""The SDK side of performance monitoring: one span processor, and the log records it writes.

:class:`PerformanceSpanProcessor` does O(1) work on the application's thread: ``on_end`` appends
the finished span's plain values to a bounded queue (a full queue drops it and counts the drop); ``on_start``
and ``on_end`` keep the profiler's thread -> open spans map while profiling is on. Everything
else happens on the capability's worker.

What it stores leaves as OpenTelemetry log records (so the embedded store and any OTLP backend
hold them): ``ricecoder.perf.summary`` per operation and finished slot (the exponential
histogram's OTLP fields, percentiles, and for server operations the self time per category),
and ``ricecoder.profile`` per profiled slow request, in that request's trace and span context,
with the collapsed stacks as its body.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from ricecoder_otel._version import __version__
from ricecoder_otel.kernel.guard import shielded
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.span_hooks import span_attributes
from ricecoder_otel.performance.engine import CompletedSlot
from ricecoder_otel.performance.profiler import ActiveSpans, Profile

SpanRecord = tuple[
    int,
    int,
    SpanContext | None,
    SpanKind,
    str,
    InstrumentationScope | None,
    int | None,
    int | None,
    Mapping[str, Any],
]
"""trace id, span id, parent context, kind, name, instrumentation scope, start ns, end ns, attributes
(ids, long-lived objects or plain values: the span, its context and its mutable parts are not kept)."""


def span_record(span: ReadableSpan) -> SpanRecord | None:
    """The parts of a finished span the worker reads, without the span itself (None without a context),
    read through the public properties. The span hook reads the SDK's own ``ReadableSpan`` (what its
    processors receive) field by field instead, in its own body (``test_span_records`` checks both
    give the same record)."""
    context = span.get_span_context()
    if context is None:
        return None
    return (context.trace_id, context.span_id, span.parent, span.kind, span.name, span.instrumentation_scope,
            span.start_time, span.end_time, span_attributes(span))  # fmt: skip


SCOPE = "ricecoder_otel.performance"
SUMMARY_EVENT = "ricecoder.perf.summary"
PROFILE_EVENT = "ricecoder.profile"
QUEUE_SIZE = 20_000


class PerformanceSpanProcessor(SpanProcessor):
    """Queues finished spans for the worker; tracks open spans per thread for the profiler."""

    def __init__(self, active: ActiveSpans, max_queue: int = QUEUE_SIZE) -> None:
        self.active = active
        self.max_queue = max_queue
        self.queue: deque[SpanRecord] = deque()
        """Plain values per finished span, not the spans (see :mod:`~ricecoder_otel.performance.spans`)."""
        self.on = False
        self.profiling = False
        self.wake = threading.Event()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.profiling:  # checked before the guard: off, a span start costs one attribute read
            self._track(span)

    @shielded("performance", None)
    def _track(self, span: Span) -> None:
        context = span.get_span_context()
        self.active.push(threading.get_ident(), context.trace_id, context.span_id)

    def end(self, span: ReadableSpan) -> None:
        """Unguarded: the pipeline calls it through the kernel's span hooks, which contain failures."""
        if self.profiling:
            context = span.get_span_context()
            if context is not None:
                self.active.pop(threading.get_ident(), context.span_id)
        if not self.on:
            return
        queue = self.queue
        if len(queue) >= self.max_queue:
            SELF_TELEMETRY.count_drop("performance")
            return
        if type(span) is ReadableSpan:
            # The SDK's own finished span: its fields, read here (each public property, or a call to a
            # reader, is a Python call per span on the application's thread). A ``SpanContext`` is a
            # tuple: [0] is its trace id and [1] its span id.
            raw: Any = span
            bounded, context = raw._attributes, raw._context
            if type(bounded) is BoundedAttributes and context is not None:
                queue.append((context[0], context[1], raw._parent, raw._kind, raw._name,
                              raw._instrumentation_scope, raw._start_time, raw._end_time, bounded._dict))  # fmt: skip
                return
        record = span_record(span)
        if record is not None:
            queue.append(record)

    _end_shielded = shielded("performance", None)(end)

    def on_end(self, span: ReadableSpan) -> None:
        self._end_shielded(span)

    def shutdown(self) -> None:
        self.on = self.profiling = False

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _context(trace_id: str, span_id: str) -> Context | None:
    try:
        parent = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=False, trace_flags=TraceFlags(1))
    except ValueError:
        return None
    return trace.set_span_in_context(NonRecordingSpan(parent)) if parent.is_valid else None


class PerformanceRecords:
    """Writes summaries and profiles as log records (called on the worker thread)."""

    def __init__(self, logger_provider: LoggerProvider) -> None:
        self._logger = logger_provider.get_logger(SCOPE, __version__)

    def summary(self, slot: CompletedSlot) -> None:
        histogram = slot.histogram
        stats = histogram.summary()
        attributes: dict[str, str | int | float] = {
            "ricecoder.perf.kind": slot.operation.kind,
            "ricecoder.perf.operation": slot.operation.name,
            "ricecoder.perf.window.start": slot.start,
            "ricecoder.perf.window.end": slot.end,
            "ricecoder.perf.count": stats.count,
            "ricecoder.perf.p50": stats.p50,
            "ricecoder.perf.p90": stats.p90,
            "ricecoder.perf.p95": stats.p95,
            "ricecoder.perf.p99": stats.p99,
            "ricecoder.perf.max": stats.max,
            "ricecoder.perf.histogram": json.dumps(histogram.to_dict(), separators=(",", ":")),
        }
        breakdown = slot.breakdown
        if breakdown.count:
            attributes["ricecoder.perf.requests"] = breakdown.count
            attributes["ricecoder.perf.total_s"] = breakdown.total_s
            for category, seconds in breakdown.by_category.items():
                attributes[f"ricecoder.perf.self.{category}_s"] = seconds
        self._logger.emit(
            timestamp=int(slot.end * 1e9),
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body=f"{slot.operation}: p50 {stats.p50 * 1000:.1f} ms, p95 {stats.p95 * 1000:.1f} ms, "
            f"max {stats.max * 1000:.1f} ms over {stats.count}",
            attributes=attributes,
            event_name=SUMMARY_EVENT,
        )

    def profile(
        self, profile: Profile, *, root_span_id: str, at: float, duration_s: float, rate_hz: float,
        attributes: Mapping[str, str],
    ) -> None:  # fmt: skip
        record: dict[str, str | int | float] = {
            "ricecoder.profile.format": "collapsed",
            "ricecoder.profile.samples": profile.samples,
            "ricecoder.profile.rate_hz": rate_hz,
            "ricecoder.profile.duration_s": duration_s,
            "ricecoder.profile.span_samples": json.dumps(
                {f"{span_id:016x}": n for span_id, n in profile.by_span.items()}, separators=(",", ":")
            ),
            **attributes,
        }
        self._logger.emit(
            timestamp=int(at * 1e9),
            context=_context(f"{profile.trace_id:032x}", root_span_id),
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body=profile.collapsed(),
            attributes=record,
            event_name=PROFILE_EVENT,
        )
