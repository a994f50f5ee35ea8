"""The record of processing activities (GDPR Art. 30) generated from the live configuration.

Each data class is a processing activity with its purpose, the personal data it may hold, where
it goes (the local store and the configured OTLP endpoints, by scheme, host and port only), its
time limit for erasure (Art. 30(1)(f)) and the security measures in force (Art. 30(1)(g)).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ricecoder_otel.compliance.checks.endpoints import otlp_endpoints
from ricecoder_otel.compliance.retention.classes import retention_periods
from ricecoder_otel.config.secrets import redact_dsn

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig

_ACTIVITIES: dict[str, tuple[str, str]] = {
    "telemetry": (
        "Operating and troubleshooting the service (traces, metrics, logs)",
        "user and session ids, IP addresses and other values in span and log attributes, after redaction",
    ),
    "analytics": (
        "Measuring feature use (usage analytics, only with consent)",
        "keyed pseudonyms of user ids, allow-listed traits, feature use per day",
    ),
    "audit": (
        "Accountability and security (tamper-evident audit trail, kept as a legal obligation)",
        "actors (pseudonymised when configured), actions, resources, trace ids",
    ),
    "incidents": (
        "Detecting and responding to incidents",
        "alert labels, acknowledging users, notification payloads",
    ),
    "errors": (
        "Error tracking",
        "affected user ids, error messages and stack traces, after redaction",
    ),
}


def record_of_processing(config: MonitoringConfig, env: Mapping[str, str]) -> dict[str, Any]:
    periods = retention_periods(config)
    recipients = ["local store " + redact_dsn(config.store.location or "(default per-user data directory)")]
    recipients += [f"OTLP collector {e.describe()} ({e.variable})" for e in otlp_endpoints(env)]
    compliance = config.compliance
    measures = [
        f"redaction before export: {'on' if compliance.redaction.enabled else 'OFF'} "
        f"({len(compliance.redaction.builtin)} built-in detectors, "
        f"default action {compliance.redaction.default_action})",
        "analytics user ids replaced by keyed HMAC-SHA-256 pseudonyms before storage",
        f"tamper-evident audit trail: {'on' if compliance.audit_enabled else 'OFF'} (hash chain, signed checkpoints "
        f"every {compliance.audit.checkpoint_interval.total_seconds():g} s)",
        "audit actors pseudonymised" if compliance.audit.pseudonymise_actors else "audit actors recorded by name",
        "exporters checked for TLS to non-loopback hosts (compliance report, exporters-use-tls)",
        f"retention enforced every {compliance.data_retention.interval.total_seconds():g} s, each purge audited",
    ]
    return {
        "controller": config.service_name or env.get("OTEL_SERVICE_NAME", "") or "unknown_service",
        "activities": [
            {
                "data_class": name,
                "purpose": purpose,
                "personal_data": data,
                "data_subjects": "users of the service",
                "recipients": recipients,
                "time_limit_for_erasure_days": round(periods[name].total_seconds() / 86_400, 3),  # type: ignore[index]
            }
            for name, (purpose, data) in _ACTIVITIES.items()
        ],
        "security_measures": measures,
        "standards": list(compliance.standards),
    }
