"""Every report provider on SQLite and on a real PostgreSQL server: same rows from the same writes."""

from __future__ import annotations

import pytest

from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.kernel.reports import ReportWindow, report
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.store.exporters import LocalLogExporter
from ricecoder_otel.testing import RicecoderCapture
from tests.integration.store.conftest import StoreFactory
from tests.unit.analytics.scenario import at
from tests.unit.dashboards.reports_support import T0, fill_analytics, fill_compliance, fill_errors
from tests.unit.performance.traces import db, request

S = 1_000_000_000


def test_every_provider_reads_both_backends(make_store: StoreFactory, ricecoder_capture: RicecoderCapture) -> None:
    store = make_store()
    ids = fill_errors(store)
    fill_analytics(store)
    saved = fill_compliance(store, T0 + 10)
    capability = ricecoder_capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability)
    for _ in range(3):
        request("/orders", 100, [db(10, 90)])
    capability.process_now()
    ricecoder_capture.advance(30)
    capability.process_now()
    LocalLogExporter(store=store).export([r for r in ricecoder_capture.logs() if r.log_record.event_name])
    now = ricecoder_capture.clock()

    groups = report("errors.groups", store, ReportWindow(int(T0 * S), int((T0 + 100) * S), {"service": "shop"}))
    assert [(r[0], r[5], r[6]) for r in groups.rows] == [(ids["ValueError"][:12], 3, 2)]
    perf = report("performance.percentiles", store, ReportWindow(int((now - 3600) * S), int((now + 1) * S)))
    orders = next(r for r in perf.rows if r[1] == "GET /orders")
    assert orders[2] == 3 and orders[3] == pytest.approx(0.1, rel=0.02) and orders[8] == "database"
    adoption = report("analytics.adoption", store, ReportWindow(int(at(0, 0) * S), int(at(15, 23) * S)))
    assert [(r[0], r[1], r[2]) for r in adoption.rows] == [("export", 4, 3), ("search", 4, 3)]
    status = report("compliance.status", store, ReportWindow(int(T0 * S), int((T0 + 60) * S), {"standard": "SOC2"}))
    assert [(r[1], r[3]) for r in status.rows] == [(c.id, c.status) for c in saved.controls]

    for uid in ("errors", "performance", "analytics", "compliance"):  # every built-in panel evaluates, none fails
        snapshot = take_snapshot(store, builtin_dashboards()[uid], end_ns=int((T0 + 60) * S))  # type: ignore[arg-type]
        assert [p for p, data in snapshot["panels"].items() if data["kind"] == "error"] == [], uid
