"""Build ricecoder's OpenTelemetry pipeline.

One builder serves ``opentelemetry-instrument`` (through the configurator entry
point) and :func:`ricecoder_otel.configure`. The order is fixed:

1. environment defaults (:mod:`ricecoder_otel.kernel.defaults`), then the resource;
2. the embedded store location from the config;
3. the MeterProvider: one reader per ``OTEL_METRICS_EXPORTER`` entry plus the
   anomaly feed's delta reader, each also publishing the RED aggregate, and
   ricecoder's views;
4. the TracerProvider: ricecoder's span processors (RED metrics) first, then
   one counting batch processor per ``OTEL_TRACES_EXPORTER`` exporter;
5. the LoggerProvider: one counting batch processor per ``OTEL_LOGS_EXPORTER``
   exporter;
6. self-telemetry instruments, the anomaly events and score gauge, the alert
   rules of kind ``anomaly`` (evaluated after each anomaly feed), then the
   config watcher.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry import metrics as metrics_api
from opentelemetry import trace as trace_api
from opentelemetry._logs import SeverityNumber, set_logger_provider
from opentelemetry.sdk._configuration import (
    _get_exporter_names,
    _get_id_generator,
    _get_sampler,
    _import_exporters,
    _import_id_generator,
    _import_sampler,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from ricecoder_otel._version import __version__
from ricecoder_otel.alerting.otel import AlertLogEmitter
from ricecoder_otel.alerting.rules import RuleEngine
from ricecoder_otel.anomaly.feed import AnomalyFeedExporter
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.anomaly.otel import AnomalyTelemetry
from ricecoder_otel.config import ConfigError, MonitoringConfig, load_config
from ricecoder_otel.kernel.defaults import apply_env_defaults
from ricecoder_otel.kernel.export import CountingBatchLogRecordProcessor, CountingBatchSpanProcessor
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.self_metrics import install_self_metrics
from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red_aggregator import RedAggregator
from ricecoder_otel.metrics.red_export import RedPublisher, with_red_metrics
from ricecoder_otel.metrics.red_processor import RedMetricsProcessor
from ricecoder_otel.metrics.views import default_views

if TYPE_CHECKING:
    from ricecoder_otel.config.watcher import ConfigWatcher

_logger = logging.getLogger("ricecoder_otel")

CONFIG_CHANGED_EVENT = "ricecoder.config.changed"

ConfigListener = Callable[[MonitoringConfig, MonitoringConfig], None]


@dataclass
class AnomalyParts:
    """The anomaly monitor, the reader that feeds it, and its OpenTelemetry output."""

    monitor: AnomalyMonitor
    feed: AnomalyFeedExporter
    reader: PeriodicExportingMetricReader
    telemetry: AnomalyTelemetry | None = None


@dataclass
class Pipeline:
    """The providers and ricecoder components of one configured process."""

    config: MonitoringConfig
    resource: Resource
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    limiter: CardinalityLimiter
    red: RedMetricsProcessor
    anomaly: AnomalyParts
    alerts: RuleEngine
    alert_emitter: AlertLogEmitter
    config_path: Path | None = None
    watcher: ConfigWatcher | None = None
    _listeners: list[ConfigListener] = field(default_factory=list)

    def on_config_change(self, listener: ConfigListener) -> None:
        """Register a capability to be told about a validated config change."""
        self._listeners.append(listener)

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        """Swap in a validated config without a restart, and record the change as an event."""
        from ricecoder_otel.config.watcher import diff_configs

        self.limiter.set_limit(new.metrics.cardinality_limit)
        self.red.enabled = new.metrics.enabled and new.metrics.red_metrics
        self.anomaly.feed.update(new.anomaly.enabled, new.anomaly.metrics)
        self.alerts.set_rules(new.alerting.rules)
        self.config = new
        changed = diff_configs(old, new)
        self.logger_provider.get_logger("ricecoder_otel.config", __version__).emit(
            event_name=CONFIG_CHANGED_EVENT,
            severity_number=SeverityNumber.INFO,
            body=f"configuration reloaded: {', '.join(changed) or 'no effective change'}",
            attributes={"ricecoder.config.changed_paths": changed, "ricecoder.config.path": str(self.config_path)},
        )
        for listener in list(self._listeners):
            try:
                listener(old, new)
            except Exception as error:  # one capability's bug must not block the others
                report_once("config", "a listener failed to apply the new config: %s", type(error).__name__)

    def evaluate_anomaly_rules(self) -> None:
        """Alert rules of kind ``anomaly`` compare each series' current anomaly score."""
        if self.config.alerting.enabled:
            self.alert_emitter.emit(self.alerts.evaluate("anomaly", self.anomaly.monitor.scores()))

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        spans = self.tracer_provider.force_flush(timeout_millis)
        logs = self.logger_provider.force_flush(timeout_millis)
        metrics = self.meter_provider.force_flush(timeout_millis)
        return bool(spans and logs and metrics)

    def shutdown(self) -> None:
        global _ACTIVE
        if self.watcher is not None:
            self.watcher.stop()
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()
        with _LOCK:
            if _ACTIVE is self:
                _ACTIVE = None


_ACTIVE: Pipeline | None = None
_LOCK = threading.Lock()


def active_pipeline() -> Pipeline | None:
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
    return resource


def _configure_store(config: MonitoringConfig) -> None:
    """Point the local exporters at the configured store (opened lazily, on first export)."""
    from ricecoder_otel.store import set_default_store
    from ricecoder_otel.store.records import RetentionPolicy

    retention = RetentionPolicy(
        max_age_ns=int(config.store.max_age.total_seconds() * 1e9),
        max_bytes=config.store.max_size_mb * 1024 * 1024,
    )
    set_default_store(config.store.location, retention=retention)


def _anomaly_parts(config: MonitoringConfig, red: RedPublisher) -> AnomalyParts:
    """The monitor and its own delta reader, fed at the metrics export interval."""
    monitor = AnomalyMonitor()
    feed = AnomalyFeedExporter(monitor, config.anomaly.metrics, enabled=config.anomaly.enabled)
    reader_class = with_red_metrics(PeriodicExportingMetricReader, red)
    return AnomalyParts(monitor, feed, reader_class(feed, export_interval_millis=_interval_ms(config)))


def _interval_ms(config: MonitoringConfig) -> float:
    configured = os.environ.get("OTEL_METRIC_EXPORT_INTERVAL")
    if configured:
        try:
            return float(configured)
        except ValueError:
            report_once("metrics", "OTEL_METRIC_EXPORT_INTERVAL=%r is not a number of milliseconds", configured)
    return config.metrics.export_interval.total_seconds() * 1000


def _metric_readers(config: MonitoringConfig, names: list[str], red: RedPublisher) -> list[MetricReader]:
    """One reader per OTEL_METRICS_EXPORTER entry, each publishing the RED metrics too."""
    _, metric_exporters, _ = _import_exporters([], names, [])
    interval_ms = _interval_ms(config)
    readers: list[MetricReader] = []
    for exporter_class in metric_exporters.values():
        if issubclass(exporter_class, MetricReader):
            readers.append(with_red_metrics(exporter_class, red)())
        else:
            periodic = with_red_metrics(PeriodicExportingMetricReader, red)
            readers.append(periodic(exporter_class(), export_interval_millis=interval_ms))
    return readers


def build_pipeline(
    config: MonitoringConfig,
    *,
    auto_instrumentation_version: str | None = None,
    config_path: Path | None = None,
    set_global: bool = True,
) -> Pipeline:
    """Build (and by default install globally) the whole pipeline for this process."""
    global _ACTIVE
    apply_env_defaults(os.environ)
    resource = _resource(config, auto_instrumentation_version)
    _configure_store(config)

    names = {signal: _get_exporter_names(signal) for signal in ("traces", "metrics", "logs")}
    span_exporters, _, log_exporters = _import_exporters(names["traces"], [], names["logs"])

    limiter = CardinalityLimiter(
        config.metrics.cardinality_limit,
        on_first_overflow=lambda metric, limit: report_once(
            "metrics", "metric %s exceeded its cardinality limit of %d series; "
            "new series go to the otel.metric.overflow=true series", metric, limit
        ),
    )
    red = RedMetricsProcessor(RedAggregator(limiter, tuple(config.metrics.duration_buckets_seconds)))
    red.enabled = config.metrics.enabled and config.metrics.red_metrics
    publisher = RedPublisher(red.aggregator, resource)
    anomaly = _anomaly_parts(config, publisher)
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[*_metric_readers(config, names["metrics"], publisher), anomaly.reader],
        views=default_views(),
    )

    tracer_provider = TracerProvider(
        resource=resource,
        sampler=_import_sampler(_get_sampler()),
        id_generator=_import_id_generator(_get_id_generator()),
    )
    tracer_provider.add_span_processor(red)
    for span_exporter in span_exporters.values():
        tracer_provider.add_span_processor(CountingBatchSpanProcessor(span_exporter()))

    logger_provider = LoggerProvider(resource=resource)
    for log_exporter in log_exporters.values():
        logger_provider.add_log_record_processor(CountingBatchLogRecordProcessor(log_exporter()))

    install_self_metrics(meter_provider.get_meter("ricecoder_otel.self", __version__))
    anomaly.telemetry = AnomalyTelemetry(
        anomaly.monitor, logger_provider=logger_provider, meter_provider=meter_provider
    )

    pipeline = Pipeline(
        config=config,
        resource=resource,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        limiter=limiter,
        red=red,
        anomaly=anomaly,
        alerts=RuleEngine(config.alerting.rules),
        alert_emitter=AlertLogEmitter(logger_provider),
        config_path=config_path or config_file_from_env(),
    )
    anomaly.feed.after_feed = pipeline.evaluate_anomaly_rules
    if set_global:
        trace_api.set_tracer_provider(tracer_provider)
        metrics_api.set_meter_provider(meter_provider)
        set_logger_provider(logger_provider)
        with _LOCK:
            _ACTIVE = pipeline
    _start_watcher(pipeline)
    return pipeline


def _start_watcher(pipeline: Pipeline) -> None:
    if pipeline.config_path is None:
        return
    from ricecoder_otel.config.watcher import ConfigWatcher

    # The watcher itself logs one warning listing every problem of a rejected change.
    pipeline.watcher = ConfigWatcher(pipeline.config_path, on_change=pipeline.apply, initial=pipeline.config)
    pipeline.watcher.start()
