"""A dashboard's data at one moment: every panel evaluated, what JSON export, HTML and the live view carry.

A panel that fails (the store is locked, unreachable, a query or a report's parameter is bad)
carries its error and the other panels still render; nothing here raises a store error to the caller.
A report panel (``report: errors.groups``) is a table or a stat (the model's check enforces it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ricecoder_otel._version import __version__
from ricecoder_otel.dashboards.model import Dashboard, Panel
from ricecoder_otel.dashboards.queries import (
    MAX_POINTS,
    MIN_STEP_NS,
    Evaluation,
    MetricSource,
    PanelData,
    Window,
    events_data,
    graph_data,
    heatmap_data,
    table_data,
    value_data,
)
from ricecoder_otel.dashboards.report_panels import report_table_data, report_value_data
from ricecoder_otel.kernel.reports import ReportError
from ricecoder_otel.store.errors import StoreError
from ricecoder_otel.store.sql import SqlStore

SPARKLINE_POINTS = 60
SNAPSHOT_FORMAT = "ricecoder.dashboard.snapshot/v1"


def variable_values(dashboard: Dashboard, given: Mapping[str, str]) -> dict[str, str]:
    """Each variable's value: the given one, else its default; unknown names are ignored."""
    return {v.name: str(given.get(v.name, v.default)) for v in dashboard.variables}


def take_snapshot(
    store: SqlStore,
    dashboard: Dashboard,
    *,
    variables: Mapping[str, str] | None = None,
    range_ns: int | None = None,
    end_ns: int | None = None,
    max_points: int = MAX_POINTS,
    min_step_ns: int = MIN_STEP_NS,
    clock: Callable[[], int] = time.time_ns,
) -> dict[str, Any]:
    """Evaluate every panel of ``dashboard`` over ``(end - range, end]`` (default: its own range, now)."""
    values = variable_values(dashboard, variables or {})
    end = end_ns if end_ns is not None else clock()
    span = range_ns if range_ns is not None else int(dashboard.time_range.total_seconds() * 1e9)
    window = Window.covering(end, span, max_points, min_step_ns)
    factor = -(-window.steps // SPARKLINE_POINTS)  # whole multiples of the graphs' step: read once, shared
    sparkline = Window(end_ns=end, step_ns=window.step_ns * factor, steps=-(-window.steps // factor))
    evaluation = Evaluation(variable_attributes={v.name: v.attribute for v in dashboard.variables})
    source = MetricSource(store, base=window, base_lookback=factor)
    service_variable = next((v.name for v in dashboard.variables if v.attribute == "service.name"), None)
    panels: dict[str, PanelData] = {}
    for panel in dashboard.panels:
        try:
            panels[panel.id] = _evaluate(source, panel, window, sparkline, values, evaluation, service_variable)
        except (StoreError, ReportError) as exc:
            panels[panel.id] = {"kind": "error", "error": str(exc)}
    return {
        "format": SNAPSHOT_FORMAT,
        "generator": f"ricecoder-otel {__version__}",
        "dashboard": dashboard.document(),
        "variables": values,
        "options": {name: sorted(found) for name, found in evaluation.options.items()},
        "range": {"start": window.start_ns / 1e9, "end": end / 1e9, "step_seconds": window.step_ns / 1e9},
        "taken_at": clock() / 1e9,
        "refresh_seconds": dashboard.refresh.total_seconds(),
        "notes": evaluation.notes,
        "panels": panels,
    }


def _evaluate(source: MetricSource, panel: Panel, window: Window, sparkline: Window, values: Mapping[str, str],
              evaluation: Evaluation, service_variable: str | None) -> PanelData:  # fmt: skip
    if panel.type == "events":
        return events_data(source.store, panel, window, values, service_variable)
    if not panel.queries:
        return {"kind": "error", "error": f"a {panel.type} panel needs at least one query"}
    if panel.queries[0].report:
        if panel.type == "stat":
            return report_value_data(source.store, panel, window, values)
        return report_table_data(source.store, panel, window, values)
    if panel.type == "graph":
        return graph_data(source, panel, window, values, evaluation)
    if panel.type in ("stat", "gauge"):
        return value_data(source, panel, window, values, evaluation, sparkline)
    if panel.type == "table":
        return table_data(source, panel, window, values, evaluation)
    return heatmap_data(source, panel, window, values, evaluation)
