"""Alertmanager's routing tree: which route (and so which receiver and timers) an alert takes.

A route applies when all its matchers match; its children are tried in order and the first
match wins unless that child sets ``continue``. When no child matches, the route itself takes
the alert. Unset settings inherit from the parent; the root defaults are Alertmanager's
(``group_interval`` 5m, ``repeat_interval`` 4h) with two deliberate differences: ``group_by``
defaults to ``[alertname]`` rather than one group for everything, and ``group_wait`` to 0s rather
than 30s. Alertmanager waits so that alerts sent by several Prometheus evaluations can gather; here
the rules are evaluated in-process and every alert that fires in one evaluation reaches the
dispatcher in the same pass, so the group's first notification can go at once and still hold the
whole burst. An explicit ``group_wait`` is honoured as written.

Group keys are written as Alertmanager writes them (``{}/{severity="critical"}:{alertname="X"}``),
so they and the PagerDuty/OpsGenie dedup keys derived from them are the same on every replica.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from ricecoder_otel.alerting.notify.matchers import Matcher, all_match, parse_matchers
from ricecoder_otel.config.model import RouteConfig

ALL_LABELS = "..."
DEFAULT_GROUP_BY = ("alertname",)
DEFAULT_GROUP_WAIT = 0.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


def label_set_string(labels: Mapping[str, str]) -> str:
    """Prometheus' ``LabelSet.String()``: ``{a="1", b="2"}`` sorted by name."""
    return "{" + ", ".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels)) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Route:
    """A resolved route: own matchers plus the settings it inherited."""

    matchers: tuple[Matcher, ...]
    receivers: tuple[str, ...]
    """Channel names; the root without a receiver sends to every channel."""
    receiver_name: str
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    continue_: bool
    key: str
    children: tuple[Route, ...] = field(default_factory=tuple)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """Routes that take an alert with ``labels`` (empty when this route does not apply)."""
        if not all_match(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.children:
            matched = child.match(labels)
            found += matched
            if matched and not child.continue_:
                break
        return found or [self]

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.group_by == (ALL_LABELS,):
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}

    def group_key(self, labels: Mapping[str, str]) -> str:
        return f"{self.key}:{label_set_string(self.group_labels(labels))}"


def build_route(config: RouteConfig, all_channels: Sequence[str], parent: Route | None = None) -> Route:
    """The routing tree for ``config``; ``all_channels`` is what a root without a receiver sends to."""
    matchers = parse_matchers(config.matchers)
    own_key = "{" + ",".join(str(m) for m in matchers) + "}"
    if parent is None:
        receivers = (config.receiver,) if config.receiver else tuple(all_channels)
        name = config.receiver or "default"
        group_by = tuple(config.group_by) if config.group_by is not None else DEFAULT_GROUP_BY
        wait = _seconds(config.group_wait, DEFAULT_GROUP_WAIT)
        interval = _seconds(config.group_interval, DEFAULT_GROUP_INTERVAL)
        repeat = _seconds(config.repeat_interval, DEFAULT_REPEAT_INTERVAL)
        key = own_key
    else:
        receivers = (config.receiver,) if config.receiver else parent.receivers
        name = config.receiver or parent.receiver_name
        group_by = tuple(config.group_by) if config.group_by is not None else parent.group_by
        wait = _seconds(config.group_wait, parent.group_wait)
        interval = _seconds(config.group_interval, parent.group_interval)
        repeat = _seconds(config.repeat_interval, parent.repeat_interval)
        key = f"{parent.key}/{own_key}"
    node = Route(matchers, receivers, name, group_by, wait, interval, repeat, config.continue_, key)
    children = tuple(build_route(child, all_channels, node) for child in config.routes)
    object.__setattr__(node, "children", children)  # frozen, but still being built
    return node


def _seconds(value: timedelta | None, default: float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else default
