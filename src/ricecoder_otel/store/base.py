"""The store interface every backend implements.

Writes take a batch and commit it in one transaction; reads return newest rows first.
Every failure is a ``StoreError`` subclass (see ``errors``), never a driver exception.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from ricecoder_otel.store.records import (
    LogRow,
    MetricPoint,
    RetentionPolicy,
    RetentionResult,
    SpanRecord,
    StoreCounts,
)

Clock = Callable[[], int]
"""Returns the current time as Unix nanoseconds (``time.time_ns`` unless a test injects one)."""

DEFAULT_LIMIT = 100


class Store(ABC):
    """Telemetry storage shared by the local exporters, the CLI, reports and dashboards."""

    backend: str = ""

    def __init__(self, location: str, *, retention: RetentionPolicy | None = None, clock: Clock | None = None):
        self.location = location
        self.retention = retention if retention is not None else RetentionPolicy()
        self.clock: Clock = clock if clock is not None else time.time_ns

    @property
    @abstractmethod
    def display_location(self) -> str:
        """Where the store lives, safe to print (passwords masked)."""

    @abstractmethod
    def write_spans(self, spans: Sequence[SpanRecord]) -> int:
        """Store ``spans`` in one transaction; return how many were written."""

    @abstractmethod
    def write_metric_points(self, points: Sequence[MetricPoint]) -> int:
        """Store ``points`` in one transaction; return how many were written."""

    @abstractmethod
    def write_logs(self, logs: Sequence[LogRow]) -> int:
        """Store ``logs`` in one transaction; return how many were written."""

    @abstractmethod
    def query_spans(
        self,
        since_ns: int | None = None,
        until_ns: int | None = None,
        name: str | None = None,
        trace_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[SpanRecord]:
        """Spans started in [since_ns, until_ns), newest first."""

    @abstractmethod
    def query_metrics(
        self, since_ns: int | None = None, name: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[MetricPoint]:
        """Metric points collected at or after ``since_ns``, newest first."""

    @abstractmethod
    def query_logs(
        self,
        since_ns: int | None = None,
        min_severity: int | None = None,
        limit: int = DEFAULT_LIMIT,
        event_name: str | None = None,
    ) -> list[LogRow]:
        """Log records at or after ``since_ns`` with at least ``min_severity`` (and ``event_name``), newest first."""

    @abstractmethod
    def counts(self, since_ns: int | None = None) -> StoreCounts:
        """Spans, distinct metric series and logs stored (since ``since_ns`` if given)."""

    @abstractmethod
    def enforce_retention(self, now_ns: int | None = None) -> RetentionResult:
        """Delete telemetry older than the policy's age, then oldest rows until under its size."""

    @abstractmethod
    def schema_version(self) -> int:
        """The highest migration applied to this store."""

    @abstractmethod
    def close(self) -> None:
        """Release this process's connection; the store may be used again (it reopens)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
