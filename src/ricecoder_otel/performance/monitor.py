"""The seed's component API: ``PerformanceMonitor(config).start()``, over the running capability.

The capability (installed by ``opentelemetry-instrument`` or :func:`ricecoder_otel.configure`)
does the work; a monitor reads its in-process state: percentiles per operation over the
sliding window, each route's breakdown by kind of work and what grew, and the threshold
alerts firing now. Without a running performance capability every read is empty.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ricecoder_otel.performance.bottleneck import Breakdown, Growth
from ricecoder_otel.performance.engine import Operation
from ricecoder_otel.performance.histogram import Summary
from ricecoder_otel.performance.thresholds import Check

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import PerformanceConfig
    from ricecoder_otel.performance.capability import PerformanceCapability

_lock = threading.Lock()
_active: PerformanceCapability | None = None


def bind(capability: PerformanceCapability) -> None:
    global _active
    with _lock:
        _active = capability


def unbind(capability: PerformanceCapability) -> None:
    global _active
    with _lock:
        if _active is capability:
            _active = None


@dataclass(frozen=True)
class OperationReport:
    """One operation over the window: its percentiles and, for a route, where its time went."""

    operation: Operation
    summary: Summary
    breakdown: Breakdown | None
    growth: Growth | None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.operation.kind, "operation": self.operation.name,
                                **self.summary.as_dict()}  # fmt: skip
        if self.breakdown is not None and self.breakdown.count:
            data["shares"] = self.breakdown.shares()
            data["bottleneck"] = self.breakdown.top()
        if self.growth is not None:
            data["grew"] = {"category": self.growth.category, "baseline_mean_s": self.growth.baseline_mean_s,
                            "recent_mean_s": self.growth.recent_mean_s}  # fmt: skip
        return data


class PerformanceMonitor:
    """``PerformanceMonitor(config).start()``: reads of the running performance capability."""

    def __init__(self, config: PerformanceConfig | MonitoringConfig | None = None) -> None:
        section = getattr(config, "performance", config)
        self.enabled = bool(getattr(section, "enabled", True))
        self.started = False

    def start(self) -> PerformanceMonitor:
        self.started = True
        return self

    def stop(self) -> None:
        self.started = False

    def _capability(self) -> PerformanceCapability | None:
        return _active if self.started and self.enabled else None

    def refresh(self) -> None:
        """Analyse the spans queued so far now, instead of at the worker's next pass."""
        capability = self._capability()
        if capability is not None:
            capability.process_now()

    def operations(self, kind: str | None = None) -> list[Operation]:
        capability = self._capability()
        if capability is None or capability.worker is None:
            return []
        with capability.worker.lock:
            return capability.worker.engine.operations(kind)

    def percentiles(self, operation: Operation | str, window_s: float | None = None) -> Summary:
        """p50/p90/p95/p99/max of an operation (a server route may be given as ``"GET /orders"``)."""
        capability = self._capability()
        if capability is None or capability.worker is None:
            return Summary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        key = operation if isinstance(operation, Operation) else Operation("server", operation)
        with capability.worker.lock:
            return capability.worker.engine.summary(key, window_s)

    def report(self, kind: str | None = None) -> list[OperationReport]:
        """Every operation (optionally of one kind) with percentiles, breakdown and growth, slowest p95 first."""
        capability = self._capability()
        if capability is None or capability.worker is None:
            return []
        engine = capability.worker.engine
        reports = []
        with capability.worker.lock:
            for operation in engine.operations(kind):
                server = operation.kind == "server"
                reports.append(OperationReport(
                    operation, engine.summary(operation),
                    engine.breakdown(operation) if server else None, engine.growth(operation) if server else None,
                ))  # fmt: skip
        return sorted(reports, key=lambda r: -r.summary.p95)

    def firing(self) -> list[Check]:
        """The threshold alerts firing now."""
        capability = self._capability()
        if capability is None or capability.worker is None:
            return []
        with capability.worker.lock:
            return capability.worker.alerts.firing()
