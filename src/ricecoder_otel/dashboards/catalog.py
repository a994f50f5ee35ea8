"""The metrics the distribution itself emits: kind and unit, for checks and Grafana queries.

Kinds are the store's (``counter``, ``updowncounter``, ``gauge``, ``histogram``); the list
follows docs/metrics.md and docs/anomaly.md. A dashboard may query any other metric too
(the application's own); ``dashboard check`` only warns about names it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownMetric:
    name: str
    kind: str
    unit: str
    description: str = ""


REQUEST_DURATION = "http.server.request.duration"
SERVER_ERRORS = "ricecoder.http.server.errors"

_METRICS = (
    KnownMetric(REQUEST_DURATION, "histogram", "s", "Server request duration (RED, from server spans)"),
    KnownMetric(SERVER_ERRORS, "counter", "{error}", "Failed server requests (5xx or span status ERROR)"),
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
    KnownMetric("ricecoder.self.queue.depth", "gauge", "{item}", "Items waiting in export queues"),
    KnownMetric("ricecoder.self.dropped", "counter", "{item}", "Telemetry items dropped by ricecoder"),
    KnownMetric("ricecoder.self.errors", "counter", "{error}", "Internal errors contained by ricecoder"),
    KnownMetric("ricecoder.self.processor.time", "counter", "s", "Time inside ricecoder's processors"),
    KnownMetric("ricecoder.anomaly.score", "gauge", "1", "Latest anomaly score per monitored series"),
)

KNOWN_METRICS: dict[str, KnownMetric] = {m.name: m for m in _METRICS}

KNOWN_EVENTS: tuple[str, ...] = ("ricecoder.anomaly", "ricecoder.alert", "ricecoder.config.changed")
"""Event names published on the hub and stored as log records (events panels list them)."""
