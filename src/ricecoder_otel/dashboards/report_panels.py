"""Table and stat panels whose query is a report of another capability (:mod:`ricecoder_otel.kernel.reports`).

The report runs over the dashboard's window with its parameters (variables filled in); ``where``
keeps the rows whose columns equal the given values. A table shows every column with its unit
(``time`` columns as UTC times); a stat reduces one column, and compares it with the same
reduction over the previous window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ricecoder_otel.dashboards.model import Panel, Query
from ricecoder_otel.dashboards.queries import PanelData, Window, resolve_values
from ricecoder_otel.kernel.reports import ReportTable, ReportWindow, report
from ricecoder_otel.store.base import Store


def _run(store: Store, query: Query, since_ns: int, until_ns: int, variables: Mapping[str, str]) -> ReportTable:
    table = report(query.report, store, ReportWindow(since_ns, until_ns, resolve_values(query.params, variables)))
    wanted = resolve_values(query.where, variables)
    if not wanted:
        return table
    index = {name: table.column(name) for name in wanted}
    rows = [row for row in table.rows if all(_text(row[index[k]]) == v for k, v in wanted.items())]
    return ReportTable(table.columns, rows, table.notes)


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if value is None or isinstance(value, (str, int, float)) else str(value)


def report_table_data(store: Store, panel: Panel, window: Window, variables: Mapping[str, str]) -> PanelData:
    """Every column of the report (units per column: None for text, "time" for times), at most ``limit`` rows."""
    table = _run(store, panel.queries[0], window.start_ns, window.end_ns, variables)
    units = [None if c.type == "string" else "time" if c.type == "time" else c.unit for c in table.columns]
    return {
        "kind": "table",
        "columns": [c.name for c in table.columns],
        "units": units,
        "key_columns": 0,
        "rows": [[_cell(v) for v in row] for row in table.rows[: panel.limit]],
        "total_rows": len(table.rows),
        "notes": list(table.notes),
    }


def reduce_rows(table: ReportTable, query: Query) -> Any:
    """The stat value of ``table``: its row count, the last row's ``column``, or a reduction over it."""
    if query.aggregation == "count":
        return len(table.rows)
    index = table.column(query.column)
    values = [row[index] for row in table.rows if row[index] is not None]
    if query.aggregation == "last":
        return _cell(values[-1]) if values else None
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not numbers:
        return None
    if query.aggregation == "sum":
        return sum(numbers)
    if query.aggregation == "avg":
        return sum(numbers) / len(numbers)
    return min(numbers) if query.aggregation == "min" else max(numbers)


def report_value_data(store: Store, panel: Panel, window: Window, variables: Mapping[str, str]) -> PanelData:
    """A stat: the reduced value over the window and over the window before it (for the delta)."""
    query = panel.queries[0]
    span = window.end_ns - window.start_ns
    now = _run(store, query, window.start_ns, window.end_ns, variables)
    before = _run(store, query, window.start_ns - span, window.start_ns, variables)
    unit = "" if query.aggregation == "count" else next(c.unit for c in now.columns if c.name == query.column)
    value, previous = reduce_rows(now, query), reduce_rows(before, query)
    return {"kind": "value", "value": value, "previous": previous, "unit": unit, "times": [], "values": []}
