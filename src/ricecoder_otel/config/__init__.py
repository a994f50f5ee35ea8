"""Configuration: the model, loading with precedence, validation, hot reload and reference docs."""

from ricecoder_otel.config.duration import Duration, PositiveDuration, format_duration, parse_duration
from ricecoder_otel.config.errors import ConfigError, ConfigProblem
from ricecoder_otel.config.loader import load_config
from ricecoder_otel.config.model import (
    AlertingConfig,
    AlertRule,
    AnalyticsConfig,
    AnomalyConfig,
    ComplianceConfig,
    DashboardsConfig,
    ErrorTrackingConfig,
    MetricsConfig,
    MonitoringConfig,
    PerformanceConfig,
    RedactionConfig,
    StoreConfig,
)
from ricecoder_otel.config.secrets import mask_secrets, redact_dsn
from ricecoder_otel.config.watcher import ConfigWatcher, diff_configs

__all__ = [
    "AlertRule",
    "AlertingConfig",
    "AnalyticsConfig",
    "AnomalyConfig",
    "ComplianceConfig",
    "ConfigError",
    "ConfigProblem",
    "ConfigWatcher",
    "DashboardsConfig",
    "Duration",
    "ErrorTrackingConfig",
    "MetricsConfig",
    "MonitoringConfig",
    "PerformanceConfig",
    "PositiveDuration",
    "RedactionConfig",
    "StoreConfig",
    "diff_configs",
    "format_duration",
    "load_config",
    "mask_secrets",
    "parse_duration",
    "redact_dsn",
]
