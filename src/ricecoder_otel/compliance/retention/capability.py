"""Retention as a capability: a background worker enforces every data class's period.

On with ``compliance.enabled``. The worker runs one pass a minute after start and then every
``compliance.data_retention.interval``, on its own thread (never on a hot path), against the
pipeline's store. Each purge is recorded through ``audit()`` before its transaction commits.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ricecoder_otel.compliance.audit.api import audit
from ricecoder_otel.compliance.retention.classes import retention_periods
from ricecoder_otel.compliance.retention.engine import RetentionEngine, RetentionRun
from ricecoder_otel.compliance.worker import PeriodicWorker
from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.store.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.store import Store

FIRST_RUN_DELAY_S = 60.0
"""The first pass a minute after start (or after one interval, if shorter): start-up is busy enough, and a
process that restarts often still enforces retention."""


class RetentionCapability(Capability):
    name = "retention"
    section = "compliance"

    def __init__(self) -> None:
        self._config: MonitoringConfig | None = None
        self._store: Callable[[], Store] | None = None
        self._clock: Callable[[], float] | None = None
        self._worker = PeriodicWorker("ricecoder-retention", self.run_now, self._delay)
        self._lock = threading.Lock()
        self.last_run: RetentionRun | None = None

    def install(self, context: InstallContext) -> None:
        self._config = context.config
        self._store = context.store
        self._clock = context.clock

    def run_now(self) -> RetentionRun | None:
        """One pass now (the worker's body); None when the store cannot be opened."""
        if self._config is None or self._store is None or self._clock is None:
            return None
        with self._lock:
            try:
                engine = RetentionEngine(self._store(), audit, self._clock)
                run = engine.run(retention_periods(self._config))
            except (StoreError, TypeError) as error:
                SELF_TELEMETRY.count_error("retention")
                report_once("retention", "retention pass not run: %s", error)
                return None
            if not run.ok:
                SELF_TELEMETRY.count_error("retention")
                for purge in run.classes:
                    if purge.error:
                        report_once("retention", "retention of %s failed: %s", purge.data_class, purge.error)
            self.last_run = run
            return run

    def _delay(self, first: bool) -> float:
        config = self._config
        interval = config.compliance.data_retention.interval.total_seconds() if config else 3600.0
        return min(FIRST_RUN_DELAY_S, interval) if first else interval

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        self._config = new

    def after_fork(self) -> None:
        self._lock = threading.Lock()
        self._worker.after_fork()
