"""Counters about ricecoder's own work: drops, internal errors, time spent, queue depth.

Plain Python so every component can count without touching the SDK; the
pipeline publishes a snapshot as ``ricecoder.self.*`` metrics.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SelfSnapshot:
    dropped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    processor_time_ns: dict[str, int] = field(default_factory=dict)
    queue_depth: dict[str, int] = field(default_factory=dict)


class SelfTelemetry:
    """Thread-safe tallies keyed by component name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dropped: defaultdict[str, int] = defaultdict(int)
        self._errors: defaultdict[str, int] = defaultdict(int)
        self._time_ns: defaultdict[str, int] = defaultdict(int)
        self._queues: dict[str, Callable[[], int]] = {}

    def count_drop(self, component: str, items: int = 1) -> None:
        with self._lock:
            self._dropped[component] += items

    def count_error(self, component: str) -> None:
        with self._lock:
            self._errors[component] += 1

    def add_time(self, component: str, elapsed_ns: int) -> None:
        # No lock: this runs on every hooked call, and a rare lost update under
        # thread contention is acceptable for a time statistic (drops stay exact).
        self._time_ns[component] += elapsed_ns

    def register_queue(self, name: str, depth: Callable[[], int]) -> None:
        self._queues[name] = depth

    def snapshot(self) -> SelfSnapshot:
        depths: dict[str, int] = {}
        for name, depth in list(self._queues.items()):
            try:
                depths[name] = int(depth())
            except Exception:  # a queue that cannot report is reported as empty
                depths[name] = 0
        with self._lock:
            return SelfSnapshot(
                dropped=dict(self._dropped),
                errors=dict(self._errors),
                processor_time_ns=dict(self._time_ns),
                queue_depth=depths,
            )

    def reset(self) -> None:
        with self._lock:
            self._dropped.clear()
            self._errors.clear()
            self._time_ns.clear()
        self._queues.clear()


SELF_TELEMETRY = SelfTelemetry()
