"""The configuration model: one ``MonitoringConfig`` with a section per capability.

Every field has a default, so an empty file is a valid configuration, and a description,
which the generated reference (docs/configuration.md) prints. Unknown keys are rejected
everywhere so that typos surface instead of being silently ignored.

Fields of capabilities that are not built yet carry a marker from :mod:`ricecoder_otel.config.status`
(the seed's files stay valid, and the reference and ``config show`` say the keys do nothing yet).
Numbers reject booleans (YAML's ``true`` is not a count) and NaN or infinity.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ricecoder_otel.config.duration import Duration, Interval, PositiveDuration
from ricecoder_otel.config.secrets import MASK, redact_dsn
from ricecoder_otel.config.status import not_built
from ricecoder_otel.kernel.names import REQUEST_DURATION

DEFAULT_DURATION_BUCKETS_SECONDS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
"""The boundaries the OpenTelemetry HTTP semantic conventions recommend for durations."""

BUILTIN_REDACTION_PATTERNS: tuple[str, ...] = (
    "email",
    "credit_card",
    "ssn",
    "bearer_token",
    "password",
    "api_key",
    "jwt",
    "ip_address",
    "phone",
    "iban",
    "url_credentials",
    "sensitive_key",
)
"""Names of the redaction detectors that ship with the distribution (``sensitive_key`` works on key names)."""

Secret = Annotated[SecretStr, PlainSerializer(lambda _: MASK, return_type=str, when_used="json")]
"""A secret string: hidden in reprs and masked when the configuration is shown."""

METRIC_EXPORTER_GROUP = "opentelemetry_metrics_exporter"
"""Entry-point group the SDK loads ``OTEL_METRICS_EXPORTER`` names from."""

NO_EXPORTER = "none"
"""The ``OTEL_METRICS_EXPORTER`` value that means "export nowhere"; only valid on its own."""

SEED_ALIASES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("metrics", "collection_interval"): ("metrics", "export_interval"),
    ("metrics", "retention_period"): ("store", "max_age"),
}
"""The seed's keys and the keys they stand for. The loader lets a variable for either spelling
replace the file's value in either spelling, so precedence holds across the two names."""

ALIAS_CONFLICT = "alias_conflict"
"""Error type of a seed alias that disagrees with the key it stands for; ``ctx["key"]`` is the
alias' path below the model that raised it, so the problem points at the alias' line."""


def _reject_bool(kind: str, message: str) -> BeforeValidator:
    """Pydantic's lax mode reads ``true`` as 1: a YAML slip would silently become a count."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError(kind, message)
        return value

    return BeforeValidator(check)


Integer = Annotated[int, _reject_bool("int_type", "expected an integer")]
"""An integer; ``true``/``false`` are rejected, text such as ``"500"`` (from a variable) is read."""


def _finite(value: Any) -> Any:
    """NaN and infinities (``.nan``, ``"inf"``, ``1e999``) are rejected before any bound is checked,
    so the message says what is wrong rather than "at most 1 (got nan)"."""
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "expected a number")
    if isinstance(value, float | str):
        try:
            number = float(value)
        except ValueError:
            return value  # not a number at all: the float validator says so
        if not math.isfinite(number):
            raise PydanticCustomError("finite_number", "expected a finite number")
    return value


Number = Annotated[float, BeforeValidator(_finite), AllowInfNan(False)]
"""A finite number; booleans, NaN and infinities are rejected."""


class _Section(BaseModel):
    """Base of every section: unknown keys are errors; instances are immutable.

    A configuration is shared by threads and replaced as a whole on reload, so nobody may
    change one in place: derive a new one with ``model_copy(update=...)`` or from data.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise PydanticCustomError("regex", "invalid regular expression: {reason}", {"reason": str(exc)}) from None
    return pattern


def _known_builtin(name: str) -> str:
    if name not in BUILTIN_REDACTION_PATTERNS:
        close = difflib.get_close_matches(name, BUILTIN_REDACTION_PATTERNS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PydanticCustomError(
            "builtin_pattern",
            "unknown built-in pattern '{name}'{hint}; expected one of {names}",
            {"name": name, "hint": hint, "names": ", ".join(BUILTIN_REDACTION_PATTERNS)},
        )
    return name


def installed_metric_exporters() -> list[str]:
    """Names ``OTEL_METRICS_EXPORTER`` accepts in this environment (its entry points), sorted."""
    return sorted({ep.name for ep in entry_points(group=METRIC_EXPORTER_GROUP)})


def _known_exporter(name: str) -> str:
    installed = installed_metric_exporters()
    if name != NO_EXPORTER and name not in installed:
        close = difflib.get_close_matches(name, installed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PydanticCustomError(
            "metric_exporter",
            "unknown metric exporter '{name}'{hint}; installed: {names}",
            {"name": name, "hint": hint, "names": ", ".join(installed) or "none"},
        )
    return name


Regex = Annotated[str, AfterValidator(_compiles)]
BuiltinPatternName = Annotated[str, AfterValidator(_known_builtin)]
MetricExporterName = Annotated[str, AfterValidator(_known_exporter)]


class MetricsConfig(_Section):
    """Custom, RED and system metrics."""

    enabled: bool = Field(default=True, description="Collect and export metrics at all.")
    exporters: list[MetricExporterName] | None = Field(
        default=None,
        description="Metric exporters by entry-point name (`otlp`, `prometheus`, `console`, "
        "`ricecoder_local`, ...), or `[none]`; the default for `OTEL_METRICS_EXPORTER`, which wins "
        "when set by the user. Unset: the distribution's default.",
    )
    system_metrics: bool = Field(default=True, description="Collect CPU, memory, disk, network and process metrics.")
    red_metrics: bool = Field(
        default=True,
        description="Derive request rate, errors and duration (`http.server.request.duration`) from server spans.",
    )
    cardinality_limit: Integer = Field(
        default=2000,
        gt=0,
        description="Most distinct attribute sets kept per metric; further ones are folded into "
        "one overflow series and a warning is logged the first time.",
    )
    duration_buckets_seconds: list[Number] = Field(
        default_factory=lambda: list(DEFAULT_DURATION_BUCKETS_SECONDS),
        description="Histogram bucket boundaries for request durations, in seconds (positive, strictly increasing).",
    )
    export_interval: Interval = Field(
        default=timedelta(seconds=10),
        description="How often metrics are collected and pushed to exporters "
        "(`OTEL_METRIC_EXPORT_INTERVAL`, when set, takes precedence).",
    )
    collection_interval: Interval | None = Field(
        default=None,
        exclude=True,
        description="The seed's name for `export_interval`; after validation it reads the same. "
        "Giving both with different values is an error.",
    )
    retention_period: PositiveDuration | None = Field(
        default=None,
        exclude=True,
        description="The seed's name for `store.max_age` (how long telemetry is kept); it sets "
        "`store.max_age` when that is not given, and reads the same after validation. Giving both "
        "with different values is an error.",
    )

    @field_validator("exporters")
    @classmethod
    def _exporter_list(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise PydanticCustomError("exporters", "expected at least one exporter name; [none] exports nowhere")
        if NO_EXPORTER in value and len(value) > 1:
            raise PydanticCustomError("exporters", "'none' cannot be combined with other exporters")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise PydanticCustomError(
                "exporters", "exporter '{name}' is listed twice (it would export twice)", {"name": repeated[0]}
            )
        return value

    @model_validator(mode="after")
    def _fold_collection_interval(self) -> Self:
        """``collection_interval`` (the seed's key) sets ``export_interval``; both then read the same."""
        alias = self.collection_interval
        if alias is not None:
            if "export_interval" in self.model_fields_set and alias != self.export_interval:
                raise PydanticCustomError(
                    ALIAS_CONFLICT,
                    "differs from metrics.export_interval; they are the same setting, give one",
                    {"key": "collection_interval"},
                )
            object.__setattr__(self, "export_interval", alias)  # still being built: nobody holds it yet
        object.__setattr__(self, "collection_interval", self.export_interval)
        return self

    @field_validator("duration_buckets_seconds")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if not value or value[0] <= 0 or any(b <= a for a, b in itertools.pairwise(value)):
            raise PydanticCustomError("buckets", "expected a non-empty list of positive, strictly increasing numbers")
        return value


Operator = Literal[">", ">=", "<", "<=", "==", "!="]


class BurnWindow(_Section):
    """One long/short window pair of a multi-window burn-rate rule (SRE workbook, chapter 5)."""

    long: PositiveDuration = Field(description="Long window: the budget actually spent.")
    short: PositiveDuration = Field(description="Short window (usually 1/12 of the long one): it is still burning.")
    factor: Number = Field(gt=0, description="Burn rate both windows must exceed (14.4 spends 2% of 30 days in 1h).")


SRE_BURN_WINDOWS: tuple[tuple[timedelta, timedelta, float], ...] = (
    (timedelta(hours=1), timedelta(minutes=5), 14.4),
    (timedelta(hours=6), timedelta(minutes=30), 6.0),
    (timedelta(days=3), timedelta(hours=6), 1.0),
)
"""The SRE workbook's default pairs (Table 5-8): page at 14.4x and 6x, ticket at 1x."""

RuleKind = Literal["threshold", "error_ratio", "absence", "rate", "burn_rate", "anomaly", "composite"]
Aggregation = Literal["last", "avg", "min", "max", "sum", "count", "rate", "increase", "quantile"]
_NEEDS_THRESHOLD = ("threshold", "error_ratio", "rate", "anomaly")


class AlertRule(_Section):
    """One alerting rule: a condition on a metric that must hold for a while to fire."""

    name: str = Field(min_length=1, description="Unique rule name, used in notifications (`alertname`).")
    kind: RuleKind = Field(
        default="threshold",
        description="`threshold` compares an aggregate of the metric over `window`; `error_ratio` the share of "
        "`metric` (errors) in `total_metric`; `absence` fires when the metric gets no new data for `window`; "
        "`rate` compares the per-second change over `window`; `burn_rate` is an SLO multi-window multi-burn-rate "
        "rule; `anomaly` compares the anomaly score (0..1); `composite` combines other rules' conditions.",
    )
    metric: str = Field(
        default="", validate_default=True, description="Metric name the rule evaluates (OpenTelemetry name)."
    )
    match: dict[str, str] = Field(
        default_factory=dict, description="Only series whose attributes have these values (`http.route: /orders`)."
    )
    aggregation: Aggregation | None = Field(
        default=None,
        description="How the window is summarised: `last`, `avg`, `min`, `max`, `sum`, `count` (gauges over time; "
        "histograms: mean, observations, total), `rate`/`increase` (counters, histogram counts), `quantile` "
        "(histograms). Unset: `last` for gauges, `rate` for counters and histograms.",
    )
    quantile: Number | None = Field(
        default=None,
        ge=0,
        le=1,
        validate_default=True,
        description="The quantile of `aggregation: quantile` (0.95 is p95).",
    )
    group_by: list[str] | None = Field(
        default=None,
        description="Attributes that identify one alert instance; series of a group are combined. Unset: each "
        "series is its own instance (`error_ratio`, `burn_rate`, `absence`, `composite`: the whole metric).",
    )
    operator: Operator = Field(default=">", description="Comparison between the observed value and `threshold`.")
    threshold: Number | None = Field(
        default=None, validate_default=True, description="Value the observation is compared with."
    )
    for_: Duration = Field(
        default=timedelta(0),
        alias="for",
        description="How long the condition must hold before the alert fires (pending before that).",
    )
    keep_firing_for: Duration = Field(
        default=timedelta(0), description="How long a firing alert keeps firing after its condition stopped holding."
    )
    window: PositiveDuration = Field(
        default=timedelta(minutes=5), description="Look-back window of the aggregation, ratio, rate or absence."
    )
    total_metric: str = Field(
        default="",
        validate_default=True,
        description="`error_ratio`, `burn_rate`: the metric counting all events (a histogram's count).",
    )
    objective: Number | None = Field(
        default=None,
        gt=0,
        lt=1,
        validate_default=True,
        description="`burn_rate`: the SLO target, e.g. 0.999 (error budget 0.1%).",
    )
    burn_windows: list[BurnWindow] = Field(
        default_factory=lambda: [BurnWindow(long=lg, short=sh, factor=f) for lg, sh, f in SRE_BURN_WINDOWS],
        min_length=1,
        description="`burn_rate`: window pairs; fires when both windows of any pair burn faster than its factor. "
        "Default: 14.4x 1h/5m, 6x 6h/30m, 1x 3d/6h.",
    )
    min_events: Number = Field(
        default=0, ge=0, description="`burn_rate`: fewer events than this in a pair's long window never fire it."
    )
    rules: list[str] = Field(
        default_factory=list, validate_default=True, description="`composite`: names of the rules it combines."
    )
    combine: Literal["and", "or", "unless"] = Field(
        default="and", description="`composite`: all (`and`), any (`or`), or the first but none of the others."
    )
    severity: Literal["info", "warning", "critical"] = Field(
        default="warning", description="Severity carried by the alert, used for routing."
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Extra labels attached to the alert (routing, grouping)."
    )
    annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Human text in Prometheus template syntax (`{{ $labels.route }}`, `{{ $value | humanize }}`).",
    )
    enabled: bool = Field(default=True, description="Evaluate this rule.")

    @field_validator("metric", "threshold", "total_metric", "objective", "quantile", "rules", mode="after")
    @classmethod
    def _required_by_kind(cls, value: Any, info: ValidationInfo) -> Any:
        """Fields a kind needs are reported at their own path, like any required key."""
        kind, aggregation = info.data.get("kind"), info.data.get("aggregation")
        needed = {
            "metric": kind != "composite",
            "threshold": kind in _NEEDS_THRESHOLD,
            "total_metric": kind in ("error_ratio", "burn_rate"),
            "objective": kind == "burn_rate",
            "quantile": aggregation == "quantile",
            "rules": kind == "composite",
        }[str(info.field_name)]
        if needed and value in (None, ""):
            raise PydanticCustomError("missing", "required key missing")
        if info.field_name == "rules" and needed and len(value) < 2:
            raise PydanticCustomError("composite", "a composite rule combines at least two rules")
        return value


class FlapDetection(_Section):
    """Nagios-style flap detection: weighted percent of state changes over recent evaluations."""

    enabled: bool = Field(default=True, description="Mark alerts whose condition changes too often as flapping.")
    history: Integer = Field(default=21, ge=3, le=1000, description="Evaluations looked at (Nagios keeps 21).")
    high: Number = Field(
        default=0.5, gt=0, le=1, description="Share of state changes (weighted, recent ones more) that starts flapping."
    )
    low: Number = Field(default=0.25, ge=0, lt=1, description="Share below which a flapping alert has settled.")

    @model_validator(mode="after")
    def _low_below_high(self) -> Self:
        if self.low >= self.high:
            raise PydanticCustomError("flap_thresholds", "`low` must be below `high`")
        return self


def _matcher(text: str) -> str:
    from ricecoder_otel.alerting.notify.matchers import MatcherError, parse_matcher

    try:
        parse_matcher(text)
    except MatcherError as exc:
        raise PydanticCustomError("matcher", "{reason}", {"reason": str(exc)}) from None
    return text


MatcherText = Annotated[str, AfterValidator(_matcher)]
"""An Alertmanager matcher: ``name="value"``, ``name!="value"``, ``name=~"regex"``, ``name!~"regex"``."""

ChannelName = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Channel(_Section):
    name: ChannelName = Field(description="Name used by routes, escalation levels and `alerts test NAME`.")
    send_resolved: bool = Field(default=True, description="Also notify when the alerts of a group resolve.")
    timeout: PositiveDuration = Field(default=timedelta(seconds=10), description="Most time one delivery may take.")


class ConsoleChannel(_Channel):
    """One line per notification on the process' stderr (or stdout)."""

    type: Literal["console"] = Field(description="`console`.")
    stream: Literal["stderr", "stdout"] = Field(default="stderr", description="Where the lines go.")


class FileChannel(_Channel):
    """Each notification appended as one JSON line (the Alertmanager v4 body)."""

    type: Literal["file"] = Field(description="`file`.")
    path: str = Field(min_length=1, description="File to append to (created 0600 if missing).")


class EmailChannel(_Channel):
    """SMTP with STARTTLS and authentication; a text and an HTML part."""

    type: Literal["email"] = Field(description="`email`.")
    smarthost: str = Field(pattern=r"^[^:\s]+:\d+$", description="SMTP server as `host:port` (usually port 587).")
    from_: str = Field(alias="from", min_length=3, description="Sender address.")
    to: list[str] = Field(min_length=1, description="Recipient addresses.")
    username: str | None = Field(default=None, description="SMTP user for AUTH; unset: no authentication.")
    password: Secret | None = Field(default=None, description="SMTP password (secret).")
    require_tls: bool = Field(default=True, description="Refuse to send unless the server offers STARTTLS.")
    hello: str = Field(default="localhost", description="Name sent in EHLO.")
    ca_file: str | None = Field(
        default=None, description="CA bundle that signs the server's certificate; unset: the system's CAs."
    )
    send_resolved: bool = Field(default=False, description="Also mail when a group resolves.")


class SlackChannel(_Channel):
    """A Slack incoming webhook: blocks with fallback text, at most one message per second."""

    type: Literal["slack"] = Field(description="`slack`.")
    url: Secret = Field(description="The incoming-webhook URL (secret: it is the credential).")


class WebhookChannel(_Channel):
    """POST of the Alertmanager v4 body, signed with Standard Webhooks headers."""

    type: Literal["webhook"] = Field(description="`webhook`.")
    url: Secret = Field(description="Receiver URL (secret: URLs often carry tokens).")
    signing_secret: Secret | None = Field(
        default=None,
        description="Standard Webhooks key (`whsec_` + base64); sets `webhook-signature`. Unset: unsigned.",
    )
    github_signature: bool = Field(
        default=False, description="Also send GitHub's `X-Hub-Signature-256` made with `signing_secret`."
    )
    max_alerts: Integer = Field(default=0, ge=0, description="Most alerts per body (0: all); the rest are counted.")


class PagerDutyChannel(_Channel):
    """PagerDuty Events API v2: trigger, acknowledge and resolve by dedup key."""

    type: Literal["pagerduty"] = Field(description="`pagerduty`.")
    routing_key: Secret = Field(description="The integration (routing) key (secret).")
    url: str = Field(default="https://events.pagerduty.com/v2/enqueue", description="Events API endpoint.")
    source: str = Field(default="ricecoder-otel", description="`payload.source`: the affected system.")
    client_url: str | None = Field(default=None, description="`client_url` shown in PagerDuty.")


class OpsGenieChannel(_Channel):
    """OpsGenie Alert API v2 (legacy: Atlassian ends OpsGenie on 2027-04-05)."""

    type: Literal["opsgenie"] = Field(description="`opsgenie`.")
    api_key: Secret = Field(description="API integration key, sent as `Authorization: GenieKey ...` (secret).")
    region: Literal["us", "eu"] = Field(default="us", description="`eu` uses api.eu.opsgenie.com.")
    api_url: str | None = Field(default=None, description="Override the API base URL (tests, proxies).")
    priority: Literal["P1", "P2", "P3", "P4", "P5"] | None = Field(
        default=None, description="Priority; unset: P1 for critical, P3 otherwise."
    )
    responders: list[dict[str, str]] = Field(
        default_factory=list, description="Responders, e.g. `[{name: checkout-team, type: team}]`."
    )


class AlertmanagerChannel(_Channel):
    """Pushes every alert to an Alertmanager (`POST /api/v2/alerts`), which groups and routes them."""

    type: Literal["alertmanager"] = Field(description="`alertmanager`.")
    url: str = Field(min_length=1, description="Alertmanager base URL, e.g. `http://alertmanager:9093`.")
    resend_interval: PositiveDuration = Field(
        default=timedelta(minutes=1), description="Firing alerts are re-sent this often (like Prometheus)."
    )


ChannelConfig = Annotated[
    ConsoleChannel | FileChannel | EmailChannel | SlackChannel | WebhookChannel | PagerDutyChannel
    | OpsGenieChannel | AlertmanagerChannel,
    Field(discriminator="type"),
]


def _channel_list(value: Any) -> Any:
    """The seed wrote channels as a mapping ``name: {type, ...}``; a list of named channels works too."""
    if isinstance(value, Mapping):
        return [{"name": name, **settings} if isinstance(settings, Mapping) else settings
                for name, settings in value.items()]  # fmt: skip
    return value


class RouteConfig(_Section):
    """A node of the routing tree (Alertmanager semantics; unset fields inherit from the parent)."""

    receiver: ChannelName | None = Field(
        default=None,
        description="Channel that gets this route's notifications; at the root, unset means every channel.",
    )
    matchers: list[MatcherText] = Field(default_factory=list, description="All must match for the route to apply.")
    group_by: list[str] | None = Field(
        default=None, description="Labels that split alerts into groups; `['...']` groups by every label."
    )
    group_wait: Duration | None = Field(
        default=None,
        description="Wait before a new group's first notification (0s: one evaluation's alerts arrive together).",
    )
    group_interval: Duration | None = Field(
        default=None, description="Wait before notifying about changes to a group (5m)."
    )
    repeat_interval: Duration | None = Field(
        default=None, description="Wait before repeating an unchanged notification (4h)."
    )
    continue_: bool = Field(default=False, alias="continue", description="Keep matching the next sibling routes.")
    routes: list[Any] = Field(
        default_factory=list, description="Child routes (each shaped like this one), tried in order."
    )

    @field_validator("routes")
    @classmethod
    def _child_routes(cls, value: list[Any]) -> list[RouteConfig]:
        """Children are validated here: a self-referencing field type would send schema walkers in circles."""
        children: list[RouteConfig] = []
        for i, child in enumerate(value):
            if isinstance(child, RouteConfig):
                children.append(child)
                continue
            try:
                children.append(RouteConfig.model_validate(child))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in (i, *first["loc"]))
                raise PydanticCustomError("route", "{where}: {message}",
                                          {"where": where.lstrip("."), "message": first["msg"]}) from None  # fmt: skip
        return children


class InhibitRule(_Section):
    """Mute target alerts while a source alert with the same `equal` labels fires."""

    source_matchers: list[MatcherText] = Field(min_length=1, description="Matchers of the inhibiting alert.")
    target_matchers: list[MatcherText] = Field(min_length=1, description="Matchers of the muted alerts.")
    equal: list[str] = Field(default_factory=list, description="Labels that must have equal values in both.")


class EscalationLevel(_Section):
    """One level of an escalation policy."""

    delay: Duration = Field(default=timedelta(0), description="Time after the previous level (or the trigger).")
    channels: list[ChannelName] = Field(min_length=1, description="Channels notified at this level.")


class IncidentsConfig(_Section):
    """Incidents opened by firing alert groups."""

    enabled: bool = Field(default=True, description="Open incidents for alert groups that are notified.")
    escalation: list[EscalationLevel] = Field(
        default_factory=list, description="Levels notified in turn while nobody acknowledges."
    )
    repeat: Integer = Field(default=0, ge=0, description="How many more times the levels are run through.")
    loop_delay: Duration | None = Field(
        default=None,
        description="Time after the last level before the levels run again (`repeat`); unset, the first level's "
        "`delay` (so a first level at `0s` is paged again together with the last one).",
    )
    ack_timeout: PositiveDuration | None = Field(
        default=None, description="An acknowledged incident re-triggers after this long unless resolved."
    )
    auto_resolve: bool = Field(default=True, description="Resolve the incident when all its alerts resolve.")


class DeliveryConfig(_Section):
    """Retries of the notification outbox."""

    max_attempts: Integer = Field(default=8, ge=1, le=100, description="Attempts before a dead letter.")
    initial_backoff: PositiveDuration = Field(default=timedelta(seconds=1), description="First retry delay.")
    max_backoff: PositiveDuration = Field(default=timedelta(minutes=5), description="Longest retry delay.")


class AlertingConfig(_Section):
    """Alert rules evaluated in-process."""

    enabled: bool = Field(default=True, description="Evaluate alert rules.")
    evaluation_interval: Interval = Field(
        default=timedelta(seconds=1),
        description="How often the rules are evaluated (on their own thread, from exact in-process aggregates); "
        "`anomaly` rules are evaluated when new scores arrive.",
    )
    rules: list[AlertRule] = Field(default_factory=list, description="The alert rules.")
    channels: Annotated[list[ChannelConfig], BeforeValidator(_channel_list)] = Field(
        default_factory=list,
        description="Notification channels, a list or a mapping of name to settings; `type` is one of console, "
        "file, email, slack, webhook, pagerduty, opsgenie, alertmanager.",
    )
    route: RouteConfig = Field(default_factory=RouteConfig, description="The routing tree (Alertmanager semantics).")
    inhibit_rules: list[InhibitRule] = Field(default_factory=list, description="Inhibition rules.")
    incidents: IncidentsConfig = Field(default_factory=IncidentsConfig, description="Incidents and escalation.")
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig, description="Outbox retries.")
    flapping: FlapDetection = Field(default_factory=FlapDetection, description="Flap detection of alert instances.")

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[AlertRule]) -> list[AlertRule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise PydanticCustomError("duplicate_rule", "duplicate rule name '{name}'", {"name": rule.name})
            seen.add(rule.name)
        plain = {rule.name for rule in rules if rule.kind != "composite"}
        for rule in rules:
            missing = [name for name in rule.rules if name not in plain]
            if rule.kind == "composite" and missing:
                raise PydanticCustomError(
                    "composite_operand",
                    "composite rule '{name}' combines unknown or composite rules: {missing}",
                    {"name": rule.name, "missing": ", ".join(missing)},
                )
        return rules

    @model_validator(mode="after")
    def _known_channels(self) -> Self:
        """Routes and escalation levels may only name configured channels, each name once."""
        names = [channel.name for channel in self.channels]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise PydanticCustomError("duplicate_channel", "duplicate channel name '{name}'", {"name": repeated[0]})
        used = [*_route_receivers(self.route, "route")]
        used += [(name, f"incidents.escalation[{i}].channels") for i, level in enumerate(self.incidents.escalation)
                 for name in level.channels]  # fmt: skip
        for name, where in used:
            if name not in names:
                raise PydanticCustomError(
                    "unknown_channel", "{where}: unknown channel '{name}'; configured: {names}",
                    {"where": where, "name": name, "names": ", ".join(names) or "none"},
                )  # fmt: skip
        return self


def _route_receivers(route: RouteConfig, where: str) -> list[tuple[str, str]]:
    found = [(route.receiver, f"{where}.receiver")] if route.receiver is not None else []
    for i, child in enumerate(route.routes):
        found += _route_receivers(child, f"{where}.routes[{i}]")
    return found


class ErrorTrackingConfig(_Section):
    """Exception grouping, error rates and the optional Sentry bridge."""

    enabled: bool = Field(
        default=True,
        description="Group exceptions recorded on spans, ERROR logs with an exception, uncaught exceptions and "
        "`track_error` calls; export them and keep their groups in the store.",
    )
    dsn: Secret | None = Field(
        default=None,
        description="Sentry DSN; when set, errors are also sent to Sentry (needs the `sentry` extra; secret).",
    )
    sentry_dsn: Secret | None = Field(
        default=None, description="Earlier name of `dsn`; sets `dsn` when that is not given (secret)."
    )
    sample_rate: Number = Field(
        default=1.0, ge=0.0, le=1.0, description="Share of error events sent to Sentry, between 0 and 1."
    )
    environment: str | None = Field(
        default=None, description="Deployment environment reported with errors (e.g. `production`)."
    )
    release: str | None = Field(
        default=None, description="Release reported with errors and kept per group (e.g. `shop@1.4.2`)."
    )
    ignore_exceptions: list[str] = Field(
        default_factory=list,
        description="Exception class names (or fully qualified names) that are not tracked.",
    )

    @model_validator(mode="after")
    def _fold_sentry_dsn(self) -> Self:
        """``sentry_dsn`` sets ``dsn``; both then read the same."""
        alias = self.sentry_dsn
        if alias is not None:
            if self.dsn is not None and alias.get_secret_value() != self.dsn.get_secret_value():
                raise PydanticCustomError(
                    ALIAS_CONFLICT,
                    "differs from error_tracking.dsn; they are the same setting, give one",
                    {"key": "sentry_dsn"},
                )
            object.__setattr__(self, "dsn", alias)  # still being built: nobody holds it yet
        object.__setattr__(self, "sentry_dsn", self.dsn)
        return self


class PerformanceThresholds(_Section):
    """Limits that become built-in alerts (``performance.p95_response_time``, ``performance.memory``,
    ``performance.cpu``); ``null`` switches one off."""

    max_response_time_ms: Number | None = Field(
        default=500.0, gt=0.0, description="Fire when a route's p95 response time over `window` exceeds this."
    )
    max_memory_mb: Number | None = Field(
        default=300.0, gt=0.0, description="Fire when the process' resident memory exceeds this many MB."
    )
    max_cpu_percent: Number | None = Field(
        default=80.0,
        gt=0.0,
        description="Fire when the process' CPU use exceeds this percent of the machine's CPU (all cores).",
    )
    routes: dict[str, Annotated[float, Field(gt=0.0), BeforeValidator(_finite)] | None] = Field(
        default_factory=dict,
        description="Per-route `max_response_time_ms` (key `http.route`, or `METHOD route`); `null` switches the "
        "p95 alert off for that route.",
    )
    min_requests: Integer = Field(
        default=5, ge=1, description="Requests a route needs in the window before its p95 is compared."
    )
    for_: Duration = Field(
        default=timedelta(minutes=1),
        alias="for",
        description="How long a limit must be exceeded before its alert fires (pending until then), so one "
        "busy evaluation does not page.",
    )
    severity: Literal["info", "warning", "critical"] = Field(
        default="warning", description="Severity of the threshold alerts."
    )


class PerformanceConfig(_Section):
    """Latency percentiles, bottlenecks, thresholds as alerts, and span-attributed profiling."""

    enabled: bool = Field(
        default=True,
        description="Analyse request latency per operation, attribute it to kinds of work, and evaluate the "
        "thresholds; false also turns off the spans and samples of a `PerformanceTimer` given this section.",
    )
    profiling_enabled: bool = Field(
        default=False,
        description="Sample the stacks of threads serving a span and keep the profile of slow requests.",
    )
    anomaly_detection_enabled: bool = Field(
        default=True,
        description="Seed key; per-route latency anomalies are configured in the `anomaly` section.",
        json_schema_extra=not_built("latency anomalies are detected by the anomaly section"),
    )
    thresholds: PerformanceThresholds = Field(
        default_factory=PerformanceThresholds, description="Limits evaluated as built-in alerts."
    )
    window: PositiveDuration = Field(
        default=timedelta(minutes=5),
        description="Sliding window of the in-process percentiles and of the p95 alert (moves in tenths).",
    )
    evaluation_interval: Interval = Field(
        default=timedelta(seconds=10), description="How often the thresholds are evaluated."
    )
    max_operations: Integer = Field(
        default=1000, ge=1, description="Operations tracked at most; later ones share `_OTHER` of their kind."
    )
    histogram_max_buckets: Integer = Field(
        default=160,
        ge=8,
        le=4096,
        description="Buckets per latency histogram (base-2 exponential): more buckets, smaller relative error.",
    )
    profiling_sample_rate: Number = Field(
        default=100.0, gt=0.0, le=1000.0, description="Stack samples per second of each profiled thread."
    )
    slow_request_threshold: PositiveDuration = Field(
        default=timedelta(seconds=1),
        description="Requests at least this slow keep their profile (with `profiling_enabled`).",
    )
    cpu_threshold_percent: Number | None = Field(
        default=None,
        gt=0.0,
        le=100.0,
        description="Earlier name of `thresholds.max_cpu_percent`; sets it when that is not given, and reads "
        "the same.",
    )
    memory_threshold_percent: Number | None = Field(
        default=90.0,
        gt=0.0,
        le=100.0,
        description="Memory use (percent of physical memory) that also fires `performance.memory`: the limit "
        "is the smaller of this and `thresholds.max_memory_mb`; `null` leaves only the MB limit.",
    )

    @model_validator(mode="after")
    def _fold_cpu_threshold(self) -> Self:
        """``cpu_threshold_percent`` sets ``thresholds.max_cpu_percent`` unless that is given; both read the same."""
        alias = self.cpu_threshold_percent
        thresholds = self.thresholds
        if alias is not None and alias != thresholds.max_cpu_percent:
            if "max_cpu_percent" in thresholds.model_fields_set:
                raise PydanticCustomError(
                    ALIAS_CONFLICT,
                    "differs from thresholds.max_cpu_percent; they are the same setting, give one",
                    {"key": "cpu_threshold_percent"},
                )
            thresholds = thresholds.model_copy(update={"max_cpu_percent": alias})
            object.__setattr__(self, "thresholds", thresholds)  # still being built: nobody holds it yet
        object.__setattr__(self, "cpu_threshold_percent", thresholds.max_cpu_percent)
        return self


ANOMALY_BUILTIN_SERIES = (
    REQUEST_DURATION,
    "http.server.error_rate",
    "process.cpu.utilization",
    "process.memory.usage",
)
"""Series the anomaly feed always watches; ``anomaly.metrics`` adds more."""


class AnomalySeriesOptions(_Section):
    """Detector options for the series of one metric whose attributes match; the first entry that matches wins."""

    metric: str = Field(
        min_length=1,
        description="The series' metric: `http.server.request.duration`, `http.server.error_rate`, "
        "`process.cpu.utilization`, `process.memory.usage` or a name in `anomaly.metrics`.",
    )
    match: dict[str, str] = Field(
        default_factory=dict,
        description="Attribute values the series must have, shell-style wildcards allowed "
        "(`{http.route: /api/*}`); empty: every series of the metric.",
    )
    sensitivity: Number = Field(
        default=1.0,
        gt=0,
        le=100,
        description="Scales the evidence the detector judges (spikes, level shifts, spread, trends): 2 alarms "
        "on deviations half as large as the default needs, 0.5 only on deviations twice as large.",
    )
    seasonal: bool | None = Field(
        default=None, description="Learn daily and weekly patterns; `null` keeps the default (on)."
    )
    transform: Literal["auto", "none", "log", "count"] = Field(
        default="auto",
        description="Scale the series is modelled on: `auto` picks from the warm-up points; `log` for "
        "multiplicative spread (latency), `count` for low event counts, `none` for raw values.",
    )


class AnomalyConfig(_Section):
    """Streaming anomaly detection."""

    enabled: bool = Field(default=True, description="Run anomaly detectors.")
    metrics: list[str] = Field(
        default_factory=list,
        description="Extra metric names to watch, besides per-route latency, error rate, CPU and memory.",
    )
    series: list[AnomalySeriesOptions] = Field(
        default_factory=list,
        description="Per-series detector options (sensitivity, seasonality, transform), applied live.",
    )

    @model_validator(mode="after")
    def _watched_series(self) -> Self:
        """Options may only name a series the feed watches (a typo would silently do nothing)."""
        watched = (*ANOMALY_BUILTIN_SERIES, *self.metrics)
        for i, entry in enumerate(self.series):
            if entry.metric not in watched:
                close = difflib.get_close_matches(entry.metric, watched, n=1)
                raise PydanticCustomError(
                    "unwatched_series",
                    "series[{index}].metric: '{metric}' is not watched{hint}; watched: {watched} "
                    "(add a metric to anomaly.metrics to watch it)",
                    {
                        "index": i,
                        "metric": entry.metric,
                        "hint": f" (did you mean '{close[0]}'?)" if close else "",
                        "watched": ", ".join(watched),
                    },
                )
        return self


class AnalyticsFunnel(_Section):
    """An ordered funnel: each step is a feature (an action name or a route's feature)."""

    steps: list[str] = Field(min_length=2, description="Feature names, in order; at least two.")
    window: PositiveDuration = Field(
        default=timedelta(days=1), description="Conversion window, measured from the first step."
    )


class AnalyticsSegment(_Section):
    """A segment of users: by traits, by behaviour or by engagement score band (give exactly one)."""

    traits: dict[str, str] = Field(
        default_factory=dict, description="Users whose traits (from `identify`) have these values."
    )
    feature: str | None = Field(default=None, description="Users who used this feature at least `min_count` times.")
    min_count: Integer = Field(default=1, gt=0, description="Uses of `feature` needed within the report window.")
    score_min: Number | None = Field(default=None, ge=0, le=100, description="Engagement score at least this.")
    score_max: Number | None = Field(default=None, ge=0, le=100, description="Engagement score below this.")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [bool(self.traits), self.feature is not None, self.score_min is not None or self.score_max is not None]
        if sum(kinds) != 1:
            raise PydanticCustomError(
                "segment_kind", "give exactly one of `traits`, `feature` or `score_min`/`score_max`"
            )
        return self


class EngagementWeights(_Section):
    """Weights of the engagement score's four parts (normalised by their sum)."""

    recency: Number = Field(default=0.25, ge=0, description="Weight of recency (days since last activity).")
    frequency: Number = Field(default=0.25, ge=0, description="Weight of frequency (active days in the window).")
    breadth: Number = Field(default=0.25, ge=0, description="Weight of breadth (share of features used).")
    depth: Number = Field(default=0.25, ge=0, description="Weight of depth (actions against `depth_target`).")

    @model_validator(mode="after")
    def _some_weight(self) -> Self:
        if self.recency + self.frequency + self.breadth + self.depth <= 0:
            raise PydanticCustomError("weights", "at least one weight must be positive")
        return self


class EngagementConfig(_Section):
    """How the engagement score and lifecycle states are computed."""

    window: PositiveDuration = Field(default=timedelta(days=30), description="Window the score looks at.")
    weights: EngagementWeights = Field(default_factory=EngagementWeights, description="Weights of the parts.")
    depth_target: Integer = Field(
        default=100, gt=0, description="Actions in the window that count as full depth (score part 1.0)."
    )
    bands: list[Number] = Field(
        default_factory=lambda: [25.0, 50.0, 75.0],
        description="Score band boundaries (ascending, 0..100) for the engagement report.",
    )
    churn_after: PositiveDuration = Field(
        default=timedelta(days=28), description="A user inactive this long is `churned` (else `dormant`)."
    )

    @field_validator("bands")
    @classmethod
    def _ascending(cls, bands: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(bands)) or any(not 0 < b < 100 for b in bands):
            raise PydanticCustomError("bands", "expected ascending boundaries between 0 and 100")
        return bands


AnalyticsReportKind = Literal[
    "active", "stickiness", "adoption", "adoption-curve", "retention", "funnel", "engagement", "lifecycle", "segments"
]


class AnalyticsSchedule(_Section):
    """Reports generated on a schedule by the analytics worker, written to files and/or announced on the hub."""

    reports: list[AnalyticsReportKind] = Field(min_length=1, description="Reports generated on each run.")
    every: PositiveDuration = Field(
        default=timedelta(days=1),
        description="Period between runs (at least 1m); runs fall on multiples of it counted from Monday "
        "1970-01-05 00:00 UTC, so `1d` is daily at midnight and `7d` weekly on Mondays.",
    )
    offset: Duration = Field(
        default=timedelta(0), description="Shift of each run into its period: `every: 7d, offset: 6h` is Mondays 06:00."
    )
    days: Integer = Field(
        default=30, gt=0, le=400, description="Whole UTC days each report covers, ending with the day before the run."
    )
    interval: Literal["week", "day"] = Field(default="week", description="Retention, lifecycle, adoption-curve unit.")
    format: Literal["json", "csv", "md", "html"] = Field(default="json", description="Format of the written files.")
    directory: str | None = Field(
        default=None,
        min_length=1,
        description="Directory the reports are written to, as `<schedule>-<report>-<run time>.<format>`.",
    )
    publish: bool = Field(
        default=True,
        description="Announce each report as a `ricecoder.analytics.report` event on the hub (a log record; "
        "a notifier can deliver it).",
    )

    @model_validator(mode="after")
    def _runnable(self) -> Self:
        if self.every < timedelta(minutes=1):
            raise PydanticCustomError("every", "every: expected at least 1m")
        if self.offset >= self.every:
            raise PydanticCustomError("offset", "offset: expected less than `every`")
        if self.directory is None and not self.publish:
            raise PydanticCustomError("destination", "give a `directory`, or keep `publish` on")
        return self


class AnalyticsConfig(_Section):
    """Usage analytics: actions, identities, sessions, adoption, retention, funnels, engagement, segments."""

    enabled: bool = Field(default=True, description="Record usage analytics.")
    tracking_id: str | None = Field(
        default=None,
        max_length=200,
        description="Names this tracked product; exported as `ricecoder.analytics.tracking_id` on every "
        "analytics event and stored with nothing else (reports cover one store).",
    )
    event_buffer_size: Integer = Field(
        default=1000,
        gt=0,
        le=1_000_000,
        description="Calls queued between the calling thread and the analytics worker; beyond, calls are "
        "dropped and counted (`ricecoder.self.dropped{component=analytics.buffer}`).",
    )
    flush_interval: Interval = Field(
        default=timedelta(seconds=300), description="How often the aggregates are written to the store."
    )
    features: dict[str, str] = Field(
        default_factory=dict,
        description="Server route (`http.route`) -> feature name: a request by an identified user counts as "
        "use of that feature. Routes not listed count as activity only.",
    )
    user_attributes: list[str] = Field(
        default_factory=lambda: ["user.id", "enduser.id"],
        min_length=1,
        description="Span attributes read, in order, for the user of a server request (add e.g. "
        "`http.request.header.x-user-id` for a captured header).",
    )
    session_timeout: PositiveDuration = Field(
        default=timedelta(minutes=30), description="Inactivity after which a user's next action starts a session."
    )
    consent: Literal["not_required", "drop", "anonymous"] = Field(
        default="not_required",
        description="Without consent for the `analytics` purpose in the baggage: `drop` the event, count it "
        "`anonymous`ly (no user), or `not_required` (consent not checked).",
    )
    consent_baggage_key: str = Field(
        default="consent",
        min_length=1,
        description="Baggage entry listing consented purposes, comma-separated (`consent=analytics,ads`).",
    )
    allowed_properties: list[str] = Field(
        default_factory=list,
        description="Action properties kept (exported as `ricecoder.analytics.property.<name>`); others are "
        "dropped. Empty keeps none.",
    )
    allowed_traits: list[str] = Field(
        default_factory=list, description="Traits kept from `identify` and `group`; others are dropped."
    )
    pseudonym_key: Secret | None = Field(
        default=None,
        description="HMAC-SHA-256 key that turns user ids into pseudonyms before anything is stored or exported "
        "(at least 16 characters). Replicas sharing a store need the same key. Unset, a random key per process "
        "is used: pseudonyms then join only within one process.",
    )
    funnels: dict[str, AnalyticsFunnel] = Field(default_factory=dict, description="Funnels by name.")
    segments: dict[str, AnalyticsSegment] = Field(default_factory=dict, description="Segments by name.")
    engagement: EngagementConfig = Field(default_factory=EngagementConfig, description="Engagement score.")
    max_features: Integer = Field(
        default=1000,
        gt=0,
        le=100_000,
        description="Distinct feature (action) names kept; more are counted as dropped (a flood of names).",
    )
    max_pending_rows: Integer = Field(
        default=200_000,
        gt=0,
        description="Per-user activity rows held between flushes; beyond, new rows are dropped and counted.",
    )
    keep_days: Integer = Field(
        default=35, ge=1, le=400, description="Days of active-user sketches kept in memory (MAU needs 30)."
    )
    sketch_lg_k: Integer = Field(
        default=14, ge=4, le=21, description="HyperLogLog precision (log2 of buckets): error about 1.04/sqrt(2^k)."
    )
    max_future_skew: PositiveDuration = Field(
        default=timedelta(minutes=5), description="Events timed further ahead than this are dropped and counted."
    )
    release: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The release this process runs, for adoption curves per release; unset means the "
        "resource's `service.version`. A release comes out when a process running it is first seen.",
    )
    releases: dict[str, datetime] = Field(
        default_factory=dict,
        description="Release -> when it came out (ISO 8601; UTC unless a zone is given); replaces the first "
        "time a process running it was seen (for releases older than the analytics data).",
    )
    schedules: dict[str, AnalyticsSchedule] = Field(
        default_factory=dict, description="Scheduled reports by name (the name starts each file's name)."
    )

    @field_validator("releases")
    @classmethod
    def _utc_releases(cls, releases: dict[str, datetime]) -> dict[str, datetime]:
        return {v: t if t.tzinfo is not None else t.replace(tzinfo=UTC) for v, t in releases.items()}

    @field_validator("schedules")
    @classmethod
    def _file_safe_names(cls, schedules: dict[str, AnalyticsSchedule]) -> dict[str, AnalyticsSchedule]:
        for name in schedules:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name) or name.startswith("."):
                raise PydanticCustomError(
                    "schedule_name", "schedule '{name}': expected letters, digits, `_`, `-`, `.`", {"name": name}
                )
        return schedules

    @field_validator("pseudonym_key")
    @classmethod
    def _long_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value()) < 16:
            raise PydanticCustomError("key_length", "expected at least 16 characters")
        return key


def _linear_regex(pattern: str) -> str:
    from ricecoder_otel.compliance.redaction.patterns import PatternError, check_pattern

    try:
        check_pattern(pattern)
    except PatternError as exc:
        raise PydanticCustomError("regex", "{reason}", {"reason": str(exc)}) from None
    return pattern


RedactionRegex = Annotated[str, AfterValidator(_linear_regex)]
"""A regular expression that compiles and cannot backtrack catastrophically (position named if not)."""
RedactionAction = Literal["mask", "hash", "drop_attribute", "drop_record"]


def _default_safe_keys() -> list[str]:
    from ricecoder_otel.compliance.redaction.detectors import DEFAULT_SAFE_KEYS

    return list(DEFAULT_SAFE_KEYS)


class RedactionConfig(_Section):
    """Redaction applied to every signal before it leaves the process."""

    enabled: bool = Field(default=True, description="Redact sensitive values in spans, logs, metrics and events.")
    builtin: list[BuiltinPatternName] = Field(
        default_factory=lambda: list(BUILTIN_REDACTION_PATTERNS),
        description="Built-in detectors to apply: " + ", ".join(BUILTIN_REDACTION_PATTERNS) + ".",
    )
    patterns: dict[str, RedactionRegex] = Field(
        default_factory=dict,
        description="Extra patterns, name -> regular expression; a name equal to a built-in replaces it. "
        "A named group `v` marks the part to redact (else the whole match).",
    )
    actions: dict[str, RedactionAction] = Field(
        default_factory=dict,
        description="Action per detector name (built-in, pattern, `sensitive_key`, `oversize`): `mask`, `hash` "
        "(keyed HMAC-SHA-256), `drop_attribute` or `drop_record`; others get `default_action`.",
    )
    default_action: RedactionAction = Field(default="mask", description="Action of detectors not in `actions`.")
    sensitive_keys: list[RedactionRegex] = Field(
        default_factory=list,
        description="Extra key-name patterns (case-insensitive) whose whole value is redacted as `sensitive_key`.",
    )
    safe_keys: list[str] = Field(
        default_factory=_default_safe_keys,
        description="Attribute keys never scanned or redacted; `prefix*` matches every key starting with `prefix`.",
    )
    hash_key: Secret | None = Field(
        default=None,
        description="Key of the `hash` action. Unset, a random key per process is used: hashes then join only "
        "within one process, not across restarts or replicas.",
    )
    callback: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="`module:function` called with each match; returns the replacement, or None to apply the action.",
    )
    max_scan_chars: Integer = Field(
        default=65_536, gt=0, description="Characters scanned per value; a longer value's tail is cut and marked."
    )
    scan_json: bool = Field(default=True, description="Parse JSON inside string values and scrub it by key and value.")

    @model_validator(mode="after")
    def _actions_name_detectors(self) -> Self:
        known = {*BUILTIN_REDACTION_PATTERNS, *self.patterns, "oversize"}
        unknown = sorted(set(self.actions) - known)
        if unknown:
            raise PydanticCustomError(
                "redaction_action",
                "`actions` names unknown detector(s) {names}; known: {known}",
                {"names": ", ".join(unknown), "known": ", ".join(sorted(known))},
            )
        return self


class AuditedOperations(_Section):
    """Operations recorded automatically: server routes or span names tagged ``phi`` or ``admin``."""

    tag: Literal["phi", "admin"] = Field(description="The records' action is `access.<tag>`.")
    routes: list[str] = Field(
        default_factory=list,
        description="Glob patterns (`*`, `?`, `[...]`; `*` also crosses `/`) matched against a SERVER span's "
        "`http.route` (else `url.path`), e.g. `/patients/*`.",
    )
    span_names: list[str] = Field(
        default_factory=list, description="Glob patterns matched against the name of any span, e.g. `admin.*`."
    )

    @model_validator(mode="after")
    def _something_to_match(self) -> Self:
        if not (self.routes or self.span_names):
            raise PydanticCustomError("audited_operations", "give `routes` or `span_names` (or both)")
        return self


class AuditConfig(_Section):
    """The tamper-evident audit trail: where the journal lives and how it is signed."""

    path: str | None = Field(
        default=None,
        description="Directory of the audit journal; unset means `ricecoder-otel/audit` in the user's data "
        "directory (`$XDG_DATA_HOME`, else `~/.local/share`).",
    )
    checkpoint_records: Integer = Field(
        default=1000, gt=0, le=1_000_000, description="Sign a checkpoint after this many records."
    )
    checkpoint_interval: PositiveDuration = Field(
        default=timedelta(minutes=1),
        description="Sign a checkpoint at most this long after the first unsigned record.",
    )
    checkpoint_key: Secret | None = Field(
        default=None,
        description="HMAC-SHA-256 key of the checkpoints and the head (at least 16 bytes). Unset, a random "
        "key is kept in `checkpoint.key` beside the journal: that catches accidents, not someone who can "
        "write the directory; hold the key elsewhere for that.",
    )
    signing_key: Secret | None = Field(
        default=None,
        description="Ed25519 private key (unencrypted PKCS#8 PEM, or the 32-byte seed as hex) that also signs each "
        "checkpoint and the head, so a third party holding only the public key (`ricecoder-otel audit public-key`) "
        "can verify them (`audit verify --public-key`). Needs the `audit-crypto` extra (`cryptography`).",
    )
    pseudonymise_actors: bool = Field(
        default=False, description="Record actors as keyed hashes (`hmac:...`) instead of their names."
    )
    pseudonym_key: Secret | None = Field(
        default=None, description="Key of the actor pseudonyms; unset, one is derived from the checkpoint key."
    )
    operations: list[AuditedOperations] = Field(
        default_factory=list,
        description="Spans audited automatically (`access.phi` / `access.admin`, resource the route or span "
        "name, actor `enduser.id` or `user.id`); the first entry that matches a span decides its tag.",
    )
    operations_queue: Integer = Field(
        default=10_000,
        gt=0,
        le=1_000_000,
        description="Audited spans waiting for the journal (appended off the application thread); more are "
        "dropped and counted in `ricecoder.self.dropped` (component `audit`).",
    )


ComplianceStandard = Literal["SOC2", "GDPR", "HIPAA"]


class DataRetentionConfig(_Section):
    """How long each class of stored data is kept; unset classes fall back as described."""

    telemetry: PositiveDuration | None = Field(
        default=None,
        description="Spans, metric points and log records (not audit log records); unset means `store.max_age`.",
    )
    analytics: PositiveDuration | None = Field(
        default=None, description="Pseudonymous usage analytics rows; unset means `compliance.retention`."
    )
    incidents: PositiveDuration | None = Field(
        default=None,
        description="Resolved incidents with their timelines, delivered notifications and expired silences; "
        "unset means `compliance.retention`.",
    )
    errors: PositiveDuration | None = Field(
        default=None,
        description="Error samples and error groups not seen since; unset means `compliance.retention`.",
    )
    interval: PositiveDuration = Field(
        default=timedelta(hours=1), description="How often the background worker enforces retention."
    )


class Waiver(_Section):
    """An accepted exception to one control, valid until it expires (InSpec's waiver shape)."""

    control: str = Field(
        pattern=r"^(SOC2|GDPR|HIPAA):\S+$",
        description="The control waived, `STANDARD:CLAUSE` such as `SOC2:CC6.7` or `GDPR:Art.33`.",
    )
    justification: str = Field(min_length=1, description="Why the failing control is accepted.")
    expires: datetime = Field(description="When the waiver stops applying (ISO 8601; UTC unless a zone is given).")
    approved_by: str = Field(default="", description="Who accepted the exception.")

    @field_validator("expires")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ComplianceConfig(_Section):
    """Redaction, audit trail, retention, subject rights and compliance reports."""

    enabled: bool = Field(default=True, description="Apply compliance controls.")
    standards: list[ComplianceStandard] = Field(
        default_factory=lambda: list[ComplianceStandard](["SOC2", "GDPR"]),
        description="Standards reported on every `reporting_interval` (SOC2, GDPR, HIPAA); HIPAA also raises "
        "`audit_log_retention` to at least six years.",
    )
    reporting_interval: PositiveDuration = Field(
        default=timedelta(days=1), description="How often compliance reports are generated and stored."
    )
    audit_log_retention: PositiveDuration = Field(
        default=timedelta(days=2555),
        description="How long audit records are kept (audit log records in the store; the journal is never cut).",
    )
    redaction: RedactionConfig = Field(default_factory=RedactionConfig, description="Redaction policy.")
    audit_enabled: bool = Field(
        default=True, description="Record the audit trail (`audit()`, configuration changes), durable before export."
    )
    audit: AuditConfig = Field(default_factory=AuditConfig, description="Audit journal and checkpoints.")
    retention: PositiveDuration = Field(
        default=timedelta(days=30),
        description="How long personal data is kept: the default of the analytics, incidents and errors classes.",
    )
    data_retention: DataRetentionConfig = Field(
        default_factory=DataRetentionConfig, description="Retention per data class."
    )
    waivers: list[Waiver] = Field(default_factory=list, description="Accepted exceptions to failing controls.")


class DashboardsConfig(_Section):
    """Dashboards rendered from the store and the live server."""

    enabled: bool = Field(default=True, description="Serve dashboards inside the application (with `port`).")
    refresh_interval: Interval = Field(
        default=timedelta(seconds=30),
        description="How often a live dashboard that sets no `refresh` of its own slides its window and reads its "
        "report panels again (new metric points and events are pushed as they are stored).",
    )
    host: str = Field(
        default="127.0.0.1",
        description="Interface the in-application dashboard server listens on; any but loopback needs `token`.",
    )
    port: Integer = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the in-application dashboard server; 0 serves none inside the application "
        "(`ricecoder-otel dashboard serve` runs it as its own process).",
    )
    token: Secret | None = Field(
        default=None, description="Token viewers must give (`?token=`) when `host` is not loopback."
    )


class StoreConfig(_Section):
    """Where spans, metrics, logs, incidents and the audit trail are stored."""

    location: str | None = Field(
        default=None,
        description="SQLite file path or a `postgresql://` DSN (its password is masked when shown); "
        "unset means `ricecoder-otel/telemetry.db` in the user's data directory. `RICECODER_STORE_PATH` "
        "(then `RICECODER_STORE_DSN`) also set it, below `RICECODER_STORE__LOCATION`.",
    )
    max_age: PositiveDuration = Field(default=timedelta(days=7), description="Telemetry older than this is deleted.")
    max_size_mb: Integer = Field(
        default=512, gt=0, description="Size above which the oldest telemetry is deleted, in megabytes."
    )

    @field_serializer("location", when_used="json")
    def _mask_location(self, value: str | None) -> str | None:
        return None if value is None else redact_dsn(value)


class MonitoringConfig(_Section):
    """The whole configuration: defaults < YAML file < ``RICECODER_*`` variables."""

    enabled: bool = Field(default=True, description="Master switch: false turns every capability off.")
    service_name: str | None = Field(
        default=None,
        description="Service name; `OTEL_SERVICE_NAME` fills it when it is not set here.",
    )
    metrics: MetricsConfig = Field(default_factory=MetricsConfig, description="Metrics.")
    alerting: AlertingConfig = Field(default_factory=AlertingConfig, description="Alerting.")
    error_tracking: ErrorTrackingConfig = Field(default_factory=ErrorTrackingConfig, description="Error tracking.")
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig, description="Performance monitoring.")
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig, description="Anomaly detection.")
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig, description="Usage analytics.")
    compliance: ComplianceConfig = Field(default_factory=ComplianceConfig, description="Compliance.")
    dashboards: DashboardsConfig = Field(default_factory=DashboardsConfig, description="Dashboards.")
    store: StoreConfig = Field(default_factory=StoreConfig, description="Embedded store.")
    shutdown_timeout: PositiveDuration = Field(
        default=timedelta(seconds=10),
        description="Most time the pipeline spends flushing at shutdown (keep it under the platform's "
        "termination grace period); what is not sent by then is counted and reported on stderr.",
    )

    @model_validator(mode="after")
    def _fold_retention_period(self) -> Self:
        """``metrics.retention_period`` (the seed's key) sets ``store.max_age`` unless that is given."""
        period = self.metrics.retention_period
        store = self.store
        if period is not None and period != store.max_age:
            if "max_age" in store.model_fields_set:
                raise PydanticCustomError(
                    ALIAS_CONFLICT,
                    "differs from store.max_age; they are the same setting, give one",
                    {"key": "metrics.retention_period"},
                )
            store = store.model_copy(update={"max_age": period})
            object.__setattr__(self, "store", store)  # still being built: nobody holds it yet
        if self.metrics.retention_period != store.max_age:
            metrics = self.metrics.model_copy(update={"retention_period": store.max_age})
            object.__setattr__(self, "metrics", metrics)
        return self


def metrics_exporters(metrics: MetricsConfig, env: Mapping[str, str]) -> list[str] | None:
    """The metric exporter names in force: ``OTEL_METRICS_EXPORTER`` when set, else
    ``metrics.exporters``; ``[]`` means none, ``None`` means neither is set (use the default)."""
    text = env.get("OTEL_METRICS_EXPORTER", "").strip()
    names = [name.strip() for name in text.split(",") if name.strip()] if text else metrics.exporters
    if names is None:
        return None
    return [] if names == [NO_EXPORTER] else list(names)
