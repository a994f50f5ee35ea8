"""The dashboard document: YAML, JSON and Python objects are one model; check lists every problem with its path."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ricecoder_otel.dashboards import Dashboard, GridPos, Panel, Query, Variable
from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.files import check_file, load_file
from ricecoder_otel.dashboards.model import check_dashboard
from ricecoder_otel.kernel.names import KNOWN_METRICS

YAML_DOC = """
uid: orders
title: Orders
time_range: 6h
refresh: 10s
variables:
  - {name: route, attribute: http.route}
panels:
  - id: p95
    type: graph
    title: p95 by route
    grid: {x: 0, y: 0, w: 12, h: 8}
    unit: s
    queries:
      - {metric: http.server.request.duration, aggregation: p95, group_by: [http.route], where: {http.route: $route}}
  - id: alerts
    type: events
    grid: {x: 12, y: 0, w: 12, h: 8}
    events: [ricecoder.alert]
"""


def python_document() -> Dashboard:
    return Dashboard(
        uid="orders", title="Orders", time_range="6h", refresh="10s",
        variables=[Variable(name="route", attribute="http.route")],
        panels=[
            Panel(id="p95", type="graph", title="p95 by route", grid=GridPos(x=0, y=0, w=12, h=8), unit="s",
                  queries=[Query(metric="http.server.request.duration", aggregation="p95", group_by=["http.route"],
                                 where={"http.route": "$route"})]),
            Panel(id="alerts", type="events", grid=GridPos(x=12, y=0, w=12, h=8), events=["ricecoder.alert"]),
        ],
    )  # fmt: skip


def test_yaml_json_and_python_objects_are_the_same_dashboard(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(YAML_DOC)
    (tmp_path / "d.json").write_text(json.dumps(yaml.safe_load(YAML_DOC)))
    from_yaml, from_json = load_file(tmp_path / "d.yaml"), load_file(tmp_path / "d.json")
    assert from_yaml == from_json == python_document()
    assert Dashboard.model_validate(from_yaml.document()) == from_yaml
    assert from_yaml.document()["time_range"] == "6h"
    assert check_dashboard(from_yaml) == []


def test_check_reports_every_problem_with_its_path_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "uid: bad\ntitle: Bad\npanels:\n"
        "  - {id: a, type: pie, grid: {x: 0, y: 0, w: 12, h: 4}}\n"
        "  - {id: b, type: graph, grid: {x: 20, y: 0, w: 30, h: 4}, colour: red}\n"
    )
    dashboard, problems = check_file(bad)
    assert dashboard is None
    found = {(p.path, p.line) for p in problems}
    assert ("panels[0].type", 4) in found
    assert ("panels[1].grid.w", 5) in found
    assert ("panels[1].colour", 5) in found
    assert all(p.severity == "error" for p in problems)


def test_semantic_problems_overlap_variables_kinds_and_unknown_metrics(tmp_path: Path) -> None:
    doc = tmp_path / "semantic.yaml"
    doc.write_text(
        "uid: s\ntitle: S\npanels:\n"
        "  - id: a\n    type: graph\n    grid: {x: 0, y: 0, w: 12, h: 4}\n"
        "    queries: [{metric: system.cpu.utilization, aggregation: p95, where: {service.name: $nope}}]\n"
        "  - id: a\n    type: stat\n    grid: {x: 6, y: 2, w: 12, h: 4}\n    queries: [{metric: my.own.metric}]\n"
        "  - {id: c, type: events, grid: {x: 18, y: 0, w: 6, h: 2}}\n"
        "  - {id: d, type: heatmap, grid: {x: 0, y: 10, w: 6, h: 2}, queries: [{metric: ricecoder.self.dropped}]}\n"
    )
    dashboard, problems = check_file(doc)
    assert dashboard is not None
    messages = {(p.path, p.severity): p.message for p in problems}
    assert "unknown variable '$nope'" in messages[("panels[0].queries[0].where.service.name", "error")]
    assert (
        messages[("panels[0].queries[0].aggregation", "error")]
        == "p95 needs a histogram; system.cpu.utilization is a gauge"
    )
    assert "duplicate panel id 'a'" in messages[("panels[1].id", "error")]
    assert "overlaps panels[0]" in messages[("panels[1].grid", "error")]
    assert "not a metric ricecoder-otel emits" in messages[("panels[1].queries[0].metric", "warning")]
    assert "at least one event name" in messages[("panels[2].events", "error")]
    assert "a heatmap needs a histogram" in messages[("panels[3].queries[0].metric", "error")]
    lines = {p.path: p.line for p in problems}
    assert (lines["panels[1].id"], lines["panels[1].grid"], lines["panels[1].queries[0].metric"]) == (8, 10, 11)


def test_malformed_and_non_mapping_documents_are_problems_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("uid: [unclosed\n")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    for name in ("broken.yaml", "list.json", "binary.yaml", "missing.yaml"):
        dashboard, problems = check_file(tmp_path / name)
        assert dashboard is None and problems, name
    assert "malformed YAML" in check_file(tmp_path / "broken.yaml")[1][0].message
    assert "cannot read" in check_file(tmp_path / "missing.yaml")[1][0].message


def test_every_builtin_dashboard_checks_clean_and_uses_every_panel_type() -> None:
    dashboards = builtin_dashboards()
    assert set(dashboards) == {"service-overview", "system", "anomalies-alerts", "errors", "performance", "analytics",
                               "compliance"}  # fmt: skip
    for dashboard in dashboards.values():
        assert check_dashboard(dashboard) == [], dashboard.uid
        assert Dashboard.model_validate(dashboard.document()) == dashboard
    types = {p.type for d in dashboards.values() for p in d.panels}
    assert types == {"graph", "table", "gauge", "stat", "heatmap", "events"}


def test_service_overview_shows_red_per_route_with_percentiles() -> None:
    overview = builtin_dashboards()["service-overview"]
    table = overview.panel("routes")
    assert [q.aggregation for q in table.queries] == ["rate", "rate", "p50", "p95", "p99"]
    assert all(q.group_by == ["http.route"] for q in table.queries)
    assert [q.aggregation for q in overview.panel("latency").queries] == ["p50", "p95", "p99"]
    assert {v.attribute for v in overview.variables} == {"service.name", "http.route"}


def test_every_metric_the_builtin_dashboards_query_is_one_the_distribution_knows() -> None:
    # One list of names (kernel.names) for what is recorded, exported as rules, and drawn: a
    # renamed metric cannot leave a built-in panel querying nothing.
    queried = {q.metric for d in builtin_dashboards().values() for p in d.panels for q in p.queries if q.metric}
    assert queried and queried <= set(KNOWN_METRICS), sorted(queried - set(KNOWN_METRICS))
