"""Built-in dashboards generated from what the distribution itself emits.

* ``service-overview``: RED per route (rate, errors, p50/p95/p99 from the duration histogram's
  buckets), the latency distribution and saturation;
* ``system``: host and process resources from the system-metrics instrumentation;
* ``anomalies-alerts``: anomaly scores, anomaly and alert events, config changes, ricecoder's own drops;
* one per capability, from its metrics and its reports (:mod:`ricecoder_otel.kernel.reports`):
  ``errors`` (error rate, groups), ``performance`` (percentiles per operation), ``analytics``
  (active users, feature adoption) and ``compliance`` (control status, redaction).
"""

from __future__ import annotations

from datetime import timedelta

from ricecoder_otel.dashboards.catalog import REQUEST_DURATION, SERVER_ERRORS
from ricecoder_otel.dashboards.model import Dashboard, GridPos, Panel, Query, Threshold, Variable
from ricecoder_otel.kernel.events import (
    AlertTransition,
    AnalyticsReportGenerated,
    AnomalyEpisode,
    ComplianceReportGenerated,
    ConfigChanged,
    ErrorGroupEvent,
)
from ricecoder_otel.kernel.names import (
    ANOMALY_SCORE,
    ERROR_GROUP_EVENTS,
    ERRORS,
    OPERATION_DURATION,
    REDACTED_VALUES,
    SELF_DROPPED,
    SELF_ERRORS,
    SELF_PROCESSOR_TIME,
    SELF_QUEUE_DEPTH,
)

_SERVICE = Variable(name="service", attribute="service.name", label="Service")
_ROUTE = Variable(name="route", attribute="http.route", label="Route")
_SCOPE = {"service.name": "$service", "http.route": "$route"}


def _q(metric: str, aggregation: str, group_by: tuple[str, ...] = (), label: str = "", **where: str) -> Query:
    scope = {**(_SCOPE if metric in (REQUEST_DURATION, SERVER_ERRORS) else {"service.name": "$service"}), **where}
    return Query.model_validate(
        {"metric": metric, "aggregation": aggregation, "group_by": list(group_by), "label": label, "where": scope}
    )


def _report(name: str, aggregation: str = "last", column: str = "", **options: dict[str, str]) -> Query:
    """A query of the report ``name``; ``options`` are ``params`` and ``where``."""
    return Query.model_validate({"report": name, "aggregation": aggregation, "column": column, **options})


def _grid(x: int, y: int, w: int, h: int) -> GridPos:
    return GridPos(x=x, y=y, w=w, h=h)


def service_overview() -> Dashboard:
    by_route = ("http.route",)
    latency = [_q(REQUEST_DURATION, q, label=q) for q in ("p50", "p95", "p99")]
    return Dashboard(
        uid="service-overview",
        title="Service overview",
        description="Requests, errors and duration per route (RED), the latency distribution and saturation.",
        tags=["ricecoder", "red"],
        time_range=timedelta(hours=1),
        variables=[_SERVICE, _ROUTE],
        panels=[
            Panel(id="rate", type="stat", title="Requests per second", grid=_grid(0, 0, 6, 4),
                  queries=[_q(REQUEST_DURATION, "rate")], unit="{request}/s"),
            Panel(id="errors", type="stat", title="Errors per second", grid=_grid(6, 0, 6, 4),
                  queries=[_q(SERVER_ERRORS, "rate")], unit="{error}/s",
                  thresholds=[Threshold(value=0, color="green"), Threshold(value=0.01, color="red")]),
            Panel(id="p95", type="stat", title="p95 duration", grid=_grid(12, 0, 6, 4),
                  queries=[_q(REQUEST_DURATION, "p95")], unit="s"),
            Panel(id="p99_gauge", type="gauge", title="p99 duration", grid=_grid(18, 0, 6, 4),
                  queries=[_q(REQUEST_DURATION, "p99")], unit="s", min=0, max=2.5,
                  thresholds=[Threshold(value=0, color="green"), Threshold(value=0.5, color="yellow"),
                              Threshold(value=1, color="red")]),
            Panel(id="rate_by_route", type="graph", title="Requests per second by route", grid=_grid(0, 4, 12, 8),
                  queries=[_q(REQUEST_DURATION, "rate", by_route, "{http.route}")], unit="{request}/s"),
            Panel(id="latency", type="graph", title="Duration p50 / p95 / p99", grid=_grid(12, 4, 12, 8),
                  queries=latency, unit="s"),
            Panel(id="errors_by_route", type="graph", title="Errors per second by route", grid=_grid(0, 12, 12, 8),
                  queries=[_q(SERVER_ERRORS, "rate", by_route, "{http.route}")], unit="{error}/s", style="bars"),
            Panel(id="heatmap", type="heatmap", title="Duration distribution", grid=_grid(12, 12, 12, 8),
                  queries=[_q(REQUEST_DURATION, "increase")], unit="s"),
            Panel(id="routes", type="table", title="Routes", grid=_grid(0, 20, 24, 8),
                  queries=[_q(REQUEST_DURATION, "rate", by_route, "req/s"),
                           _q(SERVER_ERRORS, "rate", by_route, "errors/s"),
                           *(_q(REQUEST_DURATION, q, by_route, q) for q in ("p50", "p95", "p99"))]),
            Panel(id="cpu", type="graph", title="Saturation: process CPU", grid=_grid(0, 28, 6, 8), unit="1",
                  queries=[_q("process.cpu.utilization", "avg", label="process cpu")]),
            Panel(id="queues", type="graph", title="Saturation: export queues", grid=_grid(6, 28, 6, 8),
                  unit="{item}", queries=[_q(SELF_QUEUE_DEPTH, "max", ("queue",), "{queue}")]),
            Panel(id="events", type="events", title="Alerts and anomalies", grid=_grid(12, 28, 12, 8),
                  events=[AlertTransition.event_name, AnomalyEpisode.event_name]),
        ],
    )  # fmt: skip


def system() -> Dashboard:
    return Dashboard(
        uid="system",
        title="System and process",
        description="Host and process resources reported by the system-metrics instrumentation.",
        tags=["ricecoder", "system"],
        variables=[_SERVICE],
        panels=[
            Panel(id="cpu", type="graph", title="CPU utilization", grid=_grid(0, 0, 12, 8), unit="1",
                  queries=[_q("system.cpu.utilization", "avg", label="system"),
                           _q("process.cpu.utilization", "avg", label="process")]),
            Panel(id="memory", type="gauge", title="System memory used", grid=_grid(12, 0, 6, 8), unit="1",
                  min=0, max=1, queries=[_q("system.memory.utilization", "last", state="used")],
                  thresholds=[Threshold(value=0, color="green"), Threshold(value=0.8, color="yellow"),
                              Threshold(value=0.95, color="red")]),
            Panel(id="rss", type="stat", title="Process memory", grid=_grid(18, 0, 6, 8), unit="By",
                  queries=[_q("process.memory.usage", "last")]),
            Panel(id="threads", type="graph", title="Process threads", grid=_grid(0, 8, 8, 8), unit="{thread}",
                  queries=[_q("process.thread.count", "last")]),
            Panel(id="gc", type="graph", title="GC collections per second", grid=_grid(8, 8, 8, 8),
                  unit="{collection}/s", style="bars",
                  queries=[_q("cpython.gc.collections", "rate", ("generation",), "gen {generation}")]),
            Panel(id="network", type="graph", title="Network bytes per second", grid=_grid(16, 8, 8, 8), unit="By/s",
                  queries=[_q("system.network.io", "rate", ("direction",), "{direction}")]),
        ],
    )  # fmt: skip


def anomalies_alerts() -> Dashboard:
    return Dashboard(
        uid="anomalies-alerts",
        title="Anomalies and alerts",
        description="Anomaly scores and episodes, alert transitions, configuration changes and ricecoder's own health.",
        tags=["ricecoder", "anomaly", "alerting"],
        variables=[_SERVICE],
        panels=[
            Panel(id="scores", type="graph", title="Anomaly score by series", grid=_grid(0, 0, 16, 8), unit="1",
                  queries=[_q(ANOMALY_SCORE, "max", ("ricecoder.anomaly.series",),
                              "{ricecoder.anomaly.series}")],
                  thresholds=[Threshold(value=0.9, color="red")]),
            Panel(id="dropped", type="stat", title="Telemetry dropped per second", grid=_grid(16, 0, 8, 4),
                  unit="{item}/s", queries=[_q(SELF_DROPPED, "rate")],
                  thresholds=[Threshold(value=0, color="green"), Threshold(value=0.001, color="red")]),
            Panel(id="self_errors", type="stat", title="Internal errors per second", grid=_grid(16, 4, 8, 4),
                  unit="{error}/s", queries=[_q(SELF_ERRORS, "rate")]),
            Panel(id="anomalies", type="events", title="Anomaly episodes", grid=_grid(0, 8, 12, 10),
                  events=[AnomalyEpisode.event_name]),
            Panel(id="alerts", type="events", title="Alert transitions", grid=_grid(12, 8, 12, 10),
                  events=[AlertTransition.event_name]),
            Panel(id="config", type="events", title="Configuration changes", grid=_grid(0, 18, 24, 6),
                  events=[ConfigChanged.event_name], limit=20),
        ],
    )  # fmt: skip


def errors() -> Dashboard:
    scope = {"service": "$service"}
    return Dashboard(
        uid="errors",
        title="Errors",
        description="Error rate by type, groups that opened, regressed or spiked, and the error groups themselves.",
        tags=["ricecoder", "errors"],
        variables=[_SERVICE],
        panels=[
            Panel(id="rate", type="stat", title="Errors per second", grid=_grid(0, 0, 8, 4), unit="{error}/s",
                  queries=[_q(ERRORS, "rate")],
                  thresholds=[Threshold(value=0, color="green"), Threshold(value=0.01, color="red")]),
            Panel(id="groups", type="stat", title="Error groups seen", grid=_grid(8, 0, 8, 4),
                  queries=[_report("errors.groups", "count", params={**scope, "limit": "1000"})]),
            Panel(id="unresolved", type="stat", title="Unresolved groups seen", grid=_grid(16, 0, 8, 4),
                  queries=[_report("errors.groups", "count", params={**scope, "limit": "1000"},
                                   where={"status": "unresolved"})],
                  thresholds=[Threshold(value=0, color="green"), Threshold(value=1, color="red")]),
            Panel(id="by_type", type="graph", title="Errors per second by type", grid=_grid(0, 4, 12, 8),
                  unit="{error}/s", queries=[_q(ERRORS, "rate", ("error.type",), "{error.type}")]),
            Panel(id="group_events", type="graph", title="Groups opened, regressed, spiking", grid=_grid(12, 4, 12, 8),
                  unit="{event}/s", style="bars",
                  queries=[_q(ERROR_GROUP_EVENTS, "rate", ("ricecoder.error.group.kind",),
                              "{ricecoder.error.group.kind}")]),
            Panel(id="table", type="table", title="Error groups", grid=_grid(0, 12, 24, 10), limit=50,
                  queries=[_report("errors.groups", params={**scope, "limit": "50"})]),
            Panel(id="events", type="events", title="Error group events", grid=_grid(0, 22, 24, 8),
                  events=[ErrorGroupEvent.event_name]),
        ],
    )  # fmt: skip


def performance() -> Dashboard:
    return Dashboard(
        uid="performance",
        title="Performance",
        description="Duration percentiles per operation from the stored performance summaries, timed operations "
        "and ricecoder's own overhead.",
        tags=["ricecoder", "performance"],
        variables=[_SERVICE, _ROUTE],
        panels=[
            Panel(id="slowest", type="stat", title="Slowest p95", grid=_grid(0, 0, 8, 4), unit="s",
                  queries=[_report("performance.percentiles", "max", "p95", params={"route": "$route"})]),
            Panel(id="measured", type="stat", title="Operations measured", grid=_grid(8, 0, 8, 4),
                  queries=[_report("performance.percentiles", "sum", "count",
                                   params={"route": "$route", "limit": "1000"})]),
            Panel(id="overhead", type="stat", title="ricecoder processor time per second", grid=_grid(16, 0, 8, 4),
                  unit="s", queries=[_q(SELF_PROCESSOR_TIME, "rate")]),
            Panel(id="latency", type="graph", title="Request duration p50 / p95 / p99", grid=_grid(0, 4, 12, 8),
                  unit="s", queries=[_q(REQUEST_DURATION, q, label=q) for q in ("p50", "p95", "p99")]),
            Panel(id="timed", type="graph", title="Timed operations p95", grid=_grid(12, 4, 12, 8), unit="s",
                  queries=[_q(OPERATION_DURATION, "p95", ("operation",), "{operation}")]),
            Panel(id="percentiles", type="table", title="Percentiles per operation", grid=_grid(0, 12, 24, 12),
                  limit=50, queries=[_report("performance.percentiles", params={"route": "$route", "limit": "50"})]),
        ],
    )  # fmt: skip


def analytics() -> Dashboard:
    everyone = {"feature": "*"}
    return Dashboard(
        uid="analytics",
        title="Usage analytics",
        description="Active users and stickiness as of the window's last day, and feature adoption over its days.",
        tags=["ricecoder", "analytics"],
        time_range=timedelta(days=30),
        panels=[
            *(Panel(id=column, type="stat", title=title, grid=_grid(6 * i, 0, 6, 4), unit=unit,
                    queries=[_report("analytics.active", "last", column, where=everyone)])
              for i, (column, title, unit) in enumerate((("dau", "Daily active users", "{user}"),
                                                         ("wau", "Weekly active users", "{user}"),
                                                         ("mau", "Monthly active users", "{user}"),
                                                         ("stickiness", "Stickiness (DAU/MAU)", "1")))),
            Panel(id="adoption", type="table", title="Feature adoption", grid=_grid(0, 4, 24, 10), limit=100,
                  queries=[_report("analytics.adoption")]),
            Panel(id="active", type="table", title="Active users per feature", grid=_grid(0, 14, 24, 10),
                  limit=100, queries=[_report("analytics.active")]),
            Panel(id="reports", type="events", title="Scheduled analytics reports", grid=_grid(0, 24, 24, 6),
                  events=[AnalyticsReportGenerated.event_name], limit=20),
        ],
    )  # fmt: skip


def _control_count(index: int, status: str, title: str, alarming: bool) -> Panel:
    """A stat: how many controls have ``status`` in the newest stored reports (red from one when ``alarming``)."""
    thresholds = [Threshold(value=0, color="green"), Threshold(value=1, color="red")] if alarming else []
    return Panel(id=status, type="stat", title=title, grid=_grid(6 * index, 0, 6, 4), thresholds=thresholds,
                 queries=[_report("compliance.status", "count", where={"status": status})])  # fmt: skip


def compliance() -> Dashboard:
    counts = (("not_satisfied", "Controls not satisfied", True), ("not_evaluated", "Controls not evaluated", True),
              ("no_report", "Controls without a report", True), ("satisfied", "Controls satisfied", False))  # fmt: skip
    return Dashboard(
        uid="compliance",
        title="Compliance",
        description="SOC 2, GDPR and HIPAA control status from the newest stored compliance reports, and redaction.",
        tags=["ricecoder", "compliance"],
        time_range=timedelta(days=7),
        variables=[_SERVICE],
        panels=[
            *(_control_count(i, *count) for i, count in enumerate(counts)),
            Panel(id="controls", type="table", title="Control status", grid=_grid(0, 4, 24, 12), limit=100,
                  queries=[_report("compliance.status")]),
            Panel(id="redacted", type="graph", title="Values redacted per second by detector", grid=_grid(0, 16, 12, 8),
                  unit="{value}/s", queries=[_q(REDACTED_VALUES, "rate", ("detector",), "{detector}")]),
            Panel(id="reports", type="events", title="Compliance reports and configuration changes",
                  grid=_grid(12, 16, 12, 8), events=[ComplianceReportGenerated.event_name, ConfigChanged.event_name]),
        ],
    )  # fmt: skip


def builtin_dashboards() -> dict[str, Dashboard]:
    """Every built-in dashboard by uid."""
    every = (service_overview(), system(), anomalies_alerts(), errors(), performance(), analytics(), compliance())
    return {d.uid: d for d in every}
