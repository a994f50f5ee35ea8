"""Plain rows the store reads and writes.

These types carry no OpenTelemetry objects, so engines, the CLI and dashboards can use
the store without importing the SDK; ``store.exporters`` converts SDK data into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]


@dataclass(slots=True)
class SpanRecord:
    """One finished span. Ids are lower-case hex; times are Unix nanoseconds."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status_code: str = "UNSET"
    status_message: str = ""
    service_name: str = ""
    attributes: JSONDict = field(default_factory=dict)
    events: list[JSONDict] = field(default_factory=list)
    resource: JSONDict = field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass(slots=True)
class MetricPoint:
    """One data point of one metric series at one collection.

    Counters, up-down counters and gauges fill ``value``; histograms fill ``count``,
    ``sum``, ``bucket_bounds`` and ``bucket_counts`` (one more count than bounds).
    Values are cumulative, as the local exporter asks the SDK for cumulative temporality.
    """

    time_ns: int
    name: str
    kind: str
    unit: str = ""
    attributes: JSONDict = field(default_factory=dict)
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    bucket_bounds: list[float] | None = None
    bucket_counts: list[int] | None = None
    service_name: str = ""


@dataclass(slots=True)
class LogRow:
    """One log record or event (an event is a log record with ``event_name``)."""

    time_ns: int
    severity_number: int | None = None
    severity_text: str = ""
    body: str = ""
    event_name: str = ""
    trace_id: str | None = None
    span_id: str | None = None
    attributes: JSONDict = field(default_factory=dict)
    service_name: str = ""


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """How much the store holds; ``extra`` names counts of tables added by later migrations."""

    spans: int
    metric_series: int
    logs: int
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {"spans": self.spans, "metric_series": self.metric_series, "logs": self.logs, **self.extra}


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Keep telemetry younger than ``max_age_ns`` and the store under ``max_bytes`` (None: no limit).

    Writers apply it themselves at most every ``interval_ns`` (None: only when
    ``enforce_retention`` is called), so no extra thread is needed in each process.
    """

    max_age_ns: int | None = 7 * 24 * 3600 * 1_000_000_000
    max_bytes: int | None = 512 * 1024 * 1024
    interval_ns: int | None = 5 * 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What one retention pass removed; ``bytes_before``/``bytes_after`` are the store's used size."""

    rows_deleted: int
    bytes_before: int
    bytes_after: int

    @property
    def bytes_freed(self) -> int:
        return max(0, self.bytes_before - self.bytes_after)
