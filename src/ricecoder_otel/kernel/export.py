"""Export processors that count what they drop.

The SDK's batch processors silently evict the oldest item when their bounded
queue is full. These subclasses count that eviction in self-telemetry (O(1):
one length check) and publish the queue depth, so an overloaded exporter shows
up as ``ricecoder.self.dropped`` instead of vanishing.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._logs import ReadWriteLogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY


class _DropCounter:
    """Counts what a full SDK batch queue is about to evict, and publishes the queue depth.

    Reads the SDK batch processor's deque (a private attribute: degrades to "never full"),
    looked up on every call because the SDK replaces it after a fork.
    """

    __slots__ = ("_inner", "_max", "component")

    def __init__(self, processor: Any, component: str) -> None:
        inner: Any = getattr(processor, "_batch_processor", None)
        readable = inner is not None and hasattr(inner, "_queue") and hasattr(inner, "_max_queue_size")
        self._inner = inner if readable else None
        self._max = inner._max_queue_size if readable else 0
        self.component = component
        SELF_TELEMETRY.register_queue(component, self.depth)

    def depth(self) -> int:
        return len(self._inner._queue) if self._inner is not None else 0

    def note_offer(self) -> None:
        """Call before handing an item to the processor: O(1), one length check."""
        inner = self._inner
        if inner is not None and len(inner._queue) >= self._max:
            SELF_TELEMETRY.count_drop(self.component)


class CountingBatchSpanProcessor(BatchSpanProcessor):
    def __init__(self, exporter: SpanExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self._drops = _DropCounter(self, f"spans.{type(exporter).__name__}")

    def on_end(self, span: ReadableSpan) -> None:
        self._drops.note_offer()
        super().on_end(span)


class CountingBatchLogRecordProcessor(BatchLogRecordProcessor):
    def __init__(self, exporter: LogRecordExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self._drops = _DropCounter(self, f"logs.{type(exporter).__name__}")

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self._drops.note_offer()
        super().on_emit(log_record)
