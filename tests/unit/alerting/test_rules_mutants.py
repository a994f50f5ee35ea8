"""Rule-engine behaviour that mutation testing found unchecked: anomaly rules after other kinds,
a zero threshold, a series missing from the scores; burn-rate boundaries and several window
pairs; absence from the start and over a whole metric; composite `unless`, grouping and values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ricecoder_otel.alerting.rules import RuleEngine
from ricecoder_otel.alerting.series import MetricSnapshot
from ricecoder_otel.config import AlertRule

SERIES = "queue.depth{queue=mail}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rule(**fields: Any) -> AlertRule:
    return AlertRule.model_validate({"name": "r", "metric": "q", "threshold": 10, **fields})


def anomaly(**fields: Any) -> AlertRule:
    return rule(**{"name": "odd", "kind": "anomaly", "metric": "queue.depth", "threshold": 0.8, **fields})


# -- anomaly rules (evaluate) ------------------------------------------------------------------


def test_anomaly_rules_listed_after_other_kinds_are_evaluated() -> None:
    engine = RuleEngine([rule(name="hot"), anomaly(), anomaly(name="odd-too", threshold=0.5)], Clock())
    events = engine.evaluate("anomaly", {SERIES: 0.9})
    assert sorted((e.rule, e.state, e.series, e.value, e.threshold) for e in events) == [
        ("odd", "firing", SERIES, 0.9, 0.8),
        ("odd-too", "firing", SERIES, 0.9, 0.5),
    ]


def test_a_zero_threshold_is_zero() -> None:
    engine = RuleEngine([anomaly(operator=">", threshold=0)], Clock())
    [fired] = engine.evaluate("anomaly", {SERIES: 0.5})
    assert (fired.state, fired.value, fired.threshold) == ("firing", 0.5, 0.0)


def test_a_series_missing_from_the_scores_keeps_its_last_value_and_can_fire() -> None:
    clock = Clock()
    engine = RuleEngine([anomaly(**{"for": "1m"})], clock)
    assert engine.evaluate("anomaly", {SERIES: 0.9}) == []  # pending
    clock.now += 60
    [fired] = engine.evaluate("anomaly", {})  # no new score: the last one still holds
    assert (fired.state, fired.series, fired.value, fired.at) == ("firing", SERIES, 0.9, 1060.0)


# -- burn rate -----------------------------------------------------------------------------------


def burn_events(windows: list[dict[str, Any]], errors_per_minute: Sequence[float]) -> list[tuple[int, str, float]]:
    """20 requests a minute; ``errors_per_minute[m]`` of them fail in minute ``m``; objective 0.5."""
    slo = AlertRule.model_validate({
        "name": "slo", "kind": "burn_rate", "metric": "err", "total_metric": "req", "objective": 0.5,
        "burn_windows": windows, "min_events": 0})  # fmt: skip
    engine = RuleEngine([slo], step=60)
    out: list[tuple[int, str, float]] = []
    errors = 0.0
    for minute, failed in enumerate(errors_per_minute):
        errors += failed
        snapshot = {
            "req": MetricSnapshot("counter", {(): 20.0 * minute}),
            "err": MetricSnapshot("counter", {(): errors}),
        }
        out += [(minute, e.state, round(e.value, 4)) for e in engine.tick(snapshot, now=minute * 60)]
    return out


def test_a_long_window_burning_exactly_at_its_factor_does_not_fire() -> None:
    pair = [{"long": "10m", "short": "2m", "factor": 1}]
    # Long window: 100 of 200 requests failed, a burn of exactly 1 (the short window burns 2).
    assert burn_events(pair, [0] + [7.5] * 8 + [20, 20]) == []
    assert burn_events(pair, [0] + [8] * 8 + [20, 20]) == [(10, "firing", 1.04)]


def test_a_short_window_burning_exactly_at_its_factor_stops_the_alert() -> None:
    pair = [{"long": "10m", "short": "2m", "factor": 1}]
    # The short window falls to 20 of 40 (a burn of exactly 1) at minute 10.
    assert burn_events(pair, [0] + [15] * 8 + [10, 10]) == [(1, "firing", 1.5), (10, "resolved", 1.4444)]
    assert burn_events(pair, [0] + [15] * 8 + [11, 11]) == [(1, "firing", 1.5)]


def test_any_window_pair_that_holds_fires_and_the_first_holding_pair_gives_the_value() -> None:
    # Errors only in the last two minutes: the 10m pair is not burning, the 2m pair is.
    slow_then_fast = [{"long": "10m", "short": "1m", "factor": 1.5}, {"long": "2m", "short": "1m", "factor": 1.5}]
    assert burn_events(slow_then_fast, [0] * 9 + [20, 20]) == [(10, "firing", 2.0)]
    # Both pairs hold at minute 10 (burns 2 and 1): the first pair's burn is the value.
    both = [{"long": "2m", "short": "1m", "factor": 0.9}, {"long": "4m", "short": "1m", "factor": 0.9}]
    assert burn_events(both, [0] * 9 + [20, 20, 0, 0]) == [(9, "firing", 1.0), (11, "resolved", 2.0)]


# -- absence -------------------------------------------------------------------------------------


def test_a_metric_never_seen_is_absent_from_the_start_once_the_window_has_passed() -> None:
    engine = RuleEngine([rule(name="gone", kind="absence", window="2m", threshold=None)], step=60)
    seen = [(t, e.state, e.value) for t in (1000, 1060, 1120, 1180) for e in engine.tick({}, now=t)]
    assert seen == [(1120, "firing", 120.0)]


def test_absence_is_of_the_whole_metric_not_of_one_series() -> None:
    engine = RuleEngine([rule(name="gone", kind="absence", window="2m", threshold=None)], step=60)
    both = MetricSnapshot("gauge", {(("queue", "mail"),): 1.0, (("queue", "sms"),): 1.0})
    mail = MetricSnapshot("gauge", {(("queue", "mail"),): 1.0})
    seen = [e.state for e in engine.tick({"q": both}, now=0)]
    for t in (60, 120, 180, 240):
        seen += [e.state for e in engine.tick({"q": mail}, now=t)]  # sms stopped, the metric did not
    assert seen == []
    late = [(t, e.state, e.value) for t in (300, 360, 420) for e in engine.tick({}, now=t)]
    assert late == [(360, "firing", 120.0)]  # last seen at 240


def test_a_counter_that_stops_increasing_is_absent() -> None:
    engine = RuleEngine([rule(name="stalled", kind="absence", window="2m", threshold=None)], step=60)
    seen = []
    for t, value in [(0, 1.0), (60, 5.0), (120, 5.0), (180, 5.0), (240, 9.0)]:
        snapshot = {"q": MetricSnapshot("counter", {(("queue", "mail"),): value})}
        seen += [(t, e.state, e.value) for e in engine.tick(snapshot, now=t)]
    assert seen == [(180, "firing", 120.0), (240, "resolved", 120.0)]  # last increase at 60


# -- composite -----------------------------------------------------------------------------------


def gauges(**queues: float) -> dict[str, MetricSnapshot]:
    return {"q": MetricSnapshot("gauge", {(("queue", name),): v for name, v in queues.items()}),
            "p": MetricSnapshot("gauge", {(("queue", name),): v for name, v in queues.items()})}  # fmt: skip


def test_unless_fires_while_the_first_rule_holds_and_the_others_do_not() -> None:
    hot = rule(name="hot", threshold=10, group_by=["queue"])
    very_hot = rule(name="very-hot", metric="p", threshold=50, group_by=["queue"])
    only_hot = AlertRule.model_validate(
        {
            "name": "only-hot",
            "kind": "composite",
            "rules": ["hot", "very-hot"],
            "combine": "unless",
            "group_by": ["queue"],
        }
    )
    engine = RuleEngine([hot, very_hot, only_hot], step=60)
    seen = []
    for t, snapshot in [(0, gauges(mail=20)), (60, gauges(mail=60)), (120, gauges(mail=20)), (180, gauges(mail=0))]:
        seen += [
            (t, e.state, e.value, e.labels.get("queue")) for e in engine.tick(snapshot, now=t) if e.rule == "only-hot"
        ]
    assert seen == [(0, "firing", 20.0, "mail"), (60, "resolved", 20.0, "mail"), (120, "firing", 20.0, "mail"),
                    (180, "resolved", 20.0, "mail")]  # fmt: skip


def test_a_composite_group_takes_the_highest_value_of_its_members() -> None:
    hot = rule(name="hot", threshold=10)  # one instance per series
    spread = AlertRule.model_validate(
        {"name": "any-hot", "kind": "composite", "rules": ["hot", "cold"], "combine": "or", "group_by": ["queue"]}
    )
    cold = rule(name="cold", threshold=-1, operator="<")
    series: dict[tuple[tuple[str, str], ...], float] = {
        (("queue", "mail"), ("host", "a")): 30.0,
        (("queue", "mail"), ("host", "b")): 20.0,
    }
    engine = RuleEngine([hot, cold, spread], step=60)
    events = [e for e in engine.tick({"q": MetricSnapshot("gauge", series)}, now=0) if e.rule == "any-hot"]
    assert [(e.state, e.value, e.labels["queue"], "host" in e.labels) for e in events] == [
        ("firing", 30.0, "mail", False)
    ]


def test_a_composite_over_a_disabled_rule_sees_it_as_not_holding() -> None:
    hot = rule(name="hot", threshold=10)
    off = rule(name="off", threshold=-1, enabled=False)
    either = AlertRule.model_validate({"name": "either", "kind": "composite", "rules": ["hot", "off"], "combine": "or"})
    both = AlertRule.model_validate({"name": "both", "kind": "composite", "rules": ["hot", "off"]})
    engine = RuleEngine([hot, off, either, both], step=60)
    events = engine.tick(gauges(mail=20), now=0)
    assert sorted((e.rule, e.state, e.value) for e in events) == [("either", "firing", 20.0), ("hot", "firing", 20.0)]


def test_a_composite_sees_an_anomaly_rule_that_holds() -> None:
    clock = Clock()
    odd = anomaly(metric="q")
    either = AlertRule.model_validate({"name": "either", "kind": "composite", "rules": ["odd", "hot"], "combine": "or"})
    both = AlertRule.model_validate({"name": "both", "kind": "composite", "rules": ["odd", "hot"]})
    engine = RuleEngine([odd, rule(name="hot"), either, both], clock, step=60)
    assert [(e.rule, e.state) for e in engine.evaluate("anomaly", {"q": 0.9})] == [("odd", "firing")]
    events = engine.tick(gauges(mail=1), now=clock.now)
    assert [(e.rule, e.state, e.value) for e in events] == [("either", "firing", 0.9)]
    events = engine.tick(gauges(mail=20), now=clock.now + 60)
    assert sorted((e.rule, e.state) for e in events) == [("both", "firing"), ("hot", "firing")]


# -- events and kinds ------------------------------------------------------------------------------


def test_events_carry_when_the_alert_started_and_when_it_ended() -> None:
    engine = RuleEngine([rule(**{"for": "1m"})], step=60)
    events = [e for t, v in [(0, 20), (60, 20), (120, 20), (180, 0)] for e in engine.tick(gauges(mail=v), now=t)]
    [fired, resolved] = events
    assert (fired.state, fired.at, fired.active_since, fired.starts_at, fired.ends_at) == ("firing", 60, 0, 60, None)
    assert (resolved.state, resolved.at, resolved.starts_at, resolved.ends_at) == ("resolved", 180, 60, 180)


def test_a_zero_threshold_on_a_metric_is_zero() -> None:
    engine = RuleEngine([rule(threshold=0, operator=">")], step=60)
    [fired] = engine.tick(gauges(mail=0.5), now=0)
    assert (fired.state, fired.value, fired.threshold) == ("firing", 0.5, 0.0)


def test_ticks_leave_anomaly_rules_to_the_anomaly_scores() -> None:
    engine = RuleEngine([anomaly(metric="q", threshold=0.1, operator=">=")], step=60)
    assert [e for t in (0, 60, 600, 6000) for e in engine.tick({}, now=t)] == []  # never "absent"


def test_an_error_ratio_counts_a_group_without_errors_as_zero_and_a_single_request() -> None:
    ratio = rule(name="errors", kind="error_ratio", metric="err", total_metric="req", window="1m", threshold=0.2,
                 operator=">=", group_by=["route"])  # fmt: skip
    engine = RuleEngine([ratio], step=60)
    seen = []
    for t, requests, errors in [(0, {"/a": 0.0, "/b": 0.0}, {"/b": 0.0}), (60, {"/a": 4.0, "/b": 1.0}, {"/b": 1.0})]:
        snapshot = {
            "req": MetricSnapshot("counter", {(("route", r),): v for r, v in requests.items()}),
            "err": MetricSnapshot("counter", {(("route", r),): v for r, v in errors.items()}),
        }
        seen += [(t, e.state, e.value, e.labels["route"]) for e in engine.tick(snapshot, now=t)]
    assert seen == [(60, "firing", 1.0, "/b")]  # /a: 4 requests, no error series: a ratio of 0
