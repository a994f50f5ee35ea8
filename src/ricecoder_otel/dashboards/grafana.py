"""Classic Grafana dashboard JSON with Prometheus queries, for the Grafana the compose file pins.

Metric and label names are the ones Prometheus stores for our metrics: the OpenTelemetry
Prometheus exporter's own conversion (``sanitize_full_name``, ``map_unit``, ``_total`` on
counters, ``_bucket``/``_sum``/``_count`` for histograms; docs/metrics.md). ``service.name`` is
the ``job`` label (the collector's Prometheus exporter sets it from the resource). Events have no
Prometheus series: an events panel becomes a text panel that says where they are. A report panel
(``report: errors.groups``) has no PromQL either: it becomes a text panel saying it is not exported.

Plain dicts, checked in tests against stored expected files and the schema-generated models
of grafana-foundation-sdk for the same Grafana version.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.exporter.prometheus._mapping import map_unit, sanitize_attribute, sanitize_full_name

from ricecoder_otel.config.duration import format_duration
from ricecoder_otel.dashboards.catalog import KNOWN_METRICS, REQUEST_DURATION
from ricecoder_otel.dashboards.model import QUANTILES, Dashboard, Panel, Query, Variable

GRAFANA_VERSION = "11.3.0"
"""The version collector-config/docker-compose.yaml pins."""
SCHEMA_VERSION = 39
"""Dashboard schemaVersion of Grafana 11.3 (its schema's default)."""
DATASOURCE = {"type": "prometheus", "uid": "ricecoder-prometheus"}
"""The datasource collector-config/grafana/provisioning/datasources/datasources.yaml provisions."""
_PANEL_TYPES = {"graph": "timeseries", "stat": "stat", "gauge": "gauge", "table": "table", "heatmap": "heatmap",
                "events": "text"}  # fmt: skip
_UNITS = {"s": "s", "By": "bytes", "By/s": "Bps", "1": "percentunit", "{request}/s": "reqps"}
_MIN_REFRESH_S = 10


def prometheus_name(metric: str) -> str:
    """The base name Prometheus stores ``metric`` under (histograms add ``_bucket``, ``_sum``, ``_count``)."""
    known = KNOWN_METRICS.get(metric)
    name = sanitize_full_name(metric)
    unit = map_unit(known.unit) if known else ""
    if unit and not name.endswith("_" + unit):
        name = f"{name}_{unit}"
    if known is not None and known.kind == "counter":
        name += "_total"
    return name


def label_name(attribute: str) -> str:
    return "job" if attribute == "service.name" else sanitize_attribute(attribute)


def _selector(query: Query) -> str:
    matchers = []
    for key, value in sorted(query.where.items()):
        if value.startswith("$"):
            matchers.append(f'{label_name(key)}=~"{value}"')
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            matchers.append(f'{label_name(key)}="{escaped}"')
    return "{" + ", ".join(matchers) + "}" if matchers else ""


def promql(query: Query, *, window: str = "$__rate_interval") -> str:
    """The PromQL expression of one query."""
    known = KNOWN_METRICS.get(query.metric)
    kind = known.kind if known else "gauge"
    base, selector = prometheus_name(query.metric), _selector(query)
    by = ", ".join(label_name(k) for k in query.group_by)
    group = f" by ({by})" if by else ""
    agg = query.aggregation
    if kind == "histogram":
        if agg in QUANTILES:
            inner = f"sum by ({', '.join(['le', *filter(None, [by])])}) (rate({base}_bucket{selector}[{window}]))"
            return f"histogram_quantile({QUANTILES[agg]}, {inner})"
        if agg in ("avg", "last"):
            return (f"sum{group} (rate({base}_sum{selector}[{window}]))"
                    f" / sum{group} (rate({base}_count{selector}[{window}]))")  # fmt: skip
        function = "rate" if agg == "rate" else "increase"
        return f"sum{group} ({function}({base}_count{selector}[{window}]))"
    if kind == "counter" and agg in ("rate", "increase", "count"):
        return f"sum{group} ({'rate' if agg == 'rate' else 'increase'}({base}{selector}[{window}]))"
    reducer = {"avg": "avg", "min": "min", "max": "max"}.get(agg, "sum")
    return f"{reducer}{group} ({base}{selector})"


def _legend(query: Query) -> str:
    text = query.label or query.aggregation
    for key in query.group_by:
        text = text.replace("{" + key + "}", "{{" + label_name(key) + "}}")
    return text


def _field_defaults(panel: Panel) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": t.color, "value": t.value} for t in panel.thresholds]
    defaults: dict[str, Any] = {
        "unit": _UNITS.get(panel.unit, "short"),
        "thresholds": {"mode": "absolute", "steps": steps},
    }
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    if panel.type == "graph":
        defaults["custom"] = {"drawStyle": "bars" if panel.style == "bars" else "line", "fillOpacity": 10,
                              "lineWidth": 1, "showPoints": "never"}  # fmt: skip
    return defaults


def _targets(panel: Panel) -> list[dict[str, Any]]:
    targets = []
    for i, query in enumerate(panel.queries):
        target: dict[str, Any] = {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": promql(query),
                                  "legendFormat": _legend(query)}  # fmt: skip
        if panel.type == "table":
            target.update(instant=True, range=False, format="table", expr=promql(query, window="$__range"))
        elif panel.type == "heatmap":
            base = prometheus_name(query.metric)
            target.update(expr=f"sum by (le) (increase({base}_bucket{_selector(query)}[$__rate_interval]))",
                          format="heatmap", legendFormat="{{le}}")  # fmt: skip
        targets.append(target)
    return targets


def _panel(panel: Panel, number: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": number,
        "type": _PANEL_TYPES[panel.type],
        "title": panel.title or panel.id,
        "gridPos": {"x": panel.grid.x, "y": panel.grid.y, "w": panel.grid.w, "h": panel.grid.h},
    }
    if panel.type == "events":
        names = ", ".join(f"`{name}`" for name in panel.events)
        content = (
            f"Events {names} are log records with an event name: query them in your logs backend, or run "
            "`ricecoder-otel query logs --event NAME` against the store. Prometheus holds no series for them."
        )
        out["options"] = {"mode": "markdown", "content": content}
        return out
    report = next((q.report for q in panel.queries if q.report), "")
    if report:
        out["type"] = "text"
        content = (
            f"**Not exported:** this panel shows the ricecoder-otel report `{report}`, which Prometheus has no "
            "series for (no PromQL). See it in `ricecoder-otel dashboard serve` or `dashboard export --format html`."
        )
        out["options"] = {"mode": "markdown", "content": content}
        return out
    out["datasource"] = DATASOURCE
    out["targets"] = _targets(panel)
    out["fieldConfig"] = {"defaults": _field_defaults(panel), "overrides": []}
    if panel.type == "stat":
        out["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                          "graphMode": "area", "colorMode": "value", "textMode": "auto"}  # fmt: skip
    elif panel.type == "gauge":
        out["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                          "showThresholdMarkers": True}  # fmt: skip
    elif panel.type == "table":
        out["transformations"] = [{"id": "merge", "options": {}}]
        out["options"] = {"showHeader": True}
    elif panel.type == "heatmap":
        out["options"] = {"calculate": False, "yAxis": {"unit": _UNITS.get(panel.unit, "short")},
                          "cellValues": {"unit": "short"}}  # fmt: skip
    else:
        out["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
                          "tooltip": {"mode": "multi", "sort": "desc"}}  # fmt: skip
    return out


def _variable(variable: Variable, dashboard: Dashboard) -> dict[str, Any]:
    label = label_name(variable.attribute)
    source = prometheus_name(REQUEST_DURATION) + "_count"
    metrics = [
        q.metric
        for p in dashboard.panels
        for q in p.queries
        if q.metric and q.where.get(variable.attribute) == f"${variable.name}"
    ]
    if metrics and REQUEST_DURATION not in metrics:
        known = KNOWN_METRICS.get(metrics[0])
        source = prometheus_name(metrics[0]) + ("_count" if known and known.kind == "histogram" else "")
    return {
        "name": variable.name,
        "label": variable.label or variable.name,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": f"label_values({source}, {label})", "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": False,
        "sort": 1,
        "current": {"selected": False, "text": "All", "value": "$__all"},  # the schema requires text and value
        "options": [],
    }


def report_panels(dashboard: Dashboard) -> list[str]:
    """Ids of the panels Grafana gets as a note only: their query is a report, not PromQL."""
    return [p.id for p in dashboard.panels if any(q.report for q in p.queries)]


def grafana_dashboard(dashboard: Dashboard) -> dict[str, Any]:
    """The classic dashboard JSON model of ``dashboard`` (importable, or provisioned from a file)."""
    refresh_s = max(_MIN_REFRESH_S, int(dashboard.refresh.total_seconds()))
    return {
        "uid": f"ricecoder-{dashboard.uid}"[:40],
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": list(dashboard.tags),
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": f"now-{format_duration(dashboard.time_range)}", "to": "now"},
        "timepicker": {},
        "refresh": f"{refresh_s}s",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": [],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "templating": {"list": [_variable(v, dashboard) for v in dashboard.variables]},
        "panels": [_panel(panel, i + 1) for i, panel in enumerate(dashboard.panels)],
    }
