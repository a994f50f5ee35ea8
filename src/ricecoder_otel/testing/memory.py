"""In-memory parts for tests: a metric exporter that keeps every collection, and a manual clock."""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData


class InMemoryMetricExporter(MetricExporter):
    """Keeps every exported collection, so a test reads what a real exporter would have sent."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._collections: list[MetricsData] = []

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        with self._lock:
            self._collections.append(metrics_data)
        return MetricExportResult.SUCCESS

    @property
    def collections(self) -> list[MetricsData]:
        with self._lock:
            return list(self._collections)

    def clear(self) -> None:
        with self._lock:
            self._collections.clear()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


class ManualClock:
    """A clock that moves only when told to: ``clock()`` reads it, ``advance(seconds)`` moves it."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += seconds
            return self._now
