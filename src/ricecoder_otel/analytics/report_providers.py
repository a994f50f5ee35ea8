"""The analytics capability's reports for other readers (dashboards): ``analytics.adoption``, ``analytics.active``.

Registered with :mod:`ricecoder_otel.kernel.reports`; the rows are :mod:`.reports`' own (the
``analytics report`` command's), read from the store by :class:`~.store.AnalyticsStore` and given units.
Whole UTC days, from the window's first day to its last.
"""

from __future__ import annotations

from collections.abc import Mapping

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import Dataset, day_of
from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.kernel.reports import ColumnType, ReportColumn, ReportTable, ReportWindow, register_report
from ricecoder_otel.store.base import Store

_TYPES: dict[str, ColumnType] = {"integer": "integer", "number": "number"}
_USERS = "{user}"
ADOPTION_UNITS = {
    "active_users": _USERS, "users": _USERS, "adoption": "1", "min_uses": "{use}", "users_min_uses": _USERS,
    "adoption_min_uses": "1", "new_adopters": _USERS, "median_seconds_to_first_use": "s",
}  # fmt: skip
ACTIVE_UNITS = {"dau": _USERS, "wau": _USERS, "mau": _USERS, "stickiness": "1", "anonymous_actions": "{action}"}


def _columns(columns: tuple[reports.Column, ...], units: Mapping[str, str]) -> tuple[ReportColumn, ...]:
    return tuple(ReportColumn(c.name, _TYPES.get(c.type, "string"), units.get(c.name, ""), c.description)
                 for c in columns)  # fmt: skip


def _table(report: reports.Report, units: Mapping[str, str]) -> ReportTable:
    columns = _columns(report.columns, units)
    rows = [tuple(row.get(c.name) for c in columns) for row in report.rows]
    return ReportTable(columns, rows, report.notes)


def _dataset(store: Store, until_day: int, *, sketches: bool) -> Dataset:
    from ricecoder_otel.config.model import AnalyticsConfig

    defaults = AnalyticsConfig()
    days = defaults.keep_days if sketches else 0
    return AnalyticsStore(store, "reports").read(until_day, lg_k=defaults.sketch_lg_k, sketch_days=days)


def adoption(store: Store, window: ReportWindow) -> ReportTable:
    """Per feature: users who used it in the window, of the active users, and new adopters."""
    min_uses = window.int_param("min_uses", 3, high=1_000_000)
    since_day, until_day = day_of(window.since_ns / 1e9), day_of(window.until_ns / 1e9)
    data = _dataset(store, until_day, sketches=False)
    return _table(reports.adoption(data, since_day, until_day, min_uses=min_uses), ADOPTION_UNITS)


def active(store: Store, window: ReportWindow) -> ReportTable:
    """DAU, WAU, MAU and stickiness per feature (``*``: all) as of the window's last day."""
    until_day = day_of(window.until_ns / 1e9)
    data = _dataset(store, until_day, sketches=False)
    return _table(reports.active_users(data, until_day), ACTIVE_UNITS)


register_report(
    "analytics.adoption",
    adoption,
    description="Feature adoption over the window's days (`analytics report adoption`).",
    columns=_columns(reports.ADOPTION_COLUMNS, ADOPTION_UNITS),
    params={"min_uses": "uses that count a user in users_min_uses (default 3)"},
)
register_report(
    "analytics.active",
    active,
    description="Daily, weekly and monthly active users per feature (`analytics report active`).",
    columns=_columns(reports.ACTIVE_COLUMNS, ACTIVE_UNITS),
)
