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

from ricecoder_otel.selftelemetry import SELF_TELEMETRY


def _queue_of(processor: Any) -> Any:
    """The SDK batch processor's deque (a private attribute: degrade to None)."""
    return getattr(getattr(processor, "_batch_processor", None), "_queue", None)


def _is_full(queue: Any) -> bool:
    return queue is not None and queue.maxlen is not None and len(queue) >= queue.maxlen


class CountingBatchSpanProcessor(BatchSpanProcessor):
    def __init__(self, exporter: SpanExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self.component = f"spans.{type(exporter).__name__}"
        SELF_TELEMETRY.register_queue(self.component, self.queue_depth)

    def queue_depth(self) -> int:
        queue = _queue_of(self)
        return len(queue) if queue is not None else 0

    def on_end(self, span: ReadableSpan) -> None:
        if _is_full(_queue_of(self)):
            SELF_TELEMETRY.count_drop(self.component)
        super().on_end(span)


class CountingBatchLogRecordProcessor(BatchLogRecordProcessor):
    def __init__(self, exporter: LogRecordExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        self.component = f"logs.{type(exporter).__name__}"
        SELF_TELEMETRY.register_queue(self.component, self.queue_depth)

    def queue_depth(self) -> int:
        queue = _queue_of(self)
        return len(queue) if queue is not None else 0

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if _is_full(_queue_of(self)):
            SELF_TELEMETRY.count_drop(self.component)
        super().on_emit(log_record)
