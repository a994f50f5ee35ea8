"""The performance capability's reports for other readers (dashboards): ``performance.percentiles``.

Registered with :mod:`ricecoder_otel.kernel.reports`; merges the stored summaries with
:func:`~.report.load_report`, as ``perf report`` does.
"""

from __future__ import annotations

from ricecoder_otel.kernel.reports import ReportColumn, ReportTable, ReportWindow, register_report
from ricecoder_otel.performance.report import load_report
from ricecoder_otel.store.base import Store

PERCENTILE_COLUMNS = (
    ReportColumn("kind", description="server, client, db, internal ..."),
    ReportColumn("operation", description="route or operation name"),
    ReportColumn("count", "integer", "{request}", "operations finished in the window"),
    ReportColumn("p50", "number", "s"),
    ReportColumn("p90", "number", "s"),
    ReportColumn("p95", "number", "s"),
    ReportColumn("p99", "number", "s"),
    ReportColumn("max", "number", "s"),
    ReportColumn("bottleneck", description="the category where most of the time went (db, http, cpu ...)"),
)


def percentiles(store: Store, window: ReportWindow) -> ReportTable:
    """Duration percentiles per operation over the window, slowest p95 first."""
    limit = window.int_param("limit", 20, high=1000)
    kind, route = window.param("kind"), window.param("route")
    merged = load_report(store, window.since_ns + 1, window.until_ns, route=route or None)
    rows = []
    for totals in merged.operations:
        if kind and totals.operation.kind != kind:
            continue
        summary = totals.histogram.summary()
        bottleneck = totals.breakdown.top() if totals.breakdown.count else None
        rows.append((totals.operation.kind, totals.operation.name, summary.count, summary.p50, summary.p90,
                     summary.p95, summary.p99, summary.max, bottleneck or ""))  # fmt: skip
    notes = (f"{merged.skipped} damaged summary record(s) skipped",) if merged.skipped else ()
    return ReportTable(PERCENTILE_COLUMNS, rows[:limit], notes)


register_report(
    "performance.percentiles",
    percentiles,
    description="p50/p90/p95/p99 per operation from the stored performance summaries (`perf report`).",
    columns=PERCENTILE_COLUMNS,
    params={
        "limit": "rows at most (default 20)",
        "kind": "only operations of this kind (server, client, db ...)",
        "route": "only server operations on this route",
    },
)
