"""Fill a real SQLite store through the real ricecoder pipeline (local exporters), for dashboard tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import Pipeline, build_pipeline
from ricecoder_otel.store.exporters import LocalLogExporter, LocalMetricExporter, LocalSpanExporter
from ricecoder_otel.store.records import MetricPoint
from ricecoder_otel.store.sqlite import SQLiteStore

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]


class StoredPipeline:
    """The real pipeline writing spans, metrics and events into ``store``; collections on demand."""

    def __init__(self, store: SQLiteStore, service: str = "shop") -> None:
        config = MonitoringConfig.model_validate(
            {"service_name": service, "metrics": {"export_interval": "1h", "system_metrics": False}}
        )
        self.store = store
        self.pipeline: Pipeline = build_pipeline(
            config,
            set_global=False,
            store=store,
            span_exporters=[LocalSpanExporter(store)],
            metric_readers=[LocalMetricExporter(store)],
            log_exporters=[LocalLogExporter(store)],
            watch_config=False,
        )
        self.tracer = self.pipeline.tracer_provider.get_tracer("dashboards-test")

    def request(self, route: str, seconds: float, status: int = 200, **attributes: Any) -> None:
        """One finished server span (RED metrics are derived from it)."""
        end = time.time_ns()
        span = self.tracer.start_span(
            f"GET {route}",
            kind=SpanKind.SERVER,
            start_time=end - int(seconds * 1e9),
            attributes={"http.route": route, "http.request.method": "GET", "http.response.status_code": status,
                        **attributes},
        )  # fmt: skip
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end)

    def collect(self) -> None:
        """One metric collection written to the store, and every pending span, log and event."""
        self.pipeline.force_flush()

    def close(self) -> None:
        self.pipeline.shutdown()


def histogram_point(time_s: float, counts: list[int], *, route: str = "/orders", service: str = "shop",
                    total: float | None = None) -> MetricPoint:  # fmt: skip
    """A cumulative duration histogram point as the local exporter stores it."""
    return MetricPoint(
        time_ns=int(time_s * 1e9), name="http.server.request.duration", kind="histogram", unit="s",
        attributes={"http.route": route, "http.request.method": "GET"}, count=sum(counts),
        sum=total if total is not None else 0.0, bucket_bounds=BOUNDS, bucket_counts=counts, service_name=service,
    )  # fmt: skip


def store_at(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "telemetry.db")
