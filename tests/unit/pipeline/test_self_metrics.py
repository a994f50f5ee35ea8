"""``ricecoder.self.*`` reports ricecoder's own drops, errors, time and queues."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace.export import SpanExportResult

from ricecoder_otel.kernel.self_metrics import install_self_metrics
from ricecoder_otel.kernel.selftelemetry import SelfTelemetry
from ricecoder_otel.store import open_store
from ricecoder_otel.store.exporters import LocalSpanExporter, dropped_totals
from ricecoder_otel.testing import Capture


def _drop_one_span_in_the_store(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    capture = Capture()
    with capture.tracer_provider.get_tracer("t").start_as_current_span("lost"):
        pass
    exporter = LocalSpanExporter(store=open_store(str(blocker / "telemetry.db")))
    assert exporter.export(capture.spans.get_finished_spans()) is SpanExportResult.FAILURE


def test_self_metrics_publish_every_tally(tmp_path: Path) -> None:
    _drop_one_span_in_the_store(tmp_path)
    source = SelfTelemetry()
    source.count_drop("red_metrics", 3)
    source.count_error("red_metrics")
    source.add_time("red_metrics", 2_000_000_000)
    source.register_queue("spans.OTLPSpanExporter", lambda: 7)
    capture = Capture()
    install_self_metrics(capture.meter_provider.get_meter("self"), source)

    def by_component(name: str) -> dict[str, float]:
        return {a.get("component", a.get("queue")): p.value for a, p in capture.metric(name)}

    dropped = by_component("ricecoder.self.dropped")
    assert dropped["red_metrics"] == 3
    # The embedded store's exporters report their drops here too.
    assert dropped["store.spans"] == dropped_totals()["spans"] >= 1
    assert by_component("ricecoder.self.errors") == {"red_metrics": 1}
    assert by_component("ricecoder.self.processor.time") == {"red_metrics": 2.0}
    assert by_component("ricecoder.self.queue.depth") == {"spans.OTLPSpanExporter": 7}
    capture.shutdown()
