"""Scheduled reports (``analytics.schedules``): made on the analytics worker when due.

Each due schedule makes its reports over the ``days`` whole UTC days before the run, writes each
to ``directory`` as ``<schedule>-<report>-<run time>.<format>`` (written to a temporary name,
then renamed, so a reader never sees half a file) and, with ``publish``, announces it on the
hub as :class:`~ricecoder_otel.kernel.events.AnalyticsReportGenerated`. A report that cannot be
made or written is counted (``ricecoder.self.errors{component=analytics.schedule}``) and the
others still run. The time comes from the injected clock, so a manual clock drives it in tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ricecoder_otel.analytics.engine import DAY_S, day_of
from ricecoder_otel.analytics.render import render
from ricecoder_otel.analytics.schedule import Scheduler
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.kernel.events import AnalyticsReportGenerated, EventHub
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

if TYPE_CHECKING:
    from ricecoder_otel.analytics.reports import Report
    from ricecoder_otel.config.model import AnalyticsSchedule

MakeReport = Callable[..., "Report"]
"""``make(kind, since=, until=, **options)``: a report over the store and unflushed rows."""


class ScheduledReports:
    """Runs due schedules: reports made, written, announced."""

    def __init__(
        self,
        schedules: Mapping[str, AnalyticsSchedule],
        *,
        clock: Callable[[], float],
        make: MakeReport,
        hub: EventHub,
    ) -> None:
        self.clock = clock
        self.make = make
        self.hub = hub
        self.schedules = dict(schedules)
        self.scheduler = Scheduler(schedules, clock())

    def reconfigure(self, schedules: Mapping[str, AnalyticsSchedule]) -> None:
        self.schedules = dict(schedules)
        self.scheduler.reconfigure(schedules, self.clock())

    def run_due(self) -> int:
        """Make the reports of every schedule that is due now; returns how many were made."""
        made = 0
        for name, run in self.scheduler.due(self.clock()):
            made += self.run(name, self.schedules[name], run)
        return made

    def run(self, name: str, schedule: AnalyticsSchedule, run: float) -> int:
        """Make one schedule's reports for a run at ``run`` (epoch seconds)."""
        last_day = day_of(run) - 1
        first_day = last_day - schedule.days + 1
        options: dict[str, Any] = {"interval": schedule.interval}
        made = 0
        for kind in schedule.reports:
            try:
                report = self.make(kind, since=first_day * DAY_S, until=last_day * DAY_S, **options)
                path = self._write(name, kind, schedule, run, report) if schedule.directory is not None else None
            except Exception as error:  # one report failing must not stop the others
                SELF_TELEMETRY.count_error("analytics.schedule")
                reason = redact_dsn(str(error))
                report_once("analytics.schedule", "scheduled report %s/%s failed: %s", name, kind, reason)
                continue
            made += 1
            if schedule.publish:
                self.hub.publish(
                    AnalyticsReportGenerated(
                        at=self.clock(),
                        schedule=name,
                        kind=kind,
                        format=schedule.format,
                        period_start=first_day * DAY_S,
                        period_end=(last_day + 1) * DAY_S,
                        rows=len(report.rows),
                        path=str(path) if path is not None else "",
                    )
                )
        return made

    def _write(self, name: str, kind: str, schedule: AnalyticsSchedule, run: float, report: Report) -> Path:
        assert schedule.directory is not None
        directory = Path(schedule.directory).expanduser()
        directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(run))
        path = directory / f"{name}-{kind}-{stamp}.{schedule.format}"
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(render(report, schedule.format), encoding="utf-8")
        os.replace(partial, path)
        return path
