"""Metrics as a capability: RED metrics from server spans, views, and the metric exporters' readers.

Switched off (``metrics.enabled: false`` or the master switch), the RED processor ignores
spans and every periodic reader stops its thread after a last collection; pull readers such
as the Prometheus endpoint answer scrapes with nothing. Switched on, the readers get new
threads. The cardinality limit belongs to the kernel (it caps every instrument); a config
change to it is applied there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ricecoder_otel.kernel.capability import BuildContext, Capability, InstallContext
from ricecoder_otel.kernel.reader import ControlledReader, PullGate
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks
from ricecoder_otel.metrics.red_aggregator import RedAggregator
from ricecoder_otel.metrics.red_export import RedPublisher
from ricecoder_otel.metrics.red_processor import RedMetricsProcessor
from ricecoder_otel.metrics.views import default_views

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig


class MetricsCapability(Capability):
    name = "metrics"
    section = "metrics"

    def __init__(self) -> None:
        self.red: RedMetricsProcessor | None = None
        self._periodic: list[ControlledReader] = []
        self._pull: list[PullGate] = []
        self._red_enabled = True
        self._running = False
        self._hooks = SpanHooks()
        self._red_hook: SpanHook | None = None

    def prepare(self, context: BuildContext) -> None:
        metrics = context.config.metrics
        aggregator = RedAggregator(context.limiter, tuple(metrics.duration_buckets_seconds))
        self.red = RedMetricsProcessor(aggregator)
        self.red.enabled = False  # until start()
        self._red_enabled = metrics.red_metrics
        context.producers.append(RedPublisher(aggregator, context.resource))
        context.views.extend(default_views())
        for exporter in context.metric_exporters:
            if isinstance(exporter, PullGate):
                self._pull.append(exporter)
                context.readers.append(exporter)
            else:
                self._periodic.append(context.periodic_reader(exporter))

    def install(self, context: InstallContext) -> None:
        assert self.red is not None
        self._hooks = context.span_hooks
        self._red_hook = SpanHook("red_metrics", on_end=self.red.record, server_only=True)

    def start(self) -> None:
        self._running = True
        self._switch_red()
        for gate in self._pull:
            gate.gate_open = True
        for reader in self._periodic:
            reader.start()

    def stop(self) -> None:
        self._running = False
        self._switch_red()
        for gate in self._pull:
            gate.gate_open = False
        for reader in self._periodic:
            reader.stop()

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        self._red_enabled = new.metrics.red_metrics
        self._switch_red()

    def _switch_red(self) -> None:
        on = self._running and self._red_enabled
        if self.red is not None:
            self.red.enabled = on
        if self._red_hook is not None:
            self._hooks.switch(self._red_hook, on)

    @property
    def readers(self) -> list[ControlledReader]:
        """The periodic readers of the configured metric exporters."""
        return list(self._periodic)
