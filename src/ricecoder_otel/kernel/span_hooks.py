"""One span processor that every capability shares.

Each span processor the SDK holds costs three Python calls per span (``on_start``,
``_on_ending``, ``on_end``) plus the guard around each, whether or not it wants the span; with
four capabilities that was most of the pipeline's own per-span cost. Capabilities instead add
hooks here: a hook is a plain callable, registered for every span or for SERVER spans only,
and switched on and off with its capability (a switched-off hook costs nothing). A hook that wants
only some ends says so (``failures_only``, ``any_attribute``): the dispatcher reads the span's
status, events or attributes once and calls the hook only for the spans it wants, so the common
span costs no call into it (a call, with the reads it repeats, costs several times the check).
The dispatcher contains a failing hook (counted, logged once, the other hooks still run) and
samples the time each hook takes for ``ricecoder.self.processor.time``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from ricecoder_otel.kernel.guard import TIMING_SAMPLE, report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

StartHook = Callable[[Span, Context | None], None]
_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})
EndHook = Callable[[ReadableSpan], None]
_SERVER = SpanKind.SERVER
_ERROR = StatusCode.ERROR


@dataclass(frozen=True)
class SpanHook:
    """What one capability wants from spans; ``component`` names it in self-telemetry.

    ``on_end`` runs for every ended span (of the kind), or, with ``failures_only``, only for spans
    with an error status or at least one event, or, with ``any_attribute``, only for spans carrying
    at least one of those attribute keys: the hook's own first check, done by the dispatcher. A hook
    has one gate at most.
    """

    component: str
    on_end: EndHook | None = None
    on_start: StartHook | None = None
    server_only: bool = False
    failures_only: bool = False
    any_attribute: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.failures_only and self.any_attribute is not None:
            raise ValueError(f"span hook {self.component!r}: failures_only and any_attribute are two gates; pick one")


class SpanHooks(SpanProcessor):
    """Dispatches span starts and ends to the hooks that are on; O(hooks), never raises."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._on: list[SpanHook] = []
        # Copy-on-write tuples: the hot path reads one attribute, never a lock.
        self._start_server: tuple[tuple[str, StartHook], ...] = ()
        self._start_other: tuple[tuple[str, StartHook], ...] = ()
        self._end_server: tuple[tuple[str, EndHook], ...] = ()
        self._end_other: tuple[tuple[str, EndHook], ...] = ()
        # Hooks that want some ends only: ((component, hook), attribute keys or None for failures).
        self._gated_server: tuple[tuple[tuple[str, EndHook], frozenset[str] | None], ...] = ()
        self._gated_other: tuple[tuple[tuple[str, EndHook], frozenset[str] | None], ...] = ()
        self._gate_keys: frozenset[str] = frozenset()  # every gate's attribute keys together
        self._exporting: tuple[BatchSpanProcessor, ...] = ()
        self._until_timed = TIMING_SAMPLE  # ends until the next one whose hooks are timed

    def add_exporting(self, processor: BatchSpanProcessor) -> None:
        """Hand each ended span to ``processor`` after the hooks, and flush and shut it down with them.

        The pipeline's exporting batch processors are called from here rather than added to the
        tracer provider as processors of their own: there the SDK calls each processor three times
        per span (start, ending, end), and a batch processor only needs the end.
        """
        with self._lock:
            self._exporting += (processor,)

    def switch(self, hook: SpanHook, on: bool) -> None:
        """Start or stop dispatching to ``hook`` (idempotent)."""
        with self._lock:
            present = hook in self._on
            if on and not present:
                self._on.append(hook)
            elif not on and present:
                self._on.remove(hook)
            else:
                return
            every = [h for h in self._on if not h.server_only]
            self._start_server = tuple((h.component, h.on_start) for h in self._on if h.on_start is not None)
            self._start_other = tuple((h.component, h.on_start) for h in every if h.on_start is not None)
            ends = [(h, h.on_end) for h in self._on if h.on_end is not None]
            self._end_server = tuple((h.component, end) for h, end in ends if not _gated(h))
            self._end_other = tuple((h.component, end) for h, end in ends if not _gated(h) and not h.server_only)
            self._gated_server = tuple(((h.component, end), _keys(h)) for h, end in ends if _gated(h))
            self._gated_other = tuple(
                ((h.component, end), _keys(h)) for h, end in ends if _gated(h) and not h.server_only
            )
            self._gate_keys = frozenset().union(*(h.any_attribute or () for h in self._on))

    def is_on(self, hook: SpanHook) -> bool:
        return hook in self._on

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not self._start_server:  # no start hook at all (the default): one attribute read
            return
        try:  # the SDK span's field: ``kind`` is a property call on every span
            server = span._kind is _SERVER
        except AttributeError:
            server = span.kind is _SERVER
        hooks = self._start_server if server else self._start_other
        for component, hook in hooks:
            try:
                hook(span, parent_context)
            except Exception as error:
                _contain(component, error)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            server = span._kind is _SERVER
        except AttributeError:
            server = span.kind is _SERVER
        hooks = self._end_server if server else self._end_other
        gated = self._gated_server if server else self._gated_other
        if gated:
            raw: Any = span
            try:  # most spans: no error status, no event, none of the gates' attribute keys (SDK span fields)
                plain = (
                    raw._status._status_code is not _ERROR
                    and not raw._events._dq
                    and self._gate_keys.isdisjoint(raw._attributes._dict)
                )
            except AttributeError:
                plain = False
            if not plain:
                hooks += _passing(gated, span)
        if hooks:
            self._until_timed -= 1
            if self._until_timed > 0:  # not truthiness: racing threads may take it below zero
                for component, hook in hooks:
                    try:
                        hook(span)
                    except Exception as error:
                        _contain(component, error)
            else:
                self._until_timed = TIMING_SAMPLE
                self._timed_end(hooks, span)
        for processor in self._exporting:
            processor.on_end(span)

    @staticmethod
    def _timed_end(hooks: tuple[tuple[str, EndHook], ...], span: ReadableSpan) -> None:
        for component, hook in hooks:
            started = time.perf_counter_ns()
            try:
                hook(span)
            except Exception as error:
                _contain(component, error)
            SELF_TELEMETRY.add_time(component, (time.perf_counter_ns() - started) * TIMING_SAMPLE)

    def shutdown(self) -> None:
        for processor in self._exporting:
            processor.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        deadline = time.monotonic() + timeout_millis / 1000
        flushed = True
        for processor in self._exporting:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or processor.force_flush(left_ms) is False:
                flushed = False
        return flushed


def _gated(hook: SpanHook) -> bool:
    return hook.failures_only or hook.any_attribute is not None


def _keys(hook: SpanHook) -> frozenset[str] | None:
    """A gate's attribute keys; None for the failures gate."""
    return None if hook.failures_only else hook.any_attribute


def _passing(
    gated: tuple[tuple[tuple[str, EndHook], frozenset[str] | None], ...], span: ReadableSpan
) -> tuple[tuple[str, EndHook], ...]:
    """The gated hooks that want ``span``, each gate decided on its own."""
    raw: Any = span
    passing: tuple[tuple[str, EndHook], ...] = ()
    for pair, keys in gated:
        try:  # the SDK span's own fields
            if keys is None:
                wanted = raw._status._status_code is _ERROR or bool(raw._events._dq)
            else:
                wanted = not keys.isdisjoint(raw._attributes._dict)
        except AttributeError:  # any other span object: its public properties
            if keys is None:
                wanted = span.status.status_code is _ERROR or has_events(span)
            else:
                wanted = not keys.isdisjoint(span_attributes(span))
        if wanted:
            passing += (pair,)
    return passing


def span_attributes(span: ReadableSpan) -> Mapping[str, Any]:
    """A finished span's attributes as a plain mapping, for hooks to read (never to change).

    ``ReadableSpan.attributes`` wraps them in a new read-only proxy on every access, and each
    lookup through it takes the attribute set's lock: a few hundred nanoseconds per read, several
    reads per hook, on the application thread. A span is immutable once ended, so its attribute
    dict is read directly; any other span object falls back to the public property
    (``test_span_hooks`` fails if the SDK stops keeping the dict where this expects it).
    """
    bounded = getattr(span, "_attributes", None)
    inner = getattr(bounded, "_dict", None)
    if type(inner) is dict:
        return inner
    return span.attributes or _NO_ATTRIBUTES


def has_events(span: ReadableSpan) -> bool:
    """Whether the span recorded any event, without copying them (``ReadableSpan.events`` does).

    Runs on every span's end: the SDK keeps events in a ``BoundedList`` whose ``len`` is a Python
    call, and its deque answers in C. Any other shape falls back to the public ``events``.
    """
    raw: Any = span
    try:
        return bool(raw._events._dq)
    except AttributeError:
        return bool(span.events)


def has_links(span: ReadableSpan) -> bool:
    """Whether the span has any link, without copying them (``ReadableSpan.links`` does); as
    :func:`has_events`."""
    raw: Any = span
    try:
        return bool(raw._links._dq)
    except AttributeError:
        return bool(span.links)


def _contain(component: str, error: Exception) -> None:
    SELF_TELEMETRY.count_error(component)
    report_once(component, "internal error %s (further errors are counted, not logged)", type(error).__name__)
