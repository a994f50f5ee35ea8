"""The export edge: processors that count what they drop, and make what they export encodable.

The SDK's batch processors silently evict the oldest item when their bounded
queue is full. The counting subclasses count that eviction in self-telemetry (O(1):
one length check) and publish the queue depth, so an overloaded exporter shows
up as ``ricecoder.self.dropped`` instead of vanishing.

One bad item must not cost its whole batch: :class:`EdgeSafeLogProcessor` bounds and
de-cycles log bodies and attribute values on emit, and :class:`IsolatingLogExporter` /
:class:`IsolatingSpanExporter` drop (and count) only the items an exporter still cannot encode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, TypeVar

from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.sanitize import DEFAULT_LIMITS, INT64_MAX, INT64_MIN, SanitizeLimits, is_plain, sanitize
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY


class _DropCounter:
    """Counts what a full SDK batch queue is about to evict, and publishes the queue depth.

    Reads the SDK batch processor's deque (a private attribute: degrades to "never full"),
    looked up on every call because the SDK replaces it after a fork.
    """

    __slots__ = ("_inner", "_max", "component", "evicted", "finished", "offered")

    def __init__(self, processor: Any, component: str) -> None:
        inner: Any = getattr(processor, "_batch_processor", None)
        readable = inner is not None and hasattr(inner, "_queue") and hasattr(inner, "_max_queue_size")
        self._inner = inner if readable else None
        self._max = inner._max_queue_size if readable else 0
        self.component = component
        # Plain counters (a lost update under thread contention only blurs the shutdown report).
        self.offered = 0
        self.evicted = 0
        self.finished = 0  # handed to the exporter, whatever it answered
        SELF_TELEMETRY.register_queue(component, self.depth)

    def depth(self) -> int:
        return len(self._inner._queue) if self._inner is not None else 0

    def note_offer(self) -> None:
        """Call before handing an item to the processor: O(1), one length check."""
        self.offered += 1
        inner = self._inner
        if inner is not None and len(inner._queue) >= self._max:
            self.evicted += 1
            SELF_TELEMETRY.count_drop(self.component)

    def unfinished(self) -> int:
        """Items offered whose export has not completed: queued or in flight (the shutdown report)."""
        return max(self.offered - self.evicted - self.finished, 0)


class _Finishing:
    """Counts each batch whose export call returned, for :meth:`_DropCounter.unfinished`."""

    def __init__(self, inner: Any, drops: _DropCounter) -> None:
        self.inner = inner
        self._drops = drops

    def export(self, items: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return self.inner.export(items, *args, **kwargs)
        finally:
            self._drops.finished += len(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def exporter_name(exporter: object) -> str:
    """The class name of the real exporter behind wrappers that keep it as ``inner``
    (isolating, transforming), so each exporter keeps its own drop counter and queue gauge."""
    for _ in range(8):  # wrappers nest a few deep at most; bounded all the same
        inner = getattr(exporter, "inner", None)
        if inner is None:
            break
        exporter = inner
    return type(exporter).__name__


_batch_span_end = BatchSpanProcessor.on_end
_batch_log_emit = BatchLogRecordProcessor.on_emit


class CountingBatchSpanProcessor(BatchSpanProcessor):
    accepting = True
    """False while the master switch is off: spans are not queued (the batch thread idles)."""

    def __init__(self, exporter: SpanExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self._drops = _DropCounter(self, f"spans.{exporter_name(exporter)}")
        self._batch_processor._exporter = _Finishing(exporter, self._drops)

    def on_end(self, span: ReadableSpan) -> None:
        if not self.accepting:
            return
        self._drops.note_offer()
        _batch_span_end(self, span)  # not super(): it builds a proxy object on every span


class CountingBatchLogRecordProcessor(BatchLogRecordProcessor):
    accepting = True
    """False while the master switch is off: records are not queued (the batch thread idles)."""

    def __init__(self, exporter: LogRecordExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self._drops = _DropCounter(self, f"logs.{exporter_name(exporter)}")
        self._batch_processor._exporter = _Finishing(exporter, self._drops)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if not self.accepting:
            return
        self._drops.note_offer()
        _batch_log_emit(self, log_record)


# edge safety -----------------------------------------------------------------------------
class EdgeSafeLogProcessor(LogRecordProcessor):
    """Makes every log record's body and attribute values exportable before any exporter sees it.

    Place it first on the LoggerProvider (before redaction, error tracking and the exporting
    processors): they all walk bodies, and a cyclic or 5,000-deep body breaks them as it breaks
    the OTLP encoder. Log records are mutable in ``on_emit``, so the fix is made in place.

    Fast path: a ``str``/scalar body and flat scalar attributes cost one type check each (plus a
    length check for strings). Anything else goes through :func:`~ricecoder_otel.kernel.sanitize.sanitize`,
    whose work is bounded by ``limits``. Never raises: an internal error is counted
    (``edge.logs``) and the record passes unchanged, to be isolated by :class:`IsolatingLogExporter`.
    """

    def __init__(self, limits: SanitizeLimits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._max_str = limits.max_str_len

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        max_str = self._max_str
        try:
            body = record.body
            kind = type(body)
            if kind is str:
                if len(body) > max_str:  # type: ignore[arg-type]
                    record.body = sanitize(body, self._limits)  # type: ignore[assignment]
            elif kind not in _SCALARS and not is_plain(body, max_str):
                record.body = sanitize(body, self._limits)  # type: ignore[assignment]
            attributes = record.attributes
            if attributes is None:
                return
            # BoundedAttributes.copy() (and dict's) is one C-level dict copy: much cheaper than
            # iterating the MutableMapping, which locks and looks each key up in Python.
            snapshot: Mapping[str, Any]
            try:
                snapshot = attributes.copy()  # type: ignore[attr-defined]
            except AttributeError:  # a Mapping without copy()
                snapshot = attributes
            dirty: list[str] | None = None
            for key, value in snapshot.items():
                kind = type(value)
                if kind is str:
                    if len(value) <= max_str:  # type: ignore[arg-type]
                        continue
                elif kind in _SCALARS or (kind is int and INT64_MIN <= value <= INT64_MAX):  # type: ignore[operator]
                    continue
                if dirty is None:
                    dirty = []
                dirty.append(key)
            if dirty is not None:
                self._fix_attributes(record, attributes, dirty)
        except Exception as error:
            SELF_TELEMETRY.count_error("edge.logs")
            report_once("edge.logs", "could not sanitise a log record: %s", type(error).__name__)

    def _fix_attributes(self, record: LogRecord, attributes: Mapping[str, Any], keys: list[str]) -> None:
        fixed = {key: sanitize(attributes[key], self._limits) for key in keys}
        if isinstance(attributes, MutableMapping) and not getattr(attributes, "_immutable", False):
            for key, value in fixed.items():
                if value is not attributes[key]:
                    attributes[key] = value
        else:
            record.attributes = {**attributes, **fixed}  # type: ignore[dict-item]

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_SCALARS = frozenset({bool, float, type(None)})

T = TypeVar("T")


def _log_encodable(record: ReadableLogRecord) -> bool:
    try:
        encode_logs([record]).SerializeToString()
        return True
    except Exception:
        return False


def _span_encodable(span: ReadableSpan) -> bool:
    try:
        encode_spans([span]).SerializeToString()
        return True
    except Exception:
        return False


def export_isolating(
    batch: Sequence[T],
    export: Callable[[Sequence[T]], bool],
    encodable: Callable[[T], bool],
    component: str,
) -> bool:
    """Export ``batch``; if that fails because of some items, drop those alone and export the rest.

    ``export`` returns success or raises. After a failure each item is checked with
    ``encodable`` (the OTLP encoder: what cannot become OTLP is unexportable everywhere). Found
    culprits are dropped and counted (``component``) and the rest exported once more. With no
    culprit, a returned failure is the transport's (collector down, disk full): returned as is,
    with no retry storm; a raised one is isolated by exporting the items one by one.
    Runs on the exporter's worker thread; the extra work happens only after a failure.
    """
    try:
        if export(batch):
            return True
        raised = False
    except Exception:
        raised = True
    if not batch:
        return False
    good = [item for item in batch if encodable(item)]
    culprits = len(batch) - len(good)
    if culprits:
        SELF_TELEMETRY.count_drop(component, culprits)
        report_once(component, "dropped %s that cannot be encoded (the rest of its batch was exported)", component)
        if not good:
            return False
        try:
            return export(good)
        except Exception:
            pass  # still raising without an unencodable item: isolate one by one
    elif not raised:
        return False
    ok = True
    for item in good:
        try:
            ok = export((item,)) and ok
        except Exception:
            ok = False
            SELF_TELEMETRY.count_drop(component)
            report_once(component, "dropped %s its exporter raised on", component)
    return ok


class IsolatingLogExporter(LogRecordExporter):
    """Wraps a log exporter so one unencodable record costs that record, not its whole batch.

    See :func:`export_isolating`; the dropped records are counted as ``logs.unencodable``.
    """

    def __init__(self, inner: LogRecordExporter) -> None:
        self.inner = inner

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        def attempt(records: Sequence[ReadableLogRecord]) -> bool:
            return self.inner.export(records) is LogRecordExportResult.SUCCESS

        ok = export_isolating(batch, attempt, _log_encodable, "logs.unencodable")
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        self.inner.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class IsolatingSpanExporter(SpanExporter):
    """The span twin of :class:`IsolatingLogExporter` (drops counted as ``spans.unencodable``).

    Span attribute values are cleaned by the SDK when set, but a span or event *name* of the
    wrong type (``tracer.start_span(123)``, ``span.add_event(5)``) is not, and makes the OTLP
    encoder raise for the whole batch.
    """

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        def attempt(batch: Sequence[ReadableSpan]) -> bool:
            return self.inner.export(batch) is SpanExportResult.SUCCESS

        ok = export_isolating(spans, attempt, _span_encodable, "spans.unencodable")
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
