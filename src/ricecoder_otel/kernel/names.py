"""Every metric the distribution records or relies on: one name, kind and unit each.

The instruments are created with these names; alert-rule export, dashboards and their checks read
kind and unit from here, so a renamed metric or a changed unit cannot drift between them. Kinds
are the store's (``counter``, ``updowncounter``, ``gauge``, ``histogram``). Event names live with
their event classes in :mod:`ricecoder_otel.kernel.events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricKind = Literal["counter", "updowncounter", "gauge", "histogram"]


@dataclass(frozen=True)
class KnownMetric:
    name: str
    kind: MetricKind
    unit: str
    description: str = ""


REQUEST_DURATION = "http.server.request.duration"
SERVER_ERRORS = "ricecoder.http.server.errors"
OPERATION_DURATION = "ricecoder.operation.duration"
ANOMALY_SCORE = "ricecoder.anomaly.score"
ERRORS = "ricecoder.errors"
ERROR_GROUP_EVENTS = "ricecoder.errors.group_events"
REDACTED_VALUES = "ricecoder.redaction.values"
SELF_QUEUE_DEPTH = "ricecoder.self.queue.depth"
SELF_DROPPED = "ricecoder.self.dropped"
SELF_ERRORS = "ricecoder.self.errors"
SELF_PROCESSOR_TIME = "ricecoder.self.processor.time"

RICECODER_METRICS: tuple[KnownMetric, ...] = (
    KnownMetric(REQUEST_DURATION, "histogram", "s", "Duration of HTTP server requests, derived from server spans."),
    KnownMetric(SERVER_ERRORS, "counter", "{request}", "HTTP server requests that failed (5xx or span error)."),
    KnownMetric(OPERATION_DURATION, "histogram", "s", "Duration of operations timed with PerformanceTimer."),
    KnownMetric(ANOMALY_SCORE, "gauge", "1", "Anomaly score of each monitored series, 0 (normal) to 1 (anomalous)"),
    KnownMetric(ERRORS, "counter", "{error}", "Errors counted per group (one per trace in which it occurred)."),
    KnownMetric(
        ERROR_GROUP_EVENTS,
        "counter",
        "{event}",
        "Error groups that opened (new), came back after being resolved (regression) or spiked.",
    ),
    KnownMetric(REDACTED_VALUES, "counter", "{value}", "Values redacted before export, by detector."),
    KnownMetric(SELF_QUEUE_DEPTH, "gauge", "{item}", "Items waiting in export queues."),
    KnownMetric(SELF_DROPPED, "counter", "{item}", "Telemetry items dropped by ricecoder."),
    KnownMetric(SELF_ERRORS, "counter", "{error}", "Internal errors contained by ricecoder."),
    KnownMetric(SELF_PROCESSOR_TIME, "counter", "s", "Time spent inside ricecoder's span and log processors."),
)
"""Metrics ricecoder's own capabilities record."""

INSTRUMENTATION_METRICS: tuple[KnownMetric, ...] = (
    KnownMetric("system.cpu.time", "counter", "s"),
    KnownMetric("system.cpu.utilization", "gauge", "1"),
    KnownMetric("system.memory.usage", "updowncounter", "By"),
    KnownMetric("system.memory.utilization", "gauge", "1"),
    KnownMetric("system.swap.usage", "updowncounter", "pages"),
    KnownMetric("system.disk.io", "counter", "By"),
    KnownMetric("system.disk.operations", "counter", "operations"),
    KnownMetric("system.network.io", "counter", "By"),
    KnownMetric("system.network.errors", "counter", "errors"),
    KnownMetric("system.network.connections", "updowncounter", "connections"),
    KnownMetric("process.cpu.time", "counter", "s"),
    KnownMetric("process.cpu.utilization", "gauge", "1"),
    KnownMetric("process.memory.usage", "updowncounter", "By"),
    KnownMetric("process.memory.virtual", "updowncounter", "By"),
    KnownMetric("process.open_file_descriptor.count", "updowncounter", "{count}"),
    KnownMetric("process.thread.count", "updowncounter", "{thread}"),
    KnownMetric("cpython.gc.collections", "counter", "{collection}"),
)
"""Metrics of the system-metrics instrumentation the distribution installs (as it names them)."""

KNOWN_METRICS: dict[str, KnownMetric] = {m.name: m for m in (*RICECODER_METRICS, *INSTRUMENTATION_METRICS)}


def known(name: str) -> KnownMetric:
    """The catalogue entry of one of the distribution's own metrics (KeyError names an unknown one)."""
    return KNOWN_METRICS[name]


def unit_and_description(name: str) -> dict[str, str]:
    """``unit=`` and ``description=`` for creating one of the distribution's own instruments."""
    metric = KNOWN_METRICS[name]
    return {"unit": metric.unit, "description": metric.description}
