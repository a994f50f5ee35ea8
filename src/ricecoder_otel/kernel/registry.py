"""The capabilities of the distribution, in pipeline order: the one place that lists them.

Order matters where processors stack: span processors are added in this order, before the
exporting processors, so RED metrics see every span before it is exported. A capability is
named by import path so that importing the registry does not import every engine.
"""

from __future__ import annotations

import importlib

from ricecoder_otel.kernel.capability import Capability

CAPABILITIES: tuple[str, ...] = (
    "ricecoder_otel.metrics.capability:MetricsCapability",
    "ricecoder_otel.compliance.redaction.capability:RedactionCapability",
    "ricecoder_otel.anomaly.capability:AnomalyCapability",
    "ricecoder_otel.alerting.capability:AlertingCapability",
    "ricecoder_otel.errors.capability:ErrorsCapability",
    "ricecoder_otel.performance.capability:PerformanceCapability",
    "ricecoder_otel.analytics.capability:AnalyticsCapability",
    "ricecoder_otel.alerting.notify.capability:NotificationCapability",
    "ricecoder_otel.compliance.audit.capability:AuditCapability",
    "ricecoder_otel.compliance.retention.capability:RetentionCapability",
    "ricecoder_otel.compliance.reports.capability:ComplianceReportingCapability",
    "ricecoder_otel.kernel.self_metrics:SelfTelemetryCapability",
    "ricecoder_otel.dashboards.capability:DashboardsCapability",
)


def load_capabilities(paths: tuple[str, ...] = CAPABILITIES) -> list[Capability]:
    """A fresh instance of every registered capability (one set per pipeline)."""
    capabilities: list[Capability] = []
    for path in paths:
        module_name, _, class_name = path.partition(":")
        factory = getattr(importlib.import_module(module_name), class_name)
        capabilities.append(factory())
    return capabilities
