"""Built-in dashboards generated from what the distribution itself emits.

* ``service-overview``: RED per route (rate, errors, p50/p95/p99 from the duration histogram's
  buckets), the latency distribution and saturation;
* ``system``: host and process resources from the system-metrics instrumentation;
* ``anomalies-alerts``: anomaly scores, anomaly and alert events, config changes, ricecoder's own drops.
"""

from __future__ import annotations

from datetime import timedelta

from ricecoder_otel.dashboards.catalog import REQUEST_DURATION, SERVER_ERRORS
from ricecoder_otel.dashboards.model import Dashboard, GridPos, Panel, Query, Threshold, Variable

_SERVICE = Variable(name="service", attribute="service.name", label="Service")
_ROUTE = Variable(name="route", attribute="http.route", label="Route")
_SCOPE = {"service.name": "$service", "http.route": "$route"}


def _q(metric: str, aggregation: str, group_by: tuple[str, ...] = (), label: str = "", **where: str) -> Query:
    scope = {**(_SCOPE if metric in (REQUEST_DURATION, SERVER_ERRORS) else {"service.name": "$service"}), **where}
    return Query.model_validate(
        {"metric": metric, "aggregation": aggregation, "group_by": list(group_by), "label": label, "where": scope}
    )


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
                  unit="{item}", queries=[_q("ricecoder.self.queue.depth", "max", ("queue",), "{queue}")]),
            Panel(id="events", type="events", title="Alerts and anomalies", grid=_grid(12, 28, 12, 8),
                  events=["ricecoder.alert", "ricecoder.anomaly"]),
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
                  queries=[_q("ricecoder.anomaly.score", "max", ("ricecoder.anomaly.series",),
                              "{ricecoder.anomaly.series}")],
                  thresholds=[Threshold(value=0.9, color="red")]),
            Panel(id="dropped", type="stat", title="Telemetry dropped per second", grid=_grid(16, 0, 8, 4),
                  unit="{item}/s", queries=[_q("ricecoder.self.dropped", "rate")],
                  thresholds=[Threshold(value=0, color="green"), Threshold(value=0.001, color="red")]),
            Panel(id="self_errors", type="stat", title="Internal errors per second", grid=_grid(16, 4, 8, 4),
                  unit="{error}/s", queries=[_q("ricecoder.self.errors", "rate")]),
            Panel(id="anomalies", type="events", title="Anomaly episodes", grid=_grid(0, 8, 12, 10),
                  events=["ricecoder.anomaly"]),
            Panel(id="alerts", type="events", title="Alert transitions", grid=_grid(12, 8, 12, 10),
                  events=["ricecoder.alert"]),
            Panel(id="config", type="events", title="Configuration changes", grid=_grid(0, 18, 24, 6),
                  events=["ricecoder.config.changed"], limit=20),
        ],
    )  # fmt: skip


def builtin_dashboards() -> dict[str, Dashboard]:
    """Every built-in dashboard by uid."""
    return {d.uid: d for d in (service_overview(), system(), anomalies_alerts())}
