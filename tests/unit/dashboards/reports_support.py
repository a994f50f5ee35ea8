"""Fill a real store with what the report providers read: error groups, analytics rows, compliance reports."""

from __future__ import annotations

import uuid

from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.compliance.reports import ComplianceEngine, ComplianceReport
from ricecoder_otel.compliance.reports.store import ReportStore
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.errors.engine import ErrorEngine, Occurrence
from ricecoder_otel.errors.store import ErrorStore, StoredSample
from ricecoder_otel.store.base import Store
from ricecoder_otel.testing import ManualClock
from tests.unit.analytics.scenario import at, engine, feed

T0 = 1_800_000_000.0
"""Error occurrences happen at T0 + 10 s (ValueError, 3 times by 2 users, shop) and T0 + 50 s (KeyError, pay)."""


def fill_errors(store: Store, base: float = T0) -> dict[str, str]:
    """Two groups from two services, ``base`` standing for T0; returns error type -> group id."""
    errors, found = ErrorStore(store), {}
    for kind, times, service, users in (
        ("ValueError", [base + 10, base + 11, base + 12], "shop", ["ann", "bob", "ann"]),
        ("KeyError", [base + 50], "pay", ["cy"]),
    ):
        engine_ = ErrorEngine(clock=ManualClock(base))
        samples = []
        for when, user in zip(times, users, strict=True):
            outcome = engine_.record(
                Occurrence(str(uuid.uuid4()), kind, f"<b>{kind}</b> broke", "", when, user_id=user)
            )
            assert outcome is not None
            found[kind] = outcome.group.id
            samples.append(StoredSample.of(outcome.group.id, outcome.occurrence))
        errors.write(engine_.drain_pending(), samples, [], service_name=service)
    return found


def fill_analytics(store: Store) -> None:
    """The analytics scenario (tests/unit/analytics/scenario.py): users a-d on days 0-15."""
    core = engine()
    feed(core)
    AnalyticsStore(store, "r1").write(core.drain(), at(15, 23))


def fill_compliance(store: Store, generated: float) -> ComplianceReport:
    """A SOC 2 report generated at ``generated`` with no audit journal (so some controls are not evaluated)."""
    config = MonitoringConfig.model_validate({"service_name": "shop"})
    engine_ = ComplianceEngine(config, store=store, env={}, clock=lambda: generated)
    report = engine_.generate_compliance_report("SOC2", generated - 86_400, generated)
    ReportStore(store).save(report)
    return report
