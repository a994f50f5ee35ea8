"""The dashboard document: title, time range, refresh, variables and panels on a 24-column grid.

The same document is YAML, JSON or Python objects (these pydantic models): ``Dashboard(...)``,
``Dashboard.model_validate(yaml.safe_load(text))`` and :func:`load_dashboard` give equal objects.
:func:`check_dashboard` lists every problem with its path (``panels[2].grid.w``), including
those a schema cannot see: overlapping panels, unknown variables and aggregations that do not
fit the metric's kind.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ricecoder_otel.config.duration import format_duration, parse_duration
from ricecoder_otel.config.paths import format_path
from ricecoder_otel.dashboards.catalog import KNOWN_METRICS
from ricecoder_otel.kernel.reports import ReportError, report_info

GRID_COLUMNS = 24
PanelType = Literal["graph", "table", "gauge", "stat", "heatmap", "events"]
Aggregation = Literal["last", "avg", "min", "max", "sum", "rate", "increase", "count", "p50", "p90", "p95", "p99"]
QUANTILES: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
CUMULATIVE_AGGREGATIONS = frozenset({"rate", "increase", "count", *QUANTILES})
"""Aggregations over the change of a cumulative series (counters, histograms)."""
REPORT_AGGREGATIONS = ("last", "count", "sum", "avg", "min", "max")
"""How a stat panel reduces a report's rows: the last row's value, the number of rows, or over the column."""
REPORT_PANEL_TYPES = ("table", "stat")
_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class _Part(BaseModel):
    """Unknown keys are errors (a typo must not silently do nothing); documents are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


Duration = Annotated[timedelta, Field(json_schema_extra={"format": "duration"})]


class Query(_Part):
    """A metric by name and attributes, aggregated over time per step, grouped by attributes;
    or a report another capability provides (``report: errors.groups``, :mod:`ricecoder_otel.kernel.reports`).

    ``where`` values may name a variable (``$route``): an empty or ``*`` variable matches all.
    For a report, ``where`` keeps the rows whose columns have these values, ``params`` go to the
    report, and a stat panel shows ``aggregation`` (``count`` of rows, ``sum``/``avg``/``min``/``max``
    or ``last`` row) of ``column``.
    """

    metric: str = Field(default="", description="OpenTelemetry metric name.")
    report: str = Field(default="", description="A report's name instead of a metric (errors.groups, ...).")
    params: dict[str, str] = Field(default_factory=dict, description="A report's parameters: value or $variable.")
    column: str = Field(default="", description="The report column a stat panel shows.")
    where: dict[str, str] = Field(default_factory=dict, description="Attribute (report: column) -> value or $variable.")
    aggregation: Aggregation = "last"
    group_by: list[str] = Field(default_factory=list, description="Attributes that split the result into series.")
    label: str = Field(default="", description="Series label; {attribute} is replaced by its value.")

    @model_validator(mode="after")
    def _metric_or_report(self) -> Query:
        if bool(self.metric) == bool(self.report):
            raise ValueError("a query names either a metric or a report")
        return self


class GridPos(_Part):
    """Position on the 24-column grid; ``h`` is in rows of 30 px, as in Grafana."""

    x: int = Field(ge=0, lt=GRID_COLUMNS)
    y: int = Field(ge=0)
    w: int = Field(ge=1, le=GRID_COLUMNS)
    h: int = Field(ge=1, le=64)


class Threshold(_Part):
    value: float
    color: Literal["green", "yellow", "orange", "red", "blue", "grey"] = "red"


class Panel(_Part):
    id: str = Field(pattern=_NAME.pattern, description="Unique within the dashboard.")
    type: PanelType
    title: str = ""
    grid: GridPos
    queries: list[Query] = Field(default_factory=list)
    unit: str = Field(default="", description="UCUM unit of the values (s, By, 1, {request}/s).")
    style: Literal["lines", "bars"] = "lines"
    thresholds: list[Threshold] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    events: list[str] = Field(default_factory=list, description="Event names an events panel lists.")
    limit: int = Field(default=50, ge=1, le=1000, description="Rows of a table or events panel.")


class Variable(_Part):
    """A filter the viewer picks (from the URL: ``?var-route=/orders``); empty means all."""

    name: str = Field(pattern=_NAME.pattern)
    attribute: str = Field(min_length=1, description="Attribute it filters (service.name, http.route, ...).")
    label: str = ""
    default: str = ""


class Dashboard(_Part):
    uid: str = Field(pattern=_UID.pattern, description="Stable id: URLs, file names, Grafana uid.")
    title: str = Field(min_length=1)
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    time_range: Duration = Field(default=timedelta(hours=1), description="How far back the view reaches.")
    refresh: Duration = Field(default=timedelta(seconds=5), description="How often a relative window slides.")
    variables: list[Variable] = Field(default_factory=list)
    panels: list[Panel] = Field(default_factory=list)

    _parse_durations = field_validator("time_range", "refresh", mode="before")(classmethod(lambda cls, v: _duration(v)))

    def panel(self, panel_id: str) -> Panel:
        return next(p for p in self.panels if p.id == panel_id)

    def with_default_refresh(self, refresh: timedelta | None) -> Dashboard:
        """This dashboard refreshing every ``refresh`` unless its document sets ``refresh`` itself
        (``dashboards.refresh_interval`` is the default of the live view and its page)."""
        if refresh is None or "refresh" in self.model_fields_set:
            return self
        return self.model_copy(update={"refresh": refresh})

    def document(self) -> dict[str, Any]:
        """Plain data (durations as ``1h``), what YAML and JSON files hold."""
        data = self.model_dump(mode="json", exclude_defaults=False)
        data["time_range"] = format_duration(self.time_range)
        data["refresh"] = format_duration(self.refresh)
        return data


class Problem(BaseModel):
    """One problem of a document: where (``panels[2].grid.w``, with the file line when known) and what."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    severity: Literal["error", "warning"] = "error"
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path or '(document)'}" + (f" (line {self.line})" if self.line else "")
        return f"{self.severity}: {where}: {self.message}"


class DashboardError(ValueError):
    """A document that is not a valid dashboard; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: invalid dashboard ({len(problems)} problem(s)):\n{lines}")


def schema_problems(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems with document paths, the input not echoed when long."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "literal_error":
            message = f"expected one of {(err.get('ctx') or {}).get('expected', '')}"
        elif err["type"] == "value_error":
            message = str((err.get("ctx") or {}).get("error", err["msg"]))
        else:
            message = err["msg"]
        problems.append(Problem(path=format_path(loc), message=message))
    return problems


def semantic_problems(dashboard: Dashboard) -> list[Problem]:
    """What the schema cannot see: grid fit and overlap, duplicate ids, variables, metric kinds."""
    problems: list[Problem] = []
    names = [v.name for v in dashboard.variables]
    for i, name in enumerate(names):
        if names.index(name) != i:
            problems.append(Problem(path=f"variables[{i}].name", message=f"duplicate variable {name!r}"))
    seen: dict[str, int] = {}
    cells: dict[tuple[int, int], int] = {}
    for i, panel in enumerate(dashboard.panels):
        where = f"panels[{i}]"
        if panel.id in seen:
            problems.append(
                Problem(path=f"{where}.id", message=f"duplicate panel id {panel.id!r} (panels[{seen[panel.id]}])")
            )
        seen.setdefault(panel.id, i)
        if panel.grid.x + panel.grid.w > GRID_COLUMNS:
            problems.append(
                Problem(
                    path=f"{where}.grid",
                    message=f"x + w = {panel.grid.x + panel.grid.w} exceeds the {GRID_COLUMNS}-column grid",
                )
            )
        else:
            overlap = _place(cells, panel.grid, i)
            if overlap is not None:
                problems.append(Problem(path=f"{where}.grid", message=f"overlaps panels[{overlap}]"))
        problems.extend(_panel_problems(panel, where, names))
    return problems


def _place(cells: dict[tuple[int, int], int], grid: GridPos, index: int) -> int | None:
    for row in range(grid.y, grid.y + grid.h):
        for col in range(grid.x, grid.x + grid.w):
            if (row, col) in cells:
                return cells[(row, col)]
    for row in range(grid.y, grid.y + grid.h):
        for col in range(grid.x, grid.x + grid.w):
            cells[(row, col)] = index
    return None


def _panel_problems(panel: Panel, where: str, variables: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    if panel.type == "events":
        if not panel.events:
            problems.append(Problem(path=f"{where}.events", message="an events panel needs at least one event name"))
        if panel.queries:
            problems.append(
                Problem(path=f"{where}.queries", message="an events panel lists events, not metric queries")
            )
        return problems
    if not panel.queries:
        problems.append(Problem(path=f"{where}.queries", message=f"a {panel.type} panel needs at least one query"))
    if any(q.report for q in panel.queries):
        return problems + _report_problems(panel, where, variables)
    if panel.type == "gauge" and panel.min is not None and panel.max is not None and panel.min >= panel.max:
        problems.append(Problem(path=f"{where}.max", message="max must be above min"))
    for j, query in enumerate(panel.queries):
        qwhere = f"{where}.queries[{j}]"
        problems += _variable_problems(query.where, f"{qwhere}.where", variables)
        known = KNOWN_METRICS.get(query.metric)
        if known is None:
            problems.append(
                Problem(
                    path=f"{qwhere}.metric",
                    message=f"{query.metric!r} is not a metric ricecoder-otel emits (fine for your own metrics)",
                    severity="warning",
                )
            )
            continue
        needs = _needs(query.aggregation, known.kind)
        if needs:
            problems.append(
                Problem(
                    path=f"{qwhere}.aggregation",
                    message=f"{query.aggregation} needs {needs}; {query.metric} is a {known.kind}",
                )
            )
        if panel.type == "heatmap" and known.kind != "histogram":
            problems.append(
                Problem(
                    path=f"{qwhere}.metric", message=f"a heatmap needs a histogram; {query.metric} is a {known.kind}"
                )
            )
    return problems


def _variable_problems(values: dict[str, str], where: str, variables: list[str]) -> list[Problem]:
    problems = []
    for key, value in values.items():
        match = _VARIABLE.match(value)
        if value.startswith("$") and (match is None or match[1] not in variables):
            problems.append(Problem(path=f"{where}.{key}", message=f"unknown variable {value!r}"))
    return problems


def _report_problems(panel: Panel, where: str, variables: list[str]) -> list[Problem]:
    """A report query: a known report, its parameters and columns, in a table or stat panel of its own."""
    problems: list[Problem] = []
    if panel.type not in REPORT_PANEL_TYPES:
        problems.append(
            Problem(path=f"{where}.type", message=f"a report renders in a table or stat panel, not {panel.type}")
        )
    if len(panel.queries) > 1:
        problems.append(Problem(path=f"{where}.queries", message="a report panel has exactly one query, its report"))
    query = panel.queries[0]
    qwhere = f"{where}.queries[0]"
    if not query.report:
        return problems
    problems += _variable_problems(query.where, f"{qwhere}.where", variables)
    problems += _variable_problems(query.params, f"{qwhere}.params", variables)
    if query.group_by:
        problems.append(Problem(path=f"{qwhere}.group_by", message="a report's rows are its groups: no group_by"))
    if query.aggregation not in REPORT_AGGREGATIONS:
        message = f"a report is reduced with one of {', '.join(REPORT_AGGREGATIONS)}"
        problems.append(Problem(path=f"{qwhere}.aggregation", message=message))
    try:
        info = report_info(query.report)
    except ReportError as exc:
        return [*problems, Problem(path=f"{qwhere}.report", message=str(exc))]
    accepted = ", ".join(info.params) or "none"
    for key in query.params:
        if key not in info.params:
            message = f"{info.name} takes no {key!r} (parameters: {accepted})"
            problems.append(Problem(path=f"{qwhere}.params.{key}", message=message))
    columns = {c.name: c for c in info.columns}
    known = ", ".join(columns)
    for key in query.where:
        if key not in columns:
            problems.append(
                Problem(path=f"{qwhere}.where.{key}", message=f"{info.name} has no column {key!r} ({known})")
            )
    if query.column and query.column not in columns:
        problems.append(
            Problem(path=f"{qwhere}.column", message=f"{info.name} has no column {query.column!r} ({known})")
        )
    elif panel.type == "stat" and query.aggregation != "count":
        column = columns.get(query.column)
        if column is None:
            problems.append(
                Problem(path=f"{qwhere}.column", message=f"a stat panel names the column it shows ({known})")
            )
        elif column.type not in ("number", "integer") and query.aggregation != "last":
            message = f"{query.aggregation} needs a number; {column.name} is {column.type}"
            problems.append(Problem(path=f"{qwhere}.aggregation", message=message))
    return problems


def _needs(aggregation: str, kind: str) -> str:
    """What kind of metric ``aggregation`` needs, when ``kind`` is not one ("" when it fits)."""
    if aggregation in QUANTILES and kind != "histogram":
        return "a histogram"
    if aggregation in CUMULATIVE_AGGREGATIONS and kind in ("gauge", "updowncounter"):
        return "a counter or histogram"
    return ""


def check_document(data: Any) -> tuple[Dashboard | None, list[Problem]]:
    """Validate plain data: the dashboard (None when the schema rejects it) and every problem."""
    if not isinstance(data, dict):
        return None, [Problem(path="", message="expected a mapping (a dashboard document)")]
    try:
        dashboard = Dashboard.model_validate(data)
    except ValidationError as exc:
        return None, schema_problems(exc)
    return dashboard, semantic_problems(dashboard)


def check_dashboard(dashboard: Dashboard) -> list[Problem]:
    """Every problem of a dashboard built as Python objects."""
    return semantic_problems(dashboard)
