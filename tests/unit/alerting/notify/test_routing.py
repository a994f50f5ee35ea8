"""Fingerprints, matchers and the routing tree follow Alertmanager."""

from __future__ import annotations

import pytest

from ricecoder_otel.alerting.notify.alert import Alert, fingerprint, series_labels
from ricecoder_otel.alerting.notify.matchers import MatcherError, parse_matcher
from ricecoder_otel.alerting.notify.router import build_route
from ricecoder_otel.config.model import RouteConfig


def test_fingerprints_are_alertmanagers() -> None:
    # Both captured from Alertmanager 0.25 webhooks (reference notes).
    assert fingerprint({"alertname": "RicecoderManualTest", "service": "ricecoder", "severity": "critical"}) == (
        "ffed80ef63316dd7"
    )
    assert fingerprint({"alertname": "HighErrorRate", "service": "checkout", "severity": "page"}) == "6e890fd1d2e6636f"
    assert fingerprint({"b": "2", "a": "1"}) == fingerprint({"a": "1", "b": "2"})


def test_series_labels_become_prometheus_label_names() -> None:
    assert series_labels("http.server.request.duration{http.route=/orders,status=500}") == {
        "http_route": "/orders", "status": "500"}  # fmt: skip
    assert series_labels("queue.depth") == {}


def test_matchers() -> None:
    labels = {"service": "checkout", "severity": "critical"}
    assert parse_matcher('severity="critical"').matches(labels)
    assert parse_matcher("severity!=warning").matches(labels)
    assert parse_matcher('service=~"check.*"').matches(labels)
    assert not parse_matcher('service=~"check"').matches(labels)  # anchored
    assert parse_matcher('team!~".+"').matches(labels)  # a missing label is ""
    assert parse_matcher('team=""').matches(labels)
    with pytest.raises(MatcherError, match="invalid regular expression"):
        parse_matcher('a=~"("')
    with pytest.raises(MatcherError, match="expected NAME=VALUE"):
        parse_matcher("just words")


def tree() -> RouteConfig:
    return RouteConfig.model_validate({
        "receiver": "default", "group_by": ["alertname"], "group_wait": "10s",
        "routes": [
            {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True, "group_interval": "1m"},
            {"matchers": ['service=~"check.*"'], "receiver": "checkout", "group_by": ["alertname", "service"]},
            {"matchers": ['service="never"'], "receiver": "unused"},
        ],
    })  # fmt: skip


def test_routing_tree_continue_inheritance_and_group_keys() -> None:
    root = build_route(tree(), ["default", "pager", "checkout", "unused"])
    labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
    routes = root.match(labels)
    assert [r.receivers for r in routes] == [("pager",), ("checkout",)]
    pager, checkout = routes
    assert (pager.group_wait, pager.group_interval, pager.repeat_interval) == (10.0, 60.0, 4 * 3600.0)
    assert pager.group_key(labels) == '{}/{severity="critical"}:{alertname="HighErrorRate"}'
    assert checkout.group_key(labels) == '{}/{service=~"check.*"}:{alertname="HighErrorRate", service="checkout"}'
    # No child matches: the root takes it.
    [only] = root.match({"alertname": "Other", "severity": "warning"})
    assert only.receivers == ("default",) and only.group_key({"alertname": "Other"}) == '{}:{alertname="Other"}'


def test_a_root_without_receiver_sends_to_every_channel_and_groups_by_alertname() -> None:
    root = build_route(RouteConfig(), ["a", "b"])
    assert root.receivers == ("a", "b") and root.group_by == ("alertname",)
    # Alertmanager's group_interval and repeat_interval; group_wait 0s, not Alertmanager's 30s.
    assert (root.group_wait, root.group_interval, root.repeat_interval) == (0.0, 300.0, 4 * 3600.0)


def test_an_explicit_group_wait_is_honoured_at_the_root_and_inherited_by_children() -> None:
    config = RouteConfig.model_validate(
        {"group_wait": "30s", "routes": [{"receiver": "b"}, {"receiver": "a", "group_wait": "5s"}]}
    )
    root = build_route(config, ["a", "b"])
    assert [root.group_wait, *(child.group_wait for child in root.children)] == [30.0, 30.0, 5.0]


def test_group_by_dots_groups_by_every_label() -> None:
    root = build_route(RouteConfig.model_validate({"group_by": ["..."]}), ["a"])
    alert = Alert({"alertname": "X", "pod": "p1"})
    assert root.group_labels(alert.labels) == {"alertname": "X", "pod": "p1"}
