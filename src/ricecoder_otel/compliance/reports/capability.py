"""Scheduled compliance reports: every ``compliance.reporting_interval``, one report per standard.

Each report covers the interval just ended, is stored (``compliance_reports``) and announced on
the hub as :class:`~ricecoder_otel.kernel.events.ComplianceReportGenerated` (and so exported as
a ``ricecoder.compliance.report`` log record). Runs on its own thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ricecoder_otel.compliance.audit.capability import journal_directory, secret_bytes
from ricecoder_otel.compliance.reports.engine import ComplianceEngine, ComplianceReport
from ricecoder_otel.compliance.reports.store import ReportStore
from ricecoder_otel.compliance.worker import PeriodicWorker
from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.events import ComplianceReportGenerated, EventHub
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.store.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.store import Store


class ComplianceReportingCapability(Capability):
    name = "compliance-reports"
    section = "compliance"

    def __init__(self) -> None:
        self._config: MonitoringConfig | None = None
        self._store: Callable[[], Store] | None = None
        self._clock: Callable[[], float] | None = None
        self._hub: EventHub | None = None
        self._worker = PeriodicWorker("ricecoder-compliance-reports", self.generate_now, self._interval)

    def install(self, context: InstallContext) -> None:
        self._config, self._store, self._clock, self._hub = context.config, context.store, context.clock, context.hub

    def generate_now(self) -> list[ComplianceReport]:
        """One report per configured standard over the last ``reporting_interval``: stored and announced."""
        config, clock, hub, opener = self._config, self._clock, self._hub, self._store
        if config is None or clock is None or hub is None or opener is None:
            return []
        try:
            store = opener()
            audit = config.compliance.audit
            engine = ComplianceEngine(
                config, store=store, journal_dir=journal_directory(audit), key=secret_bytes(audit.checkpoint_key),
                clock=clock,
            )  # fmt: skip
            end = clock()
            start = end - config.compliance.reporting_interval.total_seconds()
            reports = [engine.generate_compliance_report(s, start, end) for s in config.compliance.standards]
            saved = ReportStore(store)
            for report in reports:
                saved.save(report)
                summary = report.summary()
                hub.publish(
                    ComplianceReportGenerated(
                        at=report.generated,
                        report_id=report.id,
                        standard=report.standard,
                        status=report.status,
                        period_start=report.start,
                        period_end=report.end,
                        failed_controls=tuple(c.id for c in report.controls if c.status == "not_satisfied"),
                        satisfied=summary["satisfied"],
                        not_evaluated=summary["not_evaluated"],
                    )
                )
            return reports
        except (StoreError, TypeError, ValueError) as error:
            SELF_TELEMETRY.count_error("compliance.reports")
            report_once("compliance.reports", "compliance reports not generated: %s", error)
            return []

    def _interval(self, first: bool) -> float:
        config = self._config
        return config.compliance.reporting_interval.total_seconds() if config else 86_400.0

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        self._config = new

    def after_fork(self) -> None:
        self._worker.after_fork()
