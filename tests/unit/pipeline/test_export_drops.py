"""The counting batch processors report what a full queue evicts."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ricecoder_otel.kernel.export import CountingBatchSpanProcessor
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY


class StuckExporter(SpanExporter):
    """An exporter whose backend hangs until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        self.release.wait(10)
        return SpanExportResult.SUCCESS


def test_a_full_queue_counts_every_eviction_and_publishes_its_depth() -> None:
    # tests/conftest.py starts every test with empty self-telemetry.
    exporter = StuckExporter()
    processor = CountingBatchSpanProcessor(exporter, max_queue_size=4, max_export_batch_size=1, schedule_delay_millis=1)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("first"):
        pass
    assert exporter.entered.wait(5)  # the worker holds one span, stuck in export
    for n in range(20):
        with tracer.start_as_current_span(f"span-{n}"):
            pass
    snapshot = SELF_TELEMETRY.snapshot()
    assert snapshot.dropped == {"spans.StuckExporter": 16}  # 20 offered, 4 fit
    assert snapshot.queue_depth == {"spans.StuckExporter": 4}
    exporter.release.set()
    provider.shutdown()
