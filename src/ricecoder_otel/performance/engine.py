"""Response-time analysis per operation over sliding windows (pure: no OpenTelemetry, clock injected).

An operation is a kind (``server``, ``client``, ``database``, ``internal``) and a name (``GET
/orders`` for a server route, ``GET api.example.com`` for an HTTP client, ``sqlite SELECT`` for a
database). Each keeps a ring of at most ``slots`` exponential histograms, one per ``window /
slots`` seconds of the clock: a query merges the slots inside its window, so percentiles slide
with a step of one slot, and memory per operation is ``slots x max_size`` buckets whatever the
traffic. Operations beyond ``max_operations`` share the ``_OTHER`` operation of their kind.

Slots that are over can be taken once with :meth:`LatencyEngine.completed`: the capability
stores them as summaries, which merge again for any period (``perf report --since``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ricecoder_otel.performance.bottleneck import Breakdown, Growth, compare
from ricecoder_otel.performance.histogram import DEFAULT_MAX_SIZE, ExpHistogram, Summary

Clock = Callable[[], float]
OTHER = "_OTHER"


class Operation(NamedTuple):
    """What was timed: ``kind`` is server, client, database or internal.

    A named tuple: the worker builds one per span, and a tuple is several times cheaper to
    build and hash than a frozen dataclass."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class CompletedSlot:
    """The histogram of one operation over one finished slot ``[start, end)`` (clock seconds)."""

    operation: Operation
    start: float
    end: float
    histogram: ExpHistogram
    breakdown: Breakdown


@dataclass
class _Slot:
    id: int
    histogram: ExpHistogram
    breakdown: Breakdown = field(default_factory=Breakdown)


@dataclass
class _Ring:
    slots: deque[_Slot] = field(default_factory=deque)
    taken_upto: int = -(2**62)  # slots up to this id were handed out by completed()


class LatencyEngine:
    """Per-operation latency histograms over a sliding window; O(1) per recorded duration."""

    def __init__(
        self,
        *,
        window_s: float = 300.0,
        slots: int = 10,
        max_operations: int = 1000,
        max_size: int = DEFAULT_MAX_SIZE,
        clock: Clock = time.time,
    ) -> None:
        if window_s <= 0 or slots < 1 or max_operations < 1:
            raise ValueError("window, slots and max_operations must be positive")
        self.window_s = window_s
        self.slots = slots
        self.slot_s = window_s / slots
        self.max_operations = max_operations
        self.max_size = max_size
        self.clock = clock
        self._rings: dict[Operation, _Ring] = {}
        self.overflowed = 0

    def _slot_id(self, now: float) -> int:
        return math.floor(now / self.slot_s)

    def _ring(self, operation: Operation) -> _Ring:
        ring = self._rings.get(operation)
        if ring is None:
            if len(self._rings) >= self.max_operations:
                self.overflowed += 1
                operation = Operation(operation.kind, OTHER)
                ring = self._rings.get(operation)
            if ring is None:
                ring = self._rings[operation] = _Ring()
        return ring

    def record(
        self, operation: Operation, seconds: float, self_ns: Mapping[str, int] | None = None, now: float | None = None
    ) -> None:
        """Add one duration of ``operation`` (and, for a request, its self time per category) to the slot of
        ``now`` (default: the clock's; a caller recording many durations at once reads the clock once)."""
        slot = self._slot(operation, self.clock() if now is None else now)
        slot.histogram.record(seconds)
        if self_ns is not None:
            slot.breakdown.add(seconds, self_ns)

    def record_durations(self, durations: Mapping[Operation, list[float]], now: float) -> None:
        """``record`` without self times for many durations at one instant ``now`` (the performance
        worker's pass over queued spans): each operation's slot is found once, and its durations go
        into the histogram together. Every duration past ``max_operations`` is counted, as
        ``record`` counts it."""
        for operation, seconds in durations.items():
            self._slot(operation, now).histogram.record_many(seconds)
            if operation not in self._rings:  # folded into OTHER: _ring counted one of them
                self.overflowed += len(seconds) - 1

    def _slot(self, operation: Operation, now: float) -> _Slot:
        ring = self._ring(operation)
        slot_id = math.floor(now / self.slot_s)
        if not ring.slots or ring.slots[-1].id != slot_id:
            ring.slots.append(_Slot(slot_id, ExpHistogram(self.max_size)))
            while len(ring.slots) > self.slots:
                ring.slots.popleft()
        return ring.slots[-1]

    def _window(self, operation: Operation, window_s: float | None, skip_newest: int = 0) -> list[_Slot]:
        ring = self._rings.get(operation)
        if ring is None:
            return []
        span = self.window_s if window_s is None else min(window_s, self.window_s)
        newest = self._slot_id(self.clock()) - skip_newest
        oldest = newest - max(1, math.ceil(span / self.slot_s - 1e-9)) + 1
        return [slot for slot in ring.slots if oldest <= slot.id <= newest]

    def histogram(self, operation: Operation, window_s: float | None = None) -> ExpHistogram:
        """The merged histogram of ``operation`` over the last ``window_s`` (default: the whole window)."""
        merged = ExpHistogram(self.max_size)
        for slot in self._window(operation, window_s):
            merged.merge(slot.histogram)
        return merged

    def breakdown(self, operation: Operation, window_s: float | None = None) -> Breakdown:
        """Self time per category of the requests of ``operation`` over the window."""
        merged = Breakdown()
        for slot in self._window(operation, window_s):
            merged.merge(slot.breakdown)
        return merged

    def growth(self, operation: Operation) -> Growth | None:
        """Which category grew, when the newer half of the window is slower than the older half."""
        half = self.window_s / 2
        recent, baseline = Breakdown(), Breakdown()
        for slot in self._window(operation, half):
            recent.merge(slot.breakdown)
        for slot in self._window(operation, half, skip_newest=max(1, math.ceil(half / self.slot_s - 1e-9))):
            baseline.merge(slot.breakdown)
        return compare(baseline, recent)

    def summary(self, operation: Operation, window_s: float | None = None) -> Summary:
        """p50, p90, p95, p99, max, count and sum of ``operation`` over the window."""
        return self.histogram(operation, window_s).summary()

    def operations(self, kind: str | None = None) -> list[Operation]:
        """Every operation seen (and not yet expired), optionally of one kind, sorted."""
        return sorted(op for op in self._rings if kind is None or op.kind == kind)

    def expire(self) -> None:
        """Forget operations with nothing in the window (bounded memory for routes that stop)."""
        oldest = self._slot_id(self.clock()) - self.slots + 1
        for operation in [op for op, ring in self._rings.items() if not ring.slots or ring.slots[-1].id < oldest]:
            ring = self._rings[operation]
            if not ring.slots or ring.slots[-1].id <= ring.taken_upto:
                del self._rings[operation]

    def completed(self, *, include_current: bool = False) -> Iterator[CompletedSlot]:
        """Each finished slot once (oldest first per operation): what the capability stores.

        ``include_current`` also hands out the slot in progress (at shutdown)."""
        current = self._slot_id(self.clock()) + (1 if include_current else 0)
        for operation, ring in list(self._rings.items()):
            for slot in list(ring.slots):
                if ring.taken_upto < slot.id < current:
                    ring.taken_upto = slot.id
                    start = slot.id * self.slot_s
                    yield CompletedSlot(operation, start, start + self.slot_s, slot.histogram, slot.breakdown)
