"""The capability seam: the one shape every capability has.

A capability joins the pipeline in two steps, because the SDK fixes a MeterProvider's readers
and views when it is constructed:

1. :meth:`Capability.prepare` runs before the providers exist and may contribute metric
   readers, views and metric producers (data merged into every collection) to the
   :class:`BuildContext`;
2. :meth:`Capability.install` runs once the providers exist: add span and log processors,
   create instruments, subscribe to the event hub.

After that the pipeline calls :meth:`Capability.start` and :meth:`Capability.stop` whenever the
capability is switched on or off (its section's ``enabled``, or the master switch), without a
restart: ``stop`` halts its work and joins its threads, ``start`` resumes it. A config change
that keeps it on reaches :meth:`Capability.apply`. :meth:`Capability.after_fork` runs in a
forked child (gunicorn, Celery prefork) before anything else uses the pipeline.

Dependencies arrive in the context (resource, providers, store, event hub, clock,
self-telemetry); a capability never imports another capability.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ricecoder_otel.kernel.events import EventHub
from ricecoder_otel.kernel.selftelemetry import SelfTelemetry
from ricecoder_otel.kernel.span_hooks import SpanHooks
from ricecoder_otel.kernel.transform import LogTransform, MetricsTransform, SpanTransform

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader, MetricsData
    from opentelemetry.sdk.metrics.view import View
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.kernel.reader import ControlledReader, PullGate
    from ricecoder_otel.metrics.cardinality import CardinalityLimiter
    from ricecoder_otel.store import Store

Clock = Callable[[], float]
PayloadFilter = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]
"""A payload in, a filtered copy out, or None: the payload must not be sent at all."""


def filter_payload(filters: Sequence[PayloadFilter], payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """``payload`` after every filter; None when one says it must not be sent (or fails: fail closed)."""
    current: dict[str, Any] | None = dict(payload)
    for payload_filter in filters:
        if current is None:
            return None
        try:
            current = payload_filter(current)
        except Exception as error:
            from ricecoder_otel.kernel.guard import report_once

            report_once("payload", "a payload filter failed (%s); the payload is not sent", type(error).__name__)
            return None
    return current


class MetricProducer(Protocol):
    """Adds data to a reader's collection (RED metrics are produced from spans, not instruments)."""

    def inject(self, metrics_data: MetricsData | None, reader: MetricReader) -> MetricsData | None: ...


@dataclass
class BuildContext:
    """What a capability may contribute before the providers are built."""

    config: MonitoringConfig
    resource: Resource
    hub: EventHub
    clock: Clock
    self_telemetry: SelfTelemetry
    export_interval_ms: float
    limiter: CardinalityLimiter
    metric_exporters: list[MetricExporter | PullGate] = field(default_factory=list)
    """The configured metric exporters (push) and pull readers; the metrics capability owns them."""
    readers: list[MetricReader] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    producers: list[MetricProducer] = field(default_factory=list)
    make_reader: Callable[[MetricExporter, float], ControlledReader] | None = None
    """Builds a pausable, fork-safe periodic reader that includes every producer's data."""
    span_transforms: list[SpanTransform] = field(default_factory=list)
    """Applied to every exported span on the exporter's thread (see kernel.transform); live list."""
    log_transforms: list[LogTransform] = field(default_factory=list)
    """Applied to every exported log record on the exporter's thread; live list."""
    metric_transforms: list[MetricsTransform] = field(default_factory=list)
    """Applied to every exported metric collection; live list."""

    def tap(self, exporter: MetricExporter) -> ControlledReader | None:
        """Hand ``exporter`` every collection of an exporting reader already built (metrics come first
        in the registry); None when there is none, and the caller needs a reader of its own.

        A second reader would double the SDK's work for every measurement and run every observable
        callback twice per interval; a tap costs nothing on the hot path.
        """
        from ricecoder_otel.kernel.reader import ControlledReader

        for reader in self.readers:
            if isinstance(reader, ControlledReader):
                reader.taps.append(exporter)
                return reader
        return None

    def periodic_reader(self, exporter: MetricExporter, interval_ms: float | None = None) -> ControlledReader:
        assert self.make_reader is not None, "the pipeline sets make_reader before prepare()"
        reader = self.make_reader(exporter, interval_ms if interval_ms is not None else self.export_interval_ms)
        self.readers.append(reader)
        return reader


@dataclass
class InstallContext:
    """What a capability is handed once the providers exist."""

    config: MonitoringConfig
    resource: Resource
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    hub: EventHub
    clock: Clock
    self_telemetry: SelfTelemetry
    store_location: str | None
    store: Callable[[], Store] = field(default=lambda: _no_store())
    """The pipeline's store (the one handed to build_pipeline, else the configured one), opened on first
    call; raises ``StoreError`` when it cannot be opened. Call it off the hot path."""
    span_hooks: SpanHooks = field(default_factory=SpanHooks)
    """The one span processor capabilities share: add a :class:`SpanHook` and switch it on in
    ``start()``, off in ``stop()`` (see :mod:`ricecoder_otel.kernel.span_hooks`)."""
    span_transforms: list[SpanTransform] = field(default_factory=list)
    """The same live list as in the BuildContext: a transform added here applies from the next export."""
    log_transforms: list[LogTransform] = field(default_factory=list)
    metric_transforms: list[MetricsTransform] = field(default_factory=list)
    payload_filters: list[PayloadFilter] = field(default_factory=list)
    """Applied to payloads a capability sends out itself (error reports to Sentry, notification
    texts): the compliance redaction policy adds itself here. Live list; see :func:`filter_payload`."""


def _no_store() -> Store:
    raise RuntimeError("this context has no store")


class Capability(ABC):
    """One capability of the distribution; see the module docstring for the lifecycle."""

    name: ClassVar[str]
    section: ClassVar[str | None] = None
    """The config section holding its ``enabled`` flag; None for kernel parts gated only by the master switch."""

    def enabled_in(self, config: MonitoringConfig) -> bool:
        """On when the master switch and its own section's ``enabled`` are both on."""
        if not config.enabled:
            return False
        if self.section is None:
            return True
        return bool(getattr(getattr(config, self.section), "enabled", True))

    def prepare(self, context: BuildContext) -> None:
        """Contribute readers, views or producers (before the providers are built)."""

    @abstractmethod
    def install(self, context: InstallContext) -> None:
        """Join the built pipeline: processors, instruments, hub subscriptions. Not yet running."""

    def start(self) -> None:
        """Begin (or resume) work: background threads, evaluation loops."""

    def stop(self) -> None:
        """Halt work and join its threads; must be safe to call when already stopped."""

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        """Take a validated config change while running."""

    def after_fork(self) -> None:
        """Re-create threads and locks in a forked child."""

    def shutdown(self) -> None:
        """Release everything at process exit (after :meth:`stop`)."""


CapabilityFactory = Callable[[], Capability]

