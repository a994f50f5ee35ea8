"""Retention per data class: stored rows older than their class's period are purged, each purge audited."""

from ricecoder_otel.compliance.retention.classes import DATA_CLASSES, HIPAA_AUDIT_FLOOR, retention_periods
from ricecoder_otel.compliance.retention.engine import ClassPurge, RetentionEngine, RetentionRun

__all__ = [
    "DATA_CLASSES",
    "HIPAA_AUDIT_FLOOR",
    "ClassPurge",
    "RetentionEngine",
    "RetentionRun",
    "retention_periods",
]
