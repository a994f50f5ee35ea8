"""The report registry and every capability's providers, on a real SQLite store filled by each capability's own code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.kernel import reports
from ricecoder_otel.kernel.reports import ReportColumn, ReportError, ReportTable, ReportWindow, known_reports, report
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.store import Store, open_store
from ricecoder_otel.store.records import RetentionPolicy
from ricecoder_otel.testing import RicecoderCapture
from tests.unit.analytics.scenario import at
from tests.unit.dashboards.reports_support import T0, fill_analytics, fill_compliance, fill_errors
from tests.unit.performance.test_cli import store_records
from tests.unit.performance.traces import db, http, request

S = 1_000_000_000
KEEP_ALL = RetentionPolicy(max_age_ns=None, max_bytes=None)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(str(tmp_path / "telemetry.db"), retention=KEEP_ALL) as opened:
        yield opened


def window(since_s: float, until_s: float, **params: str) -> ReportWindow:
    return ReportWindow(int(since_s * S), int(until_s * S), params)


def rows(table: ReportTable, *columns: str) -> list[tuple[object, ...]]:
    return [tuple(row[table.column(c)] for c in columns) for row in table.rows]


# -- the registry ---------------------------------------------------------------------------------


def test_every_capability_registers_its_reports_on_first_lookup() -> None:
    known = known_reports()
    assert list(known) == [
        "analytics.active", "analytics.adoption", "compliance.status", "errors.groups", "performance.percentiles",
    ]  # fmt: skip
    groups = known["errors.groups"]
    assert set(groups.params) == {"limit", "service", "status"} and groups.description
    assert [(c.name, c.type, c.unit) for c in groups.columns if c.name in ("count", "last_seen")] == [
        ("count", "integer", "{error}"), ("last_seen", "time", "")]  # fmt: skip


def test_unknown_names_and_parameters_are_refused_with_what_is_known(store: Store) -> None:
    with pytest.raises(ReportError, match=r"unknown report 'errors\.nope'; known: analytics\.active, .*errors\.groups"):
        report("errors.nope", store, window(T0, T0 + 1))
    with pytest.raises(ReportError, match=r"takes no parameter 'route' \(parameters: limit, service, status\)"):
        report("errors.groups", store, window(T0, T0 + 1, route="/x"))
    with pytest.raises(ReportError, match="limit: expected a whole number, got 'ten'"):
        report("errors.groups", store, window(T0, T0 + 1, limit="ten"))
    with pytest.raises(ReportError, match="limit: expected 1 to 1000, got 0"):
        report("errors.groups", store, window(T0, T0 + 1, limit="0"))


def test_a_name_is_registered_once_and_a_provider_is_a_function_of_store_and_window(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "_REPORTS", dict(reports._REPORTS))  # leave the process's registry as it was
    columns = (ReportColumn("since"), ReportColumn("until", "time"))

    def echo(given: Store, w: ReportWindow) -> ReportTable:
        assert given is store
        return ReportTable(columns, [(w.param("who", "nobody"), w.until_ns / S)])

    reports.register_report("test.echo", echo, description="echo", columns=columns, params={"who": "a name"})
    reports.register_report("test.echo", echo, description="echo", columns=columns, params={"who": "a name"})  # again
    with pytest.raises(ValueError, match=r"'test\.echo' is registered already"):
        reports.register_report("test.echo", lambda s, w: echo(s, w), description="other", columns=columns)
    assert report("test.echo", store, window(1, 2, who="ann")).rows == [("ann", 2.0)]
    assert report("test.echo", store, window(1, 2, who="*")).rows == [("nobody", 2.0)]  # "*" is "all"


# -- errors.groups ----------------------------------------------------------------------------------


def test_error_groups_seen_in_the_window_most_frequent_first(store: Store) -> None:
    ids = fill_errors(store)
    table = report("errors.groups", store, window(T0, T0 + 100))
    assert rows(table, "group", "service", "status", "count", "users", "first_seen", "last_seen") == [
        (ids["ValueError"][:12], "shop", "unresolved", 3, 2, T0 + 10, T0 + 12),
        (ids["KeyError"][:12], "pay", "unresolved", 1, 1, T0 + 50, T0 + 50),
    ]
    assert table.rows[0][table.column("title")] == "ValueError: <b>ValueError</b> broke"  # as stored: text
    assert rows(report("errors.groups", store, window(T0, T0 + 100, service="pay")), "service") == [("pay",)]
    assert rows(report("errors.groups", store, window(T0, T0 + 100, status="resolved")), "group") == []
    assert len(report("errors.groups", store, window(T0, T0 + 100, limit="1")).rows) == 1
    assert rows(report("errors.groups", store, window(T0 + 20, T0 + 100)), "service") == [("pay",)]  # last seen
    assert report("errors.groups", store, window(T0 - 100, T0 + 5)).rows == []  # first seen after the window
    with pytest.raises(ReportError, match="status: expected unresolved or resolved"):
        report("errors.groups", store, window(T0, T0 + 100, status="open"))


# -- performance.percentiles ------------------------------------------------------------------------


def test_percentiles_per_operation_from_the_stored_summaries(
    ricecoder_capture: RicecoderCapture, tmp_path: Path
) -> None:
    capability = ricecoder_capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability)
    for millis in (100, 100, 100, 400):
        request("/orders", millis, [db(10, millis - 20), http(millis - 20, millis - 10)])
    request("/health", 5, [])
    capability.process_now()
    ricecoder_capture.advance(30)
    capability.process_now()
    store_records(ricecoder_capture, tmp_path / "perf.db")
    now = ricecoder_capture.clock()
    with open_store(str(tmp_path / "perf.db"), retention=KEEP_ALL) as store:
        table = report("performance.percentiles", store, window(now - 3600, now + 1))
        orders = next(r for r in table.rows if r[table.column("operation")] == "GET /orders")
        by = {c.name: orders[i] for i, c in enumerate(table.columns)}
        assert (by["kind"], by["count"], by["bottleneck"]) == ("server", 4, "database")
        assert by["p50"] == pytest.approx(0.1, rel=0.02) and by["max"] == pytest.approx(0.4)
        assert by["p50"] <= by["p90"] <= by["p95"] <= by["p99"] <= by["max"]
        assert [c.unit for c in table.columns if c.name.startswith("p")] == ["s"] * 4
        p95 = [r[table.column("p95")] for r in table.rows]
        assert p95 == sorted(p95, reverse=True)  # slowest first
        only_server = report("performance.percentiles", store, window(now - 3600, now + 1, kind="server"))
        assert rows(only_server, "operation") == [("GET /orders",), ("GET /health",)]
        on_route = report("performance.percentiles", store, window(now - 3600, now + 1, route="/health"))
        assert rows(on_route, "operation", "count") == [("GET /health", 1)]
        assert report("performance.percentiles", store, window(now + 10, now + 20)).rows == []


# -- analytics ------------------------------------------------------------------------------------


def test_adoption_and_active_users_from_the_analytics_rows(store: Store) -> None:
    fill_analytics(store)
    adoption = report("analytics.adoption", store, window(at(0, 0), at(15, 23)))
    assert rows(adoption, "feature", "active_users", "users", "adoption", "users_min_uses") == [
        ("export", 4, 3, 0.75, 0), ("search", 4, 3, 0.75, 1)]  # fmt: skip
    assert {c.name: c.unit for c in adoption.columns}["adoption"] == "1"
    two = report("analytics.adoption", store, window(at(0, 0), at(15, 23), min_uses="2"))
    assert rows(two, "feature", "users_min_uses") == [("export", 0), ("search", 2)]
    first_week = report("analytics.adoption", store, window(at(0, 0), at(6, 23)))
    assert rows(first_week, "feature", "active_users", "users") == [("export", 3, 2), ("search", 3, 2)]
    active = report("analytics.active", store, window(at(0, 0), at(15, 23)))
    assert rows(active, "feature", "dau", "wau", "mau") == [("*", 1, 2, 4), ("export", 0, 0, 3), ("search", 1, 2, 3)]


# -- compliance.status ----------------------------------------------------------------------------


def test_control_status_from_the_newest_stored_report_of_each_standard(store: Store) -> None:
    before = report("compliance.status", store, window(T0 - 100, T0))
    assert {r[before.column("status")] for r in before.rows} == {"no_report"}
    assert len(before.rows) == 14  # every control of the catalogue: 4 SOC 2, 6 GDPR, 4 HIPAA
    saved = fill_compliance(store, T0 + 10)
    table = report("compliance.status", store, window(T0, T0 + 3600))
    soc2 = {r[1]: r for r in table.rows if r[0] == "SOC2"}
    assert {c: r[table.column("status")] for c, r in soc2.items()} == {c.id: c.status for c in saved.controls}
    assert {r[table.column("generated")] for r in soc2.values()} == {T0 + 10}
    assert {r[table.column("report_status")] for r in soc2.values()} == {saved.status}
    failing = soc2["CC7.2"][table.column("failing")]
    assert "audit-chain-verifies" in failing  # no journal: not evaluated
    assert {r[table.column("status")] for r in table.rows if r[0] != "SOC2"} == {"no_report"}
    assert report("compliance.status", store, window(T0 - 100, T0 + 5)).rows == before.rows  # generated later
    gdpr = report("compliance.status", store, window(T0, T0 + 3600, standard="gdpr"))
    assert {r[0] for r in gdpr.rows} == {"GDPR"} and len(gdpr.rows) == 6
    with pytest.raises(ReportError, match=r"standard: expected one of SOC2, HIPAA, GDPR, got 'PCI'"):
        report("compliance.status", store, window(T0, T0 + 1, standard="PCI"))
