"""Capture telemetry in memory, for asserting on it in tests.

:class:`RicecoderCapture` builds the real ricecoder pipeline (every capability: RED metrics,
anomaly events, alert events, ...) with in-memory exporters and a :class:`ManualClock`, and
routes the global OpenTelemetry API to it, so what the application records through
``trace.get_tracer(...)``, ``metrics.get_meter(...)`` or ``logging`` is captured. The
``ricecoder_capture`` pytest fixture yields one.

:class:`Capture` is the bare variant: SDK providers wired to in-memory exporters, nothing
installed globally, for unit-testing one processor or instrument.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.metricdata import walk
from ricecoder_otel.testing.memory import InMemoryMetricExporter, ManualClock

Point = tuple[dict[str, Any], Any]


def points_in(data: MetricsData | None, name: str) -> list[Point]:
    """``(attributes, point)`` for every point of metric ``name`` in one collection."""
    found: list[Point] = []
    for _, metric in walk(data):
        if metric.name == name:
            found.extend((dict(p.attributes or {}), p) for p in metric.data.data_points)
    return found


def metric_points(reader: InMemoryMetricReader, name: str) -> list[Point]:
    """``(attributes, point)`` for every point of metric ``name`` in one collection of ``reader``."""
    return points_in(reader.get_metrics_data(), name)


@dataclass
class Capture:
    """Providers wired to in-memory exporters (not installed globally)."""

    spans: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    metrics: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    logs: InMemoryLogRecordExporter = field(default_factory=InMemoryLogRecordExporter)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))

    def metric(self, name: str) -> list[Point]:
        return metric_points(self.metrics, name)

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


# Periodic readers would tick on the wall clock; a capture collects only when asked.
_NO_TICKS = timedelta(days=1)


def _isolated(config: MonitoringConfig, scratch: Path) -> MonitoringConfig:
    """The config with no wall-clock metric ticks, and a store and audit journal of the test's own
    (unless the test chose them), so tests never share state or touch the user's data directory."""
    metrics = config.metrics.model_copy(update={"export_interval": _NO_TICKS})
    store = config.store
    if store.location is None:
        store = store.model_copy(update={"location": str(scratch / "telemetry.db")})
    audit = config.compliance.audit
    if audit.path is None:
        audit = audit.model_copy(update={"path": str(scratch / "audit")})
    compliance = config.compliance.model_copy(update={"audit": audit})
    return config.model_copy(update={"metrics": metrics, "store": store, "compliance": compliance})


class RicecoderCapture:
    """The real pipeline with in-memory exporters and a manual clock, routed from the global API."""

    def __init__(self, config: MonitoringConfig | None = None, *, clock: ManualClock | None = None) -> None:
        from ricecoder_otel.pipeline import build_pipeline
        from ricecoder_otel.testing import delegating

        base = config or MonitoringConfig()
        self._scratch = tempfile.TemporaryDirectory(prefix="ricecoder-capture-")
        self.config = _isolated(base, Path(self._scratch.name))
        self.clock = clock or ManualClock()
        self.span_exporter = InMemorySpanExporter()
        self.metric_exporter = InMemoryMetricExporter()
        self.log_exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        delegating.install_globals()
        self.pipeline = build_pipeline(
            self.config,
            set_global=False,
            span_exporters=[self.span_exporter],
            metric_readers=[self.metric_exporter],
            log_exporters=[self.log_exporter],
            clock=self.clock,
            watch_config=False,
        )
        delegating.route_to(self.pipeline.tracer_provider, self.pipeline.meter_provider, self.pipeline.logger_provider)
        # The application's `logging` records reach the pipeline, as under opentelemetry-instrument.
        self._logging_handler = LoggingHandler(level=logging.NOTSET, logger_provider=self.pipeline.logger_provider)
        logging.getLogger().addHandler(self._logging_handler)

    # -- driving ------------------------------------------------------------------------------

    def collect(self) -> None:
        """Run one metric collection (what a periodic export would do) and deliver the events it raised."""
        self.pipeline.force_flush()

    def advance(self, seconds: float) -> None:
        """Move the pipeline's clock (alert ``for`` durations, anomaly intervals)."""
        self.clock.advance(seconds)

    # -- assertions ---------------------------------------------------------------------------

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans, optionally only those called ``name``."""
        self.pipeline.tracer_provider.force_flush()
        spans = list(self.span_exporter.get_finished_spans())
        return [s for s in spans if name is None or s.name == name]

    def metric(self, name: str, attributes: Mapping[str, Any] | None = None) -> list[Point]:
        """Points of metric ``name`` in a fresh collection whose attributes include ``attributes``."""
        self.collect()
        collections = self.metric_exporter.collections
        latest = collections[-1] if collections else None
        wanted = dict(attributes or {})
        return [(attrs, p) for attrs, p in points_in(latest, name) if wanted.items() <= attrs.items()]

    def logs(self) -> list[ReadableLogRecord]:
        """Every log record exported so far (application logs and events)."""
        self.pipeline.hub.flush()
        self.pipeline.logger_provider.force_flush()
        return list(self.log_exporter.get_finished_logs())

    def events(self, name: str | None = None) -> list[ReadableLogRecord]:
        """Event records (log records with an ``event_name``), optionally only ``name``."""
        records = self.logs()
        return [r for r in records if r.log_record.event_name and name in (None, r.log_record.event_name)]

    def close(self) -> None:
        from ricecoder_otel.testing import delegating

        logging.getLogger().removeHandler(self._logging_handler)
        delegating.route_to(None, None, None)
        self.pipeline.shutdown()
        from ricecoder_otel.store import set_default_store

        set_default_store(None)
        self._scratch.cleanup()
