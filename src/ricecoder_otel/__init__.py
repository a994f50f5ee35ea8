"""ricecoder-otel: OpenTelemetry-native monitoring for Python services.

Most services need nothing from this module: ``opentelemetry-instrument python
app.py`` loads the distribution through its entry points. Applications that
start without ``opentelemetry-instrument`` call :func:`configure` once at
start-up and get the same pipeline.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ricecoder_otel._version import __version__

if TYPE_CHECKING:
    from ricecoder_otel.analytics.api import AnalyticsEngine
    from ricecoder_otel.compliance.reports.engine import ComplianceEngine
    from ricecoder_otel.config import ConfigError, MonitoringConfig
    from ricecoder_otel.errors.tracker import ErrorEvent, ErrorTracker, Severity, capture_exception, track_error
    from ricecoder_otel.metrics.collector import MetricsCollector
    from ricecoder_otel.performance.monitor import PerformanceMonitor
    from ricecoder_otel.performance.timer import PerformanceTimer
    from ricecoder_otel.pipeline import Pipeline

# The public names load on first use: importing an engine such as
# ``ricecoder_otel.anomaly`` must not pull in the SDK pipeline.
_LAZY = {
    "AnalyticsEngine": "ricecoder_otel.analytics.api",
    "ComplianceEngine": "ricecoder_otel.compliance.reports.engine",
    "ConfigError": "ricecoder_otel.config",
    "ErrorEvent": "ricecoder_otel.errors.tracker",
    "ErrorTracker": "ricecoder_otel.errors.tracker",
    "Severity": "ricecoder_otel.errors.tracker",
    "capture_exception": "ricecoder_otel.errors.tracker",
    "track_error": "ricecoder_otel.errors.tracker",
    "MonitoringConfig": "ricecoder_otel.config",
    "MetricsCollector": "ricecoder_otel.metrics.collector",
    "PerformanceMonitor": "ricecoder_otel.performance.monitor",
    "PerformanceTimer": "ricecoder_otel.performance.timer",
    "Pipeline": "ricecoder_otel.pipeline",
    "active_pipeline": "ricecoder_otel.pipeline",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ricecoder_otel' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AnalyticsEngine",
    "ComplianceEngine",
    "ConfigError",
    "ErrorEvent",
    "ErrorTracker",
    "MetricsCollector",
    "MonitoringConfig",
    "PerformanceMonitor",
    "PerformanceTimer",
    "Pipeline",
    "Severity",
    "__version__",
    "active_pipeline",
    "capture_exception",
    "configure",
    "track_error",
]


def configure(
    config: MonitoringConfig | str | os.PathLike[str] | None = None,
    *,
    service_name: str | None = None,
    instrument_logging: bool = True,
) -> Pipeline:
    """Build and install the ricecoder pipeline for this process; idempotent.

    ``config`` is a :class:`MonitoringConfig`, a path to a YAML file, or None to
    load from ``RICECODER_CONFIG_FILE`` and ``RICECODER_*`` variables. Raises
    :class:`ConfigError` listing every problem when the config is invalid: an
    explicit call should fail loudly, unlike start-up under
    ``opentelemetry-instrument``, which falls back to defaults.
    """
    from ricecoder_otel.config import MonitoringConfig, load_config
    from ricecoder_otel.pipeline import active_pipeline, build_pipeline

    existing = active_pipeline()
    if existing is not None:
        return existing
    path: Path | None = None
    if isinstance(config, MonitoringConfig):
        resolved = config
    else:
        path = Path(config) if config is not None else None
        resolved = load_config(path)
    if service_name:
        resolved = resolved.model_copy(update={"service_name": service_name})
        os.environ.setdefault("OTEL_SERVICE_NAME", service_name)
    pipeline = build_pipeline(resolved, config_path=path)
    _instrument_defaults(pipeline, instrument_logging)
    return pipeline


def _instrument_defaults(pipeline: Pipeline, instrument_logging: bool) -> None:
    """What ``opentelemetry-instrument`` would load through instrumentor entry points."""
    metrics = pipeline.config.metrics
    if metrics.enabled and metrics.system_metrics:
        from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor

        instrumentor = SystemMetricsInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(meter_provider=pipeline.meter_provider)
    if instrument_logging:
        from opentelemetry.instrumentation.logging import LoggingInstrumentor

        logging_instrumentor = LoggingInstrumentor()
        if not logging_instrumentor.is_instrumented_by_opentelemetry:
            logging_instrumentor.instrument(logger_provider=pipeline.logger_provider)
