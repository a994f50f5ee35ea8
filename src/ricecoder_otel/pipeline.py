"""Build ricecoder's OpenTelemetry pipeline: a loop over the capability registry.

One builder serves ``opentelemetry-instrument`` (through the configurator entry point), the
programmatic :func:`ricecoder_otel.configure` and the pytest plugin. The order is fixed:

1. environment defaults (:mod:`ricecoder_otel.kernel.defaults`), the resource, the event hub;
2. every capability's :meth:`~ricecoder_otel.kernel.capability.Capability.prepare`: metric
   readers, views and producers (the MeterProvider takes them at construction);
3. the providers: MeterProvider (cardinality-capped), TracerProvider, LoggerProvider;
4. every capability's ``install``: span processors in registry order, so RED metrics see each
   span before the exporting processors; then the exporting processors for spans and logs;
5. the hub's log-record bridge, then ``start`` of every capability that is switched on;
6. the config watcher, whose changes reach :meth:`Pipeline.apply`.

Exporters, readers, the store and the clock are parameters; the ``OTEL_*`` lookup is only the
default when they are not given.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics as metrics_api
from opentelemetry import trace as trace_api
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._configuration import (
    _get_exporter_names,
    _get_id_generator,
    _get_sampler,
    _import_exporters,
    _import_id_generator,
    _import_sampler,
)
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from ricecoder_otel._version import __version__
from ricecoder_otel.config import ConfigError, MonitoringConfig, load_config
from ricecoder_otel.config.model import metrics_exporters
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.kernel.capability import BuildContext, Capability, InstallContext
from ricecoder_otel.kernel.defaults import apply_env_defaults, set_by_user
from ricecoder_otel.kernel.event_log import EventLogBridge
from ricecoder_otel.kernel.events import ConfigChanged, EventHub
from ricecoder_otel.kernel.export import (
    CountingBatchLogRecordProcessor,
    CountingBatchSpanProcessor,
    EdgeSafeLogProcessor,
    IsolatingLogExporter,
    IsolatingSpanExporter,
)
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.reader import PullGate, attach_producers, controlled_reader_factory, gated_pull_reader
from ricecoder_otel.kernel.registry import load_capabilities
from ricecoder_otel.kernel.resource import hash_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.shutdown import ShutdownReport, shutdown_within
from ricecoder_otel.kernel.span_hooks import SpanHooks
from ricecoder_otel.kernel.transform import TransformingLogExporter, TransformingSpanExporter
from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.limited_provider import CardinalityLimitedMeterProvider

if TYPE_CHECKING:
    from ricecoder_otel.config.watcher import ConfigWatcher
    from ricecoder_otel.store import Store

_logger = logging.getLogger("ricecoder_otel")

CONFIG_CHANGED_EVENT = ConfigChanged.event_name

Clock = Callable[[], float]


@dataclass
class Pipeline:
    """The providers, the event hub and the capabilities of one configured process."""

    config: MonitoringConfig
    resource: Resource
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    hub: EventHub
    limiter: CardinalityLimiter
    capabilities: list[Capability]
    export_processors: list[CountingBatchSpanProcessor | CountingBatchLogRecordProcessor]
    config_path: Path | None = None
    watcher: ConfigWatcher | None = None
    logging_handler: logging.Handler | None = None
    running: set[str] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _closed: bool = False

    def capability(self, name: str) -> Capability:
        """The installed capability called ``name`` (``KeyError`` if there is none)."""
        for capability in self.capabilities:
            if capability.name == name:
                return capability
        raise KeyError(f"no capability named {name!r}; installed: {[c.name for c in self.capabilities]}")

    # -- switching and live reconfiguration ------------------------------------------------

    def _switch(self, capability: Capability, on: bool) -> None:
        """Start or stop one capability; its failure is reported, never raised."""
        try:
            if on and capability.name not in self.running:
                capability.start()
                self.running.add(capability.name)
            elif not on and capability.name in self.running:
                capability.stop()
                self.running.discard(capability.name)
        except Exception as error:  # one capability's bug must not stop the others
            SELF_TELEMETRY.count_error(f"capability.{capability.name}")
            report_once("pipeline", "capability %s failed to %s: %s", capability.name, "start" if on else "stop",
                        type(error).__name__)

    def start(self) -> None:
        """Start every capability the config switches on, and open the export processors."""
        with self._lock:
            for capability in self.capabilities:
                self._switch(capability, capability.enabled_in(self.config))
            self._gate_exports(self.config.enabled)

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        """Swap in a validated config without a restart, and publish the change on the hub."""
        from ricecoder_otel.config.watcher import diff_configs

        with self._lock:
            self.limiter.set_limit(new.metrics.cardinality_limit)
            for capability in self.capabilities:
                on = capability.enabled_in(new)
                if on:
                    try:
                        capability.apply(old, new)
                    except Exception as error:
                        SELF_TELEMETRY.count_error(f"capability.{capability.name}")
                        report_once("pipeline", "capability %s failed to apply the new config: %s",
                                    capability.name, type(error).__name__)
                self._switch(capability, on)
            self._gate_exports(new.enabled)
            self.config = new
        changed = tuple(diff_configs(old, new))
        self.hub.publish(ConfigChanged(at=self.hub.clock(), changed_paths=changed, source=str(self.config_path)))

    def reject(self, error: ConfigError) -> None:
        """A config change that did not validate: the running config stays; the reasons are an event."""
        self.hub.publish(
            ConfigChanged(
                at=self.hub.clock(),
                source=str(self.config_path),
                accepted=False,
                problems=tuple(str(problem) for problem in error.problems),
            )
        )

    def _gate_exports(self, on: bool) -> None:
        for processor in self.export_processors:
            processor.accepting = on

    # -- flushing and shutdown --------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Deliver queued events, collect metrics, and export everything queued."""
        events = self.hub.flush(timeout_millis / 1000)
        metrics = self.meter_provider.force_flush(timeout_millis)
        events = self.hub.flush(timeout_millis / 1000) and events  # events raised by the collection
        spans = self.tracer_provider.force_flush(timeout_millis)
        logs = self.logger_provider.force_flush(timeout_millis)
        return bool(spans and logs and metrics and events)

    def shutdown(self, timeout: float | None = None) -> ShutdownReport:
        """Stop everything within ``timeout`` seconds (default ``shutdown_timeout``); never blocks longer.

        What could not be sent in time is counted in the returned report and on stderr.
        """
        global _ACTIVE
        with self._lock:
            if self._closed:
                return ShutdownReport()
            self._closed = True
        budget = timeout if timeout is not None else self.config.shutdown_timeout.total_seconds()
        if self.watcher is not None:
            self.watcher.stop()
        if self.logging_handler is not None:
            logging.getLogger().removeHandler(self.logging_handler)
        report = shutdown_within(budget, self._shutdown_steps(), self.export_processors)
        with _LOCK:
            if _ACTIVE is self:
                _ACTIVE = None
        return report

    def _shutdown_steps(self) -> list[tuple[str, Callable[[float], object]]]:
        """Independent steps run in parallel, each given the time left."""

        capabilities_stopped = threading.Event()

        def metrics(left: float) -> None:
            try:
                for capability in reversed(self.capabilities):
                    self._switch(capability, False)
                    capability.shutdown()  # flushes publish their last events; readers take a last collection
            finally:
                capabilities_stopped.set()
            self.meter_provider.shutdown(timeout_millis=left * 1000)

        def events_then_logs(left: float) -> None:
            # Events published while capabilities stop become log records, so the hub drains
            # after them and the log pipeline closes after the hub.
            capabilities_stopped.wait(left)
            self.hub.shutdown(left)
            self.logger_provider.shutdown()

        return [
            ("metrics", metrics),
            ("events+logs", events_then_logs),
            ("spans", lambda _: self.tracer_provider.shutdown()),
        ]

    def _after_fork_in_child(self) -> None:
        for capability in self.capabilities:
            try:
                capability.after_fork()
            except Exception as error:
                report_once("pipeline", "capability %s failed after fork: %s", capability.name, type(error).__name__)


_ACTIVE: Pipeline | None = None
_LOCK = threading.Lock()


def active_pipeline() -> Pipeline | None:
    """The pipeline installed globally in this process (the entry points must find it)."""
    return _ACTIVE


def config_file_from_env() -> Path | None:
    value = os.environ.get("RICECODER_CONFIG_FILE")
    return Path(value) if value else None


def load_startup_config() -> MonitoringConfig:
    """Load the config; at start-up an invalid config falls back to defaults, loudly.

    The application must start even when its monitoring config is broken.
    """
    try:
        return load_config()
    except ConfigError as error:
        _logger.error("ricecoder-otel: invalid configuration, running with defaults:\n%s", error)
        return MonitoringConfig()


def _resource(config: MonitoringConfig, auto_instrumentation_version: str | None) -> Resource:
    attributes: dict[str, str] = {
        "telemetry.distro.name": "ricecoder-otel",
        "telemetry.distro.version": __version__,
    }
    if auto_instrumentation_version:
        attributes["telemetry.auto.version"] = auto_instrumentation_version
    resource = Resource.create(attributes)
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the config file.
    if config.service_name and str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": config.service_name}))
    return hash_once(resource)


def _configure_store(config: MonitoringConfig, store: Store | str | None) -> Store | None:
    """Point the local exporters at the store; a Store instance is used as is, a location opens lazily."""
    from ricecoder_otel.store import Store as StoreClass
    from ricecoder_otel.store import set_default_store
    from ricecoder_otel.store.records import RetentionPolicy

    if isinstance(store, StoreClass):
        return store
    retention = RetentionPolicy(
        max_age_ns=int(config.store.max_age.total_seconds() * 1e9),
        max_bytes=config.store.max_size_mb * 1024 * 1024,
    )
    set_default_store(store if store is not None else config.store.location, retention=retention)
    return None


def _store_opener(store: Store | None) -> Callable[[], Store]:
    """The injected store, else the process default (pointed at the configured location above)."""

    def open_pipeline_store() -> Store:
        if store is not None:
            return store
        from ricecoder_otel.store import get_default_store

        return get_default_store()

    return open_pipeline_store


def export_interval_ms(config: MonitoringConfig) -> float:
    """``OTEL_METRIC_EXPORT_INTERVAL`` when it is a positive number of milliseconds, else the config's."""
    configured = os.environ.get("OTEL_METRIC_EXPORT_INTERVAL")
    if configured:
        try:
            value = float(configured)
            if 0 < value < 86_400_000:
                return value
        except ValueError:
            pass
        report_once("metrics", "OTEL_METRIC_EXPORT_INTERVAL=%r is not a positive number of milliseconds "
                    "up to a day; using metrics.export_interval", configured)
    return config.metrics.export_interval.total_seconds() * 1000


def _local(exporter_class: type[Any], store: Store | None) -> Any:
    """Instantiate an exporter class; our local exporters get the injected store."""
    from ricecoder_otel.store.exporters import LocalLogExporter, LocalMetricExporter, LocalSpanExporter

    if store is not None and exporter_class in (LocalSpanExporter, LocalMetricExporter, LocalLogExporter):
        return exporter_class(store=store)
    return exporter_class()


def _metric_exporter_names(config: MonitoringConfig) -> list[str]:
    """``OTEL_METRICS_EXPORTER`` set by the user wins; then ``metrics.exporters``; then the default."""
    if not set_by_user("OTEL_METRICS_EXPORTER"):
        configured = metrics_exporters(config.metrics, {})
        if configured is not None:
            return configured
    return list(_get_exporter_names("metrics"))


def _default_metric_exporters(
    config: MonitoringConfig, store: Store | None, build: BuildContext
) -> list[MetricExporter | PullGate]:
    _, classes, _ = _import_exporters([], _metric_exporter_names(config), [])
    exporters: list[MetricExporter | PullGate] = []
    for exporter_class in classes.values():
        if issubclass(exporter_class, MetricReader):
            exporters.append(gated_pull_reader(exporter_class, build.producers, build.metric_transforms))
        else:
            exporters.append(_local(exporter_class, store))
    return exporters


def build_pipeline(
    config: MonitoringConfig,
    *,
    auto_instrumentation_version: str | None = None,
    config_path: Path | None = None,
    set_global: bool = True,
    store: Store | str | None = None,
    span_exporters: Sequence[SpanExporter] | None = None,
    metric_readers: Sequence[MetricExporter | MetricReader] | None = None,
    log_exporters: Sequence[LogRecordExporter] | None = None,
    clock: Clock = time.time,
    capabilities: Sequence[Capability] | None = None,
    watch_config: bool = True,
    hub: EventHub | None = None,
) -> Pipeline:
    """Build (and by default install globally) the whole pipeline for this process.

    Every dependency can be handed in: ``span_exporters``, ``metric_readers`` (a metric exporter
    gets a controlled periodic reader carrying RED metrics; a reader instance is registered as
    is), ``log_exporters``, the ``store`` (a :class:`~ricecoder_otel.store.Store` or a location)
    and the ``clock``. Left out, they come from the standard ``OTEL_*`` variables and the config.
    """
    global _ACTIVE
    apply_env_defaults(os.environ)
    resource = _resource(config, auto_instrumentation_version)
    store_instance = _configure_store(config, store)
    hub = hub or EventHub(clock=clock)
    limiter = CardinalityLimiter(
        config.metrics.cardinality_limit,
        on_first_overflow=lambda metric, limit: report_once(
            "metrics", "metric %s exceeded its cardinality limit of %d series; "
            "new series go to the otel.metric.overflow=true series", metric, limit
        ),
    )
    build = BuildContext(
        config=config,
        resource=resource,
        hub=hub,
        clock=clock,
        self_telemetry=SELF_TELEMETRY,
        export_interval_ms=export_interval_ms(config),
        limiter=limiter,
    )
    build.make_reader = controlled_reader_factory(build.producers, build.metric_transforms)
    if metric_readers is None:
        build.metric_exporters = _default_metric_exporters(config, store_instance, build)
    else:
        build.metric_exporters = [r for r in metric_readers if isinstance(r, MetricExporter)]
        build.readers.extend(r for r in metric_readers if isinstance(r, MetricReader))
    installed = _guarded(
        "prepare", list(capabilities) if capabilities is not None else load_capabilities(), build
    )
    for reader in metric_readers or ():
        if isinstance(reader, MetricReader):
            attach_producers(reader, build.producers, build.metric_transforms)

    # Every instrument is capped by the configured cardinality limit, the raw OpenTelemetry API's too.
    meter_provider: MeterProvider = CardinalityLimitedMeterProvider(
        limiter, resource=resource, metric_readers=build.readers, views=build.views, shutdown_on_exit=False
    )
    tracer_provider = TracerProvider(
        resource=resource,
        sampler=_import_sampler(_get_sampler()),
        id_generator=_import_id_generator(_get_id_generator()),
        shutdown_on_exit=False,
    )
    span_hooks = SpanHooks()
    tracer_provider.add_span_processor(span_hooks)  # first: capabilities see each span before it is exported
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    # First: bodies and attributes become exportable (cycles, depth, size) before anyone walks them.
    logger_provider.add_log_record_processor(EdgeSafeLogProcessor())
    context = InstallContext(
        config=config,
        resource=resource,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        hub=hub,
        clock=clock,
        self_telemetry=SELF_TELEMETRY,
        store_location=config.store.location,
        store=_store_opener(store_instance),
        span_hooks=span_hooks,
        span_transforms=build.span_transforms,
        log_transforms=build.log_transforms,
        metric_transforms=build.metric_transforms,
    )
    installed = _guarded("install", installed, context)

    if span_exporters is None or log_exporters is None:
        names = {signal: _get_exporter_names(signal) for signal in ("traces", "logs")}
        span_classes, _, log_classes = _import_exporters(names["traces"], [], names["logs"])
        if span_exporters is None:
            span_exporters = [_local(cls, store_instance) for cls in span_classes.values()]
        if log_exporters is None:
            log_exporters = [_local(cls, store_instance) for cls in log_classes.values()]
    export_processors = _install_exporters(context, span_exporters, log_exporters)
    EventLogBridge(hub, logger_provider)

    pipeline = Pipeline(
        config=config,
        resource=resource,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        hub=hub,
        limiter=limiter,
        capabilities=installed,
        export_processors=export_processors,
        config_path=config_path or config_file_from_env(),
    )
    pipeline.start()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=pipeline._after_fork_in_child)
    if set_global:
        trace_api.set_tracer_provider(tracer_provider)
        metrics_api.set_meter_provider(meter_provider)
        set_logger_provider(logger_provider)
        pipeline.logging_handler = _sdk_logging_handler(logger_provider)
        with _LOCK:
            _ACTIVE = pipeline
        atexit.register(pipeline.shutdown)
    if watch_config:
        _start_watcher(pipeline)
    return pipeline


def _install_exporters(
    context: InstallContext, span_exporters: Sequence[SpanExporter], log_exporters: Sequence[LogRecordExporter]
) -> list[CountingBatchSpanProcessor | CountingBatchLogRecordProcessor]:
    """One counting batch processor per exporter, after every capability's hooks; each exporter
    wrapped by the export transforms and by isolation (innermost, so it sees the transformed items)."""
    processors: list[CountingBatchSpanProcessor | CountingBatchLogRecordProcessor] = []
    for span_exporter in span_exporters:
        transformed = TransformingSpanExporter(IsolatingSpanExporter(span_exporter), context.span_transforms)
        span_processor = CountingBatchSpanProcessor(transformed)
        context.span_hooks.add_exporting(span_processor)
        processors.append(span_processor)
    for log_exporter in log_exporters:
        transformed_logs = TransformingLogExporter(IsolatingLogExporter(log_exporter), context.log_transforms)
        log_processor = CountingBatchLogRecordProcessor(transformed_logs)
        context.logger_provider.add_log_record_processor(log_processor)
        processors.append(log_processor)
    return processors


def _guarded(step: str, capabilities: list[Capability], context: BuildContext | InstallContext) -> list[Capability]:
    """Run ``prepare`` or ``install`` of each capability; one that fails is reported and left out,
    so a broken capability (or its broken store) never stops the application or the others."""
    kept: list[Capability] = []
    for capability in capabilities:
        try:
            getattr(capability, step)(context)
        except Exception as error:
            SELF_TELEMETRY.count_error(f"capability.{capability.name}")
            report_once("pipeline", "capability %s failed to %s and is left out: %s: %s", capability.name, step,
                        type(error).__name__, redact_dsn(str(error))[:300])
            continue
        kept.append(capability)
    return kept


def _sdk_logging_handler(logger_provider: LoggerProvider) -> logging.Handler | None:
    """With ``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true`` the logging instrumentation
    leaves the handler to the SDK configurator (which we replace), so we install it; otherwise
    the instrumentation installs its own and we add none (each record is exported once).
    """
    if os.environ.get("OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED", "").strip().lower() != "true":
        return None
    root = logging.getLogger()
    if any(isinstance(handler, LoggingHandler) for handler in root.handlers):
        return None
    handler = LoggingHandler(level=logging.NOTSET, logger_provider=logger_provider)
    root.addHandler(handler)
    return handler


def _start_watcher(pipeline: Pipeline) -> None:
    if pipeline.config_path is None:
        return
    from ricecoder_otel.config.watcher import ConfigWatcher

    # The watcher itself logs one warning listing every problem of a rejected change.
    pipeline.watcher = ConfigWatcher(
        pipeline.config_path, on_change=pipeline.apply, on_error=pipeline.reject, initial=pipeline.config
    )
    pipeline.watcher.start()
