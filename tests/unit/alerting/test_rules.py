from __future__ import annotations

from datetime import timedelta

from ricecoder_otel.alerting.rules import RuleEngine, matches
from ricecoder_otel.config import AlertRule

ROUTE = "http.server.request.duration{http.route=/orders}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rule(**overrides: object) -> AlertRule:
    fields: dict[str, object] = {
        "name": "latency-anomaly",
        "kind": "anomaly",
        "metric": "http.server.request.duration",
        "operator": ">=",
        "threshold": 0.8,
        "for": "1m",
        "severity": "critical",
        "labels": {"team": "shop"},
        "annotations": {"summary": "latency is unusual"},
    }
    fields.update(overrides)
    return AlertRule.model_validate(fields)


def test_series_matching_by_metric_name() -> None:
    assert matches("http.server.request.duration", ROUTE)
    assert matches("process.cpu.utilization", "process.cpu.utilization")
    assert not matches("http.server.request", ROUTE)
    assert not matches("http.server.request.duration", "http.server.request.duration_total")


def test_pending_then_firing_after_the_hold_then_resolved() -> None:
    clock = Clock()
    engine = RuleEngine([_rule()], clock)
    assert engine.evaluate("anomaly", {ROUTE: 0.9}) == []  # pending
    clock.now += 30
    assert engine.evaluate("anomaly", {ROUTE: 0.95}) == []  # still pending
    clock.now += 30
    [fired] = engine.evaluate("anomaly", {ROUTE: 0.97})
    assert (fired.state, fired.series, fired.severity, fired.active_since) == ("firing", ROUTE, "critical", 1000.0)
    assert fired.labels == {"alertname": "latency-anomaly", "series": ROUTE, "severity": "critical", "team": "shop"}
    assert fired.annotations["summary"] == "latency is unusual" and len(fired.fingerprint) == 16
    clock.now += 15
    assert engine.evaluate("anomaly", {ROUTE: 0.99}) == []  # one notification per firing, not per evaluation
    assert engine.firing() == [("latency-anomaly", ROUTE)]
    clock.now += 15
    [resolved] = engine.evaluate("anomaly", {ROUTE: 0.1})
    assert resolved.state == "resolved" and resolved.value == 0.99  # the last value while it held (Prometheus)
    assert engine.firing() == []


def test_a_condition_that_stops_while_pending_never_fires() -> None:
    clock = Clock()
    engine = RuleEngine([_rule()], clock)
    engine.evaluate("anomaly", {ROUTE: 0.9})
    clock.now += 30
    assert engine.evaluate("anomaly", {ROUTE: 0.2}) == []
    clock.now += 60
    assert engine.evaluate("anomaly", {ROUTE: 0.9}) == []  # pending again, from now
    assert engine.firing() == []


def test_missing_data_keeps_the_state_and_other_kinds_are_ignored() -> None:
    clock = Clock()
    engine = RuleEngine([_rule(**{"for": "0s"})], clock)
    assert [e.state for e in engine.evaluate("anomaly", {ROUTE: 0.9})] == ["firing"]
    assert engine.evaluate("anomaly", {}) == []
    assert engine.evaluate("threshold", {ROUTE: 0.0}) == []
    assert engine.firing() == [("latency-anomaly", ROUTE)]


def test_reloading_rules_keeps_state_of_kept_rules_and_drops_removed_or_disabled_ones() -> None:
    clock = Clock()
    cpu = _rule(name="cpu", metric="process.cpu.utilization", **{"for": "0s"})
    engine = RuleEngine([_rule(**{"for": "0s"}), cpu], clock)
    engine.evaluate("anomaly", {ROUTE: 0.9, "process.cpu.utilization": 0.9})
    engine.set_rules([_rule(**{"for": "0s"}), _rule(name="cpu", metric="process.cpu.utilization", enabled=False)])
    assert engine.firing() == [("latency-anomaly", ROUTE)]
    assert engine.evaluate("anomaly", {ROUTE: 0.9, "process.cpu.utilization": 0.9}) == []


def test_operators() -> None:
    clock = Clock()
    low = RuleEngine([_rule(operator="<", threshold=0.1, **{"for": timedelta(0)})], clock)
    assert [e.state for e in low.evaluate("anomaly", {ROUTE: 0.05})] == ["firing"]
    assert [e.state for e in low.evaluate("anomaly", {ROUTE: 0.5})] == ["resolved"]
