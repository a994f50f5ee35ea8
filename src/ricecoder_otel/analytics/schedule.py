"""When scheduled reports are due: run times on a fixed grid, decided from an injected clock.

Runs of a schedule fall at ``MONDAY + offset + n * every`` (``MONDAY`` is 1970-01-05 00:00 UTC),
so ``every: 1d`` is daily at midnight UTC and ``every: 7d, offset: 6h`` is Mondays at 06:00. A
schedule first runs at the first grid time after it is set up. When the clock jumps over several
runs, only the latest is made (a report covers whole days, so the missed ones add nothing but
duplicates); when it jumps back by more than a period, the next run is set from the new time.
Plain Python: no OpenTelemetry, no threads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ricecoder_otel.analytics.engine import DAY_S

if TYPE_CHECKING:
    from ricecoder_otel.config.model import AnalyticsSchedule

MONDAY = 4 * DAY_S
"""1970-01-05 00:00 UTC, the first Monday after the epoch: weekly runs land on Mondays."""


def latest_run(at: float, every_s: float, offset_s: float) -> float:
    """The last grid time at or before ``at``."""
    origin = MONDAY + offset_s
    return origin + math.floor((at - origin) / every_s) * every_s


class Scheduler:
    """The next run of every schedule; :meth:`due` says which ones have come."""

    def __init__(self, schedules: Mapping[str, AnalyticsSchedule], now: float) -> None:
        self._schedules: dict[str, AnalyticsSchedule] = {}
        self._next: dict[str, float] = {}
        self.reconfigure(schedules, now)

    def reconfigure(self, schedules: Mapping[str, AnalyticsSchedule], now: float) -> None:
        """Take new schedules; one whose timing is unchanged keeps its next run."""
        kept = {
            name: self._next[name]
            for name, schedule in schedules.items()
            if name in self._schedules and _timing(self._schedules[name]) == _timing(schedule)
        }
        self._schedules = dict(schedules)
        self._next = {
            name: kept[name] if name in kept else self._after(schedule, now) for name, schedule in schedules.items()
        }

    def due(self, now: float) -> list[tuple[str, float]]:
        """The schedules whose run has come, each with the run time (the latest grid time reached)."""
        runs = []
        for name, schedule in self._schedules.items():
            every, offset = _timing(schedule)
            upcoming = self._next[name]
            if now >= upcoming:
                run = latest_run(now, every, offset)
                runs.append((name, run))
                self._next[name] = run + every
            elif upcoming - now > every:  # the clock went back
                self._next[name] = self._after(schedule, now)
        return runs

    def next_run(self, name: str) -> float:
        return self._next[name]

    @staticmethod
    def _after(schedule: AnalyticsSchedule, now: float) -> float:
        every, offset = _timing(schedule)
        return latest_run(now, every, offset) + every


def _timing(schedule: AnalyticsSchedule) -> tuple[float, float]:
    return schedule.every.total_seconds(), schedule.offset.total_seconds()
