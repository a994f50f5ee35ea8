"""Performance monitoring as a capability (section ``performance``).

Installs :class:`~ricecoder_otel.performance.otel.PerformanceSpanProcessor` (registry order:
after error tracking, before the exporting processors). While on, the worker thread
(``ricecoder-performance``) analyses the queued spans every 0.25 s and evaluates the thresholds
every ``performance.evaluation_interval``, publishing
:class:`~ricecoder_otel.kernel.events.AlertTransition` events (rules ``performance.*``) that the
notification capability routes like any alert. With ``profiling_enabled`` the sampler thread
(``ricecoder-profiler``) runs too. Stopping joins both threads and writes the slot in progress;
the engine keeps its windows, so switching back on resumes where it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks
from ricecoder_otel.performance import monitor
from ricecoder_otel.performance.engine import LatencyEngine
from ricecoder_otel.performance.otel import PerformanceRecords, PerformanceSpanProcessor
from ricecoder_otel.performance.profiler import ActiveSpans, StackSampler
from ricecoder_otel.performance.worker import PerformanceWorker, ResourceProbe, process_probe

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import PerformanceConfig


def _engine(section: PerformanceConfig, context: InstallContext) -> LatencyEngine:
    return LatencyEngine(
        window_s=section.window.total_seconds(), slots=10, max_operations=section.max_operations,
        max_size=section.histogram_max_buckets, clock=context.clock,
    )  # fmt: skip


class PerformanceCapability(Capability):
    name = "performance"
    section = "performance"

    def __init__(self, probe: ResourceProbe | None = None) -> None:
        self.probe = probe
        self.processor: PerformanceSpanProcessor | None = None
        self.sampler: StackSampler | None = None
        self.worker: PerformanceWorker | None = None
        self._section: PerformanceConfig | None = None
        self._hooks = SpanHooks()
        self._ends: SpanHook | None = None
        self._starts: SpanHook | None = None

    def install(self, context: InstallContext) -> None:
        section = self._section = context.config.performance
        active = ActiveSpans()
        self.processor = PerformanceSpanProcessor(active)
        self.sampler = StackSampler(active, rate_hz=section.profiling_sample_rate)
        self.worker = PerformanceWorker(
            self.processor, _engine(section, context), PerformanceRecords(context.logger_provider), self.sampler,
            context.hub, section, clock=context.clock, probe=self.probe,
        )  # fmt: skip
        self._hooks = context.span_hooks
        self._ends = SpanHook("performance", on_end=self.processor.end)
        self._starts = SpanHook("performance", on_start=self.processor.on_start)  # while profiling

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        assert self.processor is not None and self.worker is not None and self._section is not None
        if self.worker.probe is None:
            self.worker.probe = process_probe()
        self.processor.on = True
        if self._ends is not None:
            self._hooks.switch(self._ends, True)
        self._profiling(self._section.profiling_enabled)
        self.worker.start()
        monitor.bind(self)

    def stop(self) -> None:
        monitor.unbind(self)
        if self.processor is not None:
            self.processor.on = False
        if self._ends is not None:
            self._hooks.switch(self._ends, False)
        self._profiling(False)
        if self.worker is not None:
            self.worker.stop()

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        section = self._section = new.performance
        if self.worker is None or self.sampler is None:
            return
        if (
            section.window != old.performance.window
            or section.max_operations != old.performance.max_operations
            or (section.histogram_max_buckets != old.performance.histogram_max_buckets)
        ):
            self.worker.engine = LatencyEngine(
                window_s=section.window.total_seconds(), slots=10, max_operations=section.max_operations,
                max_size=section.histogram_max_buckets, clock=self.worker.clock,
            )  # fmt: skip
        self.worker.configure(section)
        if section.profiling_sample_rate != self.sampler.rate_hz:
            was_on = self.processor is not None and self.processor.profiling
            self._profiling(False)
            self.sampler.rate_hz = section.profiling_sample_rate
            self._profiling(was_on)
        self._profiling(section.profiling_enabled)

    def after_fork(self) -> None:
        if self.sampler is not None:
            self.sampler.after_fork()
        if self.worker is not None:
            self.worker.after_fork()

    def _profiling(self, on: bool) -> None:
        if self.processor is None or self.sampler is None:
            return
        if self._starts is not None:
            self._hooks.switch(self._starts, on)
        if on and not self.processor.profiling:
            self.sampler.start()
            self.processor.profiling = True
        elif not on and self.processor.profiling:
            self.processor.profiling = False
            self.sampler.stop()
            self.processor.active.clear()

    # -- the in-process API -----------------------------------------------------------------------

    def process_now(self) -> None:
        """One pass of the worker (what its thread does every 0.25 s), thresholds included."""
        if self.worker is not None:
            self.worker.run_pass(evaluate=True)
