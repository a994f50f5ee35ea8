"""The errors capability's reports for other readers (dashboards): ``errors.groups``.

Registered with :mod:`ricecoder_otel.kernel.reports`; reads through :class:`~.store.ErrorStore`.
"""

from __future__ import annotations

from ricecoder_otel.errors.store import ErrorStore
from ricecoder_otel.kernel.reports import ReportColumn, ReportError, ReportTable, ReportWindow, register_report
from ricecoder_otel.store.base import Store

GROUP_COLUMNS = (
    ReportColumn("group", description="group id (its first 12 characters)"),
    ReportColumn("title", description="error type and message"),
    ReportColumn("culprit", description="where it was raised"),
    ReportColumn("service", description="service.name of the process that first stored it"),
    ReportColumn("status", description="unresolved or resolved"),
    ReportColumn("count", "integer", "{error}", "occurrences since first seen (all time)"),
    ReportColumn("users", "integer", "{user}", "distinct users affected (all time)"),
    ReportColumn("first_seen", "time", description="first occurrence"),
    ReportColumn("last_seen", "time", description="latest occurrence"),
)
_SCAN_FACTOR = 5
"""Groups read per row shown when filtering by service or status after the read."""


def error_groups(store: Store, window: ReportWindow) -> ReportTable:
    """Groups seen in the window (last seen at or after its start), most frequent first."""
    limit = window.int_param("limit", 20, high=1000)
    service, status = window.param("service"), window.param("status")
    if status not in ("", "unresolved", "resolved"):
        raise ReportError(f"status: expected unresolved or resolved, got {status[:40]!r}")
    filtered = bool(service or status)
    rows = []
    groups = ErrorStore(store).list_groups(
        since_ns=window.since_ns + 1, limit=limit * (_SCAN_FACTOR if filtered else 1)
    )
    for group in groups:
        if group.first_seen_ns > window.until_ns or (service and group.service_name != service):
            continue
        if status and group.status != status:
            continue
        rows.append((group.id[:12], group.title, group.culprit, group.service_name, group.status, group.count,
                     group.users, group.first_seen_ns / 1e9, group.last_seen_ns / 1e9))  # fmt: skip
    notes = ("counts and users are totals since each group was first seen",)
    return ReportTable(GROUP_COLUMNS, rows[:limit], notes)


register_report(
    "errors.groups",
    error_groups,
    description="Error groups seen in the window, most frequent first (`errors list`).",
    columns=GROUP_COLUMNS,
    params={
        "limit": "rows at most (default 20)",
        "service": "only groups of this service.name",
        "status": "unresolved or resolved",
    },
)
