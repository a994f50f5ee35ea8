"""``perf report`` and ``perf profile`` over the store: stored summaries merged, stored profiles read.

Summaries (``ricecoder.perf.summary`` log records, one per operation and finished slot) merge
into one histogram and one breakdown per operation for any period; a route's growth compares
the older half of the period with the newer half. Profiles (``ricecoder.profile``) of one trace
are merged (a trace may cross processes). Reads run SQL through the SQL store's helpers; both
dialects take the same statements. A damaged record is skipped and counted, never fatal.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ricecoder_otel.performance.bottleneck import Breakdown, Growth, compare
from ricecoder_otel.performance.engine import Operation
from ricecoder_otel.performance.histogram import ExpHistogram
from ricecoder_otel.performance.otel import PROFILE_EVENT, SUMMARY_EVENT
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.errors import StoreError
from ricecoder_otel.store.sql import SqlStore, decode_json

PREFIX = "ricecoder.perf."


def _sql_store(store: Store) -> SqlStore:
    if not isinstance(store, SqlStore):
        raise StoreError(f"store {store.display_location} does not hold performance records")
    return store


@dataclass
class OperationTotals:
    """One operation over the period: merged histogram, breakdown, and its two halves' breakdowns."""

    operation: Operation
    histogram: ExpHistogram
    breakdown: Breakdown = field(default_factory=Breakdown)
    older: Breakdown = field(default_factory=Breakdown)
    newer: Breakdown = field(default_factory=Breakdown)

    def growth(self) -> Growth | None:
        return compare(self.older, self.newer)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.operation.kind, "operation": self.operation.name,
                                **self.histogram.summary().as_dict(),
                                "relative_error": self.histogram.relative_error}  # fmt: skip
        if self.breakdown.count:
            data["shares"] = self.breakdown.shares()
            data["bottleneck"] = self.breakdown.top()
            growth = self.growth()
            data["grew"] = None if growth is None else {
                "category": growth.category, "baseline_mean_s": growth.baseline_mean_s,
                "recent_mean_s": growth.recent_mean_s, "category_delta_s": growth.category_delta_s,
            }  # fmt: skip
        return data


@dataclass
class PerfReport:
    operations: list[OperationTotals]
    records: int
    skipped: int


def load_report(store: Store, since_ns: int, until_ns: int, route: str | None = None) -> PerfReport:
    """Merge the summaries stored in ``[since_ns, until_ns]``; ``route`` keeps server operations on it."""
    sql = _sql_store(store)
    with sql._transaction() as cur:
        cur.execute(
            sql._sql("SELECT time_ns, attributes FROM logs WHERE event_name = ? AND time_ns >= ? AND time_ns <= ?"
                     " ORDER BY time_ns, id"),
            [SUMMARY_EVENT, since_ns, until_ns],
        )  # fmt: skip
        rows = cur.fetchall()
    middle = since_ns + (until_ns - since_ns) // 2
    totals: dict[Operation, OperationTotals] = {}
    skipped = 0
    for time_ns, raw in rows:
        attributes = decode_json(raw) or {}
        try:
            operation = Operation(str(attributes[PREFIX + "kind"]), str(attributes[PREFIX + "operation"]))
            histogram = ExpHistogram.from_dict(json.loads(str(attributes[PREFIX + "histogram"])))
            breakdown = _breakdown(attributes)
        except (KeyError, ValueError, TypeError):
            skipped += 1
            continue
        if route is not None and not _on_route(operation, route):
            continue
        entry = totals.get(operation)
        if entry is None:
            entry = totals[operation] = OperationTotals(operation, ExpHistogram(histogram.max_size))
        entry.histogram.merge(histogram)
        entry.breakdown.merge(breakdown)
        (entry.older if int(time_ns) < middle else entry.newer).merge(breakdown)
    ordered = sorted(totals.values(), key=lambda t: (-t.histogram.quantile(0.95), t.operation))
    return PerfReport(ordered, len(rows), skipped)


def _breakdown(attributes: dict[str, Any]) -> Breakdown:
    breakdown = Breakdown()
    requests = attributes.get(PREFIX + "requests")
    if requests is None:
        return breakdown
    breakdown.count = int(requests)
    breakdown.total_s = float(attributes[PREFIX + "total_s"])
    for key, value in attributes.items():
        if key.startswith(PREFIX + "self.") and key.endswith("_s"):
            breakdown.by_category[key[len(PREFIX + "self.") : -2]] = float(value)
    return breakdown


def _on_route(operation: Operation, route: str) -> bool:
    if operation.kind != "server":
        return False
    return operation.name == route or operation.name.partition(" ")[2] == route


@dataclass
class StoredProfile:
    trace_id: str
    stacks: Counter[str]
    samples: int
    rate_hz: float
    operation: str
    duration_s: float
    time_ns: int = 0
    """When the first part of the profile was recorded (the request's end)."""


def load_profile(store: Store, trace_id: str) -> StoredProfile | None:
    """The merged profile of ``trace_id`` (None when none was stored)."""
    sql = _sql_store(store)
    with sql._transaction() as cur:
        cur.execute(
            sql._sql(
                "SELECT attributes, body, time_ns FROM logs WHERE event_name = ? AND trace_id = ? ORDER BY time_ns, id"
            ),
            [PROFILE_EVENT, trace_id.lower()],
        )
        rows = cur.fetchall()
    if not rows:
        return None
    stacks: Counter[str] = Counter()
    samples, rate, operation, duration = 0, 100.0, "", 0.0
    for raw, body, _ in rows:
        attributes = decode_json(raw) or {}
        for line in str(body or "").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks[stack] += int(count)
        samples += int(attributes.get("ricecoder.profile.samples", 0))
        rate = float(attributes.get("ricecoder.profile.rate_hz", rate))
        operation = str(attributes.get(PREFIX + "operation", operation))
        duration = max(duration, float(attributes.get("ricecoder.profile.duration_s", 0.0)))
    return StoredProfile(trace_id.lower(), stacks, samples, rate, operation, duration, int(rows[0][2] or 0))
