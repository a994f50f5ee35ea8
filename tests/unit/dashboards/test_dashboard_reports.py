"""Report panels: checked against the report registry, evaluated from the store, exported, followed live."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.dashboards import Dashboard, GridPos, Panel, Query, Variable
from ricecoder_otel.dashboards.builtin import builtin_dashboards, errors
from ricecoder_otel.dashboards.files import check_file
from ricecoder_otel.dashboards.grafana import grafana_dashboard
from ricecoder_otel.dashboards.render_html import export_html
from ricecoder_otel.dashboards.server import DashboardServer
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.unit.dashboards.reports_support import T0, fill_compliance, fill_errors

S = 1_000_000_000
BAD = """\
uid: bad-reports
title: Bad reports
variables: [{name: service, attribute: service.name}]
panels:
  - id: unknown
    type: table
    grid: {x: 0, y: 0, w: 12, h: 4}
    queries: [{report: errors.nope}]
  - id: params
    type: table
    grid: {x: 12, y: 0, w: 12, h: 4}
    queries: [{report: errors.groups, params: {route: /x, service: $nope}, where: {colour: red}}]
  - id: graph
    type: graph
    grid: {x: 0, y: 4, w: 12, h: 4}
    queries: [{report: performance.percentiles, aggregation: p95}]
  - id: stat
    type: stat
    grid: {x: 12, y: 4, w: 12, h: 4}
    queries: [{report: errors.groups, aggregation: sum, column: title}]
  - id: both
    type: stat
    grid: {x: 0, y: 8, w: 12, h: 4}
    queries: [{report: errors.groups, metric: ricecoder.errors}]
  - id: nocolumn
    type: stat
    grid: {x: 12, y: 8, w: 12, h: 4}
    queries: [{report: compliance.status, aggregation: max}]
"""


def test_check_locates_every_report_problem_and_lists_the_known_reports(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    dashboard, problems = check_file(path)
    assert dashboard is None  # "both" fails the schema: a query names a metric or a report
    assert [(p.path, p.line) for p in problems] == [("panels[4].queries[0]", 24)]
    assert "either a metric or a report" in problems[0].message

    path.write_text(BAD.replace("queries: [{report: errors.groups, metric: ricecoder.errors}]",
                                "queries: [{report: errors.groups, aggregation: count}]"))  # fmt: skip
    dashboard, problems = check_file(path)
    found = {p.path: (p.message, p.line) for p in problems}
    message, line = found["panels[0].queries[0].report"]
    assert line == 8 and message.startswith("unknown report 'errors.nope'; known: analytics.active, analytics.adoption")
    assert "errors.groups, performance.percentiles" in message
    assert found["panels[1].queries[0].params.route"][0] == (
        "errors.groups takes no 'route' (parameters: limit, service, status)")  # fmt: skip
    assert found["panels[1].queries[0].params.service"][0] == "unknown variable '$nope'"
    assert found["panels[1].queries[0].where.colour"][0].startswith("errors.groups has no column 'colour' (group,")
    assert found["panels[2].type"][0] == "a report renders in a table or stat panel, not graph"
    assert (
        found["panels[2].queries[0].aggregation"][0]
        == "a report is reduced with one of last, count, sum, avg, min, max"
    )
    assert found["panels[3].queries[0].aggregation"][0] == "sum needs a number; title is string"
    assert found["panels[5].queries[0].column"][0].startswith("a stat panel names the column it shows (standard,")
    assert len(problems) == 8 and all(p.severity == "error" for p in problems)


def test_every_builtin_report_panel_checks_clean() -> None:
    report_panels = [(d.uid, p.id) for d in builtin_dashboards().values() for p in d.panels
                     if any(q.report for q in p.queries)]  # fmt: skip
    assert {uid for uid, _ in report_panels} == {"errors", "performance", "analytics", "compliance"}


def _errors_board() -> Dashboard:
    grid = GridPos(x=0, y=0, w=6, h=4)
    return Dashboard(
        uid="err", title="<script>alert(1)</script> errors",
        variables=[Variable(name="service", attribute="service.name")],
        panels=[
            Panel(id="table", type="table", grid=GridPos(x=0, y=4, w=24, h=8),
                  queries=[Query(report="errors.groups", params={"service": "$service"})]),
            Panel(id="count", type="stat", grid=grid, queries=[Query(report="errors.groups", aggregation="count")]),
            Panel(id="total", type="stat", grid=grid.model_copy(update={"x": 6}),
                  queries=[Query(report="errors.groups", aggregation="sum", column="count",
                                 where={"service": "$service"})]),
            Panel(id="top", type="stat", grid=grid.model_copy(update={"x": 12}),
                  queries=[Query(report="errors.groups", column="title", params={"limit": "1"})]),
            Panel(id="bad", type="table", grid=grid.model_copy(update={"x": 18}),
                  queries=[Query(report="errors.groups", params={"limit": "lots"})]),
        ],
    )  # fmt: skip


def test_report_panels_evaluate_from_the_store_with_variables_and_the_previous_window(store: SQLiteStore) -> None:
    ids = fill_errors(store)
    snapshot = take_snapshot(store, _errors_board(), range_ns=100 * S, end_ns=int((T0 + 60) * S))
    panels = snapshot["panels"]
    table = panels["table"]
    assert table["columns"][:5] == ["group", "title", "culprit", "service", "status"]
    assert table["units"][:6] == [None, None, None, None, None, "{error}"] and table["units"][-1] == "time"
    assert [row[0] for row in table["rows"]] == [ids["ValueError"][:12], ids["KeyError"][:12]]
    assert table["rows"][0][-2:] == [T0 + 10, T0 + 12] and table["total_rows"] == 2
    assert table["notes"] == ["counts and users are totals since each group was first seen"]
    assert panels["count"] == {"kind": "value", "value": 2, "previous": 0, "unit": "", "times": [], "values": []}
    assert (panels["total"]["value"], panels["total"]["unit"]) == (4.0, "{error}")
    assert panels["top"]["value"] == "ValueError: <b>ValueError</b> broke"
    assert panels["bad"] == {"kind": "error", "error": "limit: expected a whole number, got 'lots'"}

    only_pay = take_snapshot(store, _errors_board(), variables={"service": "pay"}, range_ns=100 * S,
                             end_ns=int((T0 + 60) * S))["panels"]  # fmt: skip
    assert [row[3] for row in only_pay["table"]["rows"]] == ["pay"]
    assert only_pay["total"]["value"] == 1.0
    later = take_snapshot(store, _errors_board(), range_ns=30 * S, end_ns=int((T0 + 60) * S))["panels"]
    assert (later["count"]["value"], later["count"]["previous"]) == (1, 1)  # KeyError now, ValueError before


def test_exports_carry_report_panels_and_grafana_says_they_are_not_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location = str(tmp_path / "telemetry.db")
    with SQLiteStore(location) as store:
        fill_errors(store, time.time() - 3600)
        fill_compliance(store, time.time() - 60)
    path = tmp_path / "board.json"
    board = _errors_board()
    board = board.model_copy(update={"panels": [p for p in board.panels if p.id != "bad"]})
    path.write_text(json.dumps(board.document()))
    assert main(["dashboard", "export", str(path), "--store", location, "--since", "90d"]) == 0
    snapshot = json.loads(capsys.readouterr().out)
    assert len(snapshot["panels"]["table"]["rows"]) == 2 and snapshot["panels"]["count"]["value"] == 2

    page = export_html(snapshot)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; errors" in page
    assert "\\u003cb\\u003eValueError\\u003c/b\\u003e broke" in page  # stored text, inert in the JSON island

    assert main(["dashboard", "export", "compliance", "--store", location, "--format", "html", "--since", "1d"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("<!DOCTYPE html>") and '["SOC2","CC7.2","System components are monitored' in out
    assert '["GDPR","Art.33","Personal data breaches are notified within 72 hours and documented","no_report"' in out

    assert main(["dashboard", "export", str(path), "--format", "grafana"]) == 0
    out, err = capsys.readouterr()
    panels = {p["title"]: p for p in json.loads(out)["panels"]}
    assert panels["table"]["type"] == "text" and "targets" not in panels["table"]
    assert (
        "`errors.groups`" in panels["table"]["options"]["content"]
        and "no PromQL" in panels["table"]["options"]["content"]
    )
    assert "report panels table, count, total, top have no PromQL; exported as notes" in err
    model = grafana_dashboard(errors())
    assert [p["type"] for p in model["panels"]] == ["stat", "text", "text", "timeseries", "timeseries", "text", "text"]


def test_the_live_view_refreshes_report_panels_every_default_refresh(store: SQLiteStore) -> None:
    board = Dashboard(uid="live", title="live", panels=[
        Panel(id="groups", type="stat", grid=GridPos(x=0, y=0, w=6, h=4),
              queries=[Query(report="errors.groups", aggregation="count")])])  # fmt: skip
    pinned = board.model_copy(update={"uid": "pinned"})
    pinned = Dashboard.model_validate({**pinned.document(), "refresh": "1m"})
    server = DashboardServer(store, {"live": board, "pinned": pinned}, default_refresh=timedelta(seconds=1)).start()
    try:
        assert server.dashboards["live"].refresh == timedelta(seconds=1)
        assert server.dashboards["pinned"].refresh == timedelta(minutes=1)  # its document sets its own
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET /api/stream/live?range=90d HTTP/1.1\r\nHost: x\r\n\r\n")
        first = _next_snapshot(sock, b"")
        assert first[0]["panels"]["groups"]["value"] == 0 and first[0]["refresh_seconds"] == 1.0
        fill_errors(
            store, time.time() - 3600
        )  # error groups: no metric point or log record, so only the refresh shows them
        deadline, buffered, value = time.monotonic() + 30, first[1], 0
        while value != 2:
            assert time.monotonic() < deadline, "the new groups were not pushed within the refresh interval"
            snapshot, buffered = _next_snapshot(sock, buffered)
            value = snapshot["panels"]["groups"]["value"]
        sock.close()
    finally:
        server.stop()


def _next_snapshot(sock: socket.socket, buffered: bytes) -> tuple[dict[str, Any], bytes]:
    marker = b"event: snapshot\ndata: "
    end = time.monotonic() + 30
    while True:
        start = buffered.find(marker)
        stop = buffered.find(b"\n\n", start) if start >= 0 else -1
        if stop >= 0:
            return json.loads(buffered[start + len(marker) : stop]), buffered[stop + 2 :]
        assert time.monotonic() < end, "no snapshot within 30 s"
        buffered += sock.recv(65536)
