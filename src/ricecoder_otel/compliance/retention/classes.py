"""Which rows belong to which data class, and how long each class is kept.

Plain data: one :class:`Purge` per table and data class, a ``WHERE`` clause with one ``?`` (the
cutoff in the table's time unit) or none (orphans whose parent rows are gone). Tables that a
store does not have yet (a capability not migrated there) are skipped, so the list can name
every table the distribution creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from ricecoder_otel.kernel.events import AUDIT_EVENT

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig

DataClass = Literal["telemetry", "analytics", "audit", "incidents", "errors"]
DATA_CLASSES: tuple[DataClass, ...] = ("telemetry", "analytics", "audit", "incidents", "errors")

HIPAA_AUDIT_FLOOR = timedelta(days=6 * 365)
"""45 CFR 164.316(b)(2)(i): documentation is kept six years (2,190 days) under the HIPAA profile."""

DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True)
class Purge:
    """Delete rows of ``table`` matching ``where``; ``unit`` is what the ``?`` cutoff counts."""

    table: str
    where: str
    unit: Literal["ns", "day", "none"] = "ns"
    requires: tuple[str, ...] = ()
    """Other tables the clause reads; the purge is skipped when one is missing."""
    guarded: bool = False
    """The table is append-only outside purges (migration 0007's guard row opens it)."""


PURGES: dict[DataClass, tuple[Purge, ...]] = {
    "telemetry": (
        Purge("spans", "start_ns < ?"),
        Purge("metric_points", "time_ns < ?"),
        Purge("logs", f"time_ns < ? AND event_name <> '{AUDIT_EVENT}'"),
    ),
    "audit": (Purge("logs", f"time_ns < ? AND event_name = '{AUDIT_EVENT}'"),),
    "analytics": (
        Purge("analytics_activity", "last_ns < ?"),
        Purge("analytics_steps", "at_ns < ?"),
        Purge("analytics_profiles", "updated_ns < ?"),
        Purge("analytics_anonymous", "day < ?", unit="day"),
        Purge("analytics_sketches", "day < ?", unit="day"),
        Purge(
            "analytics_aliases",
            "user_hash NOT IN (SELECT user_hash FROM analytics_activity)"
            " AND user_hash NOT IN (SELECT user_hash FROM analytics_profiles)",
            unit="none",
            requires=("analytics_activity", "analytics_profiles"),
        ),
    ),
    "incidents": (
        Purge(
            "incident_timeline",
            "incident_id IN (SELECT id FROM incidents WHERE state = 'resolved' AND resolved_ns < ?)",
            requires=("incidents", "compliance_purge_guard"),
            guarded=True,
        ),
        Purge("incidents", "state = 'resolved' AND resolved_ns < ?"),
        Purge("notify_outbox", "state IN ('delivered', 'dead') AND updated_ns < ?"),
        Purge("notify_log", "sent_ns < ?"),
        Purge("silences", "ends_ns < ?"),
    ),
    "errors": (
        Purge("error_samples", "time_ns < ?"),
        Purge("error_groups", "last_seen_ns < ?"),
        Purge(
            "error_group_users",
            "group_id NOT IN (SELECT id FROM error_groups)",
            unit="none",
            requires=("error_groups",),
        ),
    ),
}


def retention_periods(config: MonitoringConfig) -> dict[DataClass, timedelta]:
    """How long each class is kept under ``config`` (HIPAA's six-year floor applied to audit)."""
    compliance = config.compliance
    classes = compliance.data_retention
    audit = compliance.audit_log_retention
    if "HIPAA" in compliance.standards:
        audit = max(audit, HIPAA_AUDIT_FLOOR)
    return {
        "telemetry": classes.telemetry or config.store.max_age,
        "analytics": classes.analytics or compliance.retention,
        "audit": audit,
        "incidents": classes.incidents or compliance.retention,
        "errors": classes.errors or compliance.retention,
    }
