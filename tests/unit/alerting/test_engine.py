"""The rule engine on plain snapshots: kinds, for/keep_firing_for, templates, flapping."""

from __future__ import annotations

from typing import Any

import pytest

from ricecoder_otel.alerting.aggregate import histogram_quantile
from ricecoder_otel.alerting.rules import RuleEngine
from ricecoder_otel.alerting.series import MetricSnapshot
from ricecoder_otel.alerting.state import flap_share
from ricecoder_otel.alerting.templates import TemplateError, humanize, humanize_duration, render
from ricecoder_otel.config import AlertRule
from ricecoder_otel.config.model import FlapDetection

A = (("queue", "mail"),)


def rule(**fields: Any) -> AlertRule:
    return AlertRule.model_validate({"name": "r", "metric": "q", "threshold": 10, **fields})


def gauge(value: float) -> dict[str, MetricSnapshot]:
    return {"q": MetricSnapshot("gauge", {A: value})}


def timeline(engine: RuleEngine, values: list[float], step: float = 60) -> list[tuple[float, str]]:
    out = []
    for i, v in enumerate(values):
        out += [(i * step, e.state) for e in engine.tick(gauge(v), now=i * step)]
    return out


def test_for_keeps_an_alert_pending_and_keep_firing_for_holds_it_after_the_condition() -> None:
    engine = RuleEngine([rule(**{"for": "2m", "keep_firing_for": "3m"})], step=60)
    values = [0, 20, 20, 20, 0, 0, 0, 0, 0]
    # fires when now - active_at >= 2m (t=180); first false at 240, resolves once 3m have passed (t=420)
    assert timeline(engine, values) == [(180, "firing"), (420, "resolved")]


def test_no_for_fires_on_the_first_evaluation_and_a_blip_inside_keep_firing_for_is_one_alert() -> None:
    engine = RuleEngine([rule(keep_firing_for="2m")], step=60)
    assert timeline(engine, [20, 0, 20, 0, 0, 0]) == [(0, "firing"), (300, "resolved")]


def test_threshold_aggregations_over_a_gauge_window() -> None:
    engine = RuleEngine([rule(aggregation="avg", window="3m")], step=60)
    assert timeline(engine, [0, 30, 0, 0, 0]) == [(60, "firing"), (120, "resolved")]  # avg 15, then 10 (not > 10)


def test_counter_rate_and_reset() -> None:
    r = rule(metric="c", window="1m", threshold=1)
    engine = RuleEngine([r], step=60)
    events = []
    for t, v in [(0, 0.0), (60, 30.0), (120, 150.0), (180, 10.0), (240, 20.0)]:
        events += [(t, e.state, e.value) for e in engine.tick({"c": MetricSnapshot("counter", {A: v})}, now=t)]
    assert events == [(120, "firing", 2.0), (180, "resolved", 2.0)]  # the reset at 180 counts 10, not -140


def test_histogram_quantile_matches_prometheus_interpolation() -> None:
    bounds = (0.1, 0.5, 1.0)
    assert histogram_quantile(0.5, bounds, (50, 50, 0, 0)) == pytest.approx(0.1)
    assert histogram_quantile(0.75, bounds, (50, 50, 0, 0)) == pytest.approx(0.3)
    assert histogram_quantile(0.99, bounds, (0, 0, 0, 10)) == 1.0  # +Inf bucket: highest finite bound


def test_error_ratio_burn_rate_with_min_traffic_guard() -> None:
    burn = AlertRule.model_validate({
        "name": "slo", "kind": "burn_rate", "metric": "err", "total_metric": "req", "objective": 0.99,
        "burn_windows": [{"long": "10m", "short": "2m", "factor": 5}], "min_events": 100})  # fmt: skip
    engine = RuleEngine([burn], step=60)
    fired = []
    for minute in range(12):
        total, errors = 20.0 * minute, 2.0 * minute  # 10% errors = 10x burn, but 20 requests a minute
        snap = {"req": MetricSnapshot("counter", {(): total}), "err": MetricSnapshot("counter", {(): errors})}
        fired += [(minute, e.state, round(e.value, 3)) for e in engine.tick(snap, now=minute * 60)]
    assert fired == [(5, "firing", 10.0)]  # 100 events in the long window from minute 5


def test_absence_and_composite() -> None:
    absent = rule(name="gone", kind="absence", window="2m", threshold=None)
    hot = rule(name="hot", threshold=10)
    both = AlertRule.model_validate({"name": "both", "kind": "composite", "rules": ["gone", "hot"]})
    either = AlertRule.model_validate(
        {"name": "either", "kind": "composite", "rules": ["gone", "hot"], "combine": "or"}
    )
    engine = RuleEngine([absent, hot, both, either], step=60)
    seen = []
    for t, snap in [(0, gauge(20)), (60, {}), (120, {}), (180, {}), (240, gauge(1))]:
        seen += [(t, e.rule, e.state) for e in engine.tick(snap, now=t)]
    assert seen == [(0, "hot", "firing"), (0, "either", "firing"), (60, "hot", "resolved"), (60, "either", "resolved"),
                    (120, "gone", "firing"), (120, "either", "firing"), (240, "gone", "resolved"),
                    (240, "either", "resolved")]  # "both" never: hot had stopped when gone started  # fmt: skip


def test_annotations_render_prometheus_templates_and_fall_back_to_the_raw_text() -> None:
    problems: list[tuple[str, str, str]] = []
    r = rule(annotations={"summary": "{{ $labels.queue }} at {{ $value | humanize }}", "bad": "{{ nope $value }}"})
    engine = RuleEngine([r], step=60, on_template_error=lambda *p: problems.append(p))
    [event] = engine.tick(gauge(12345), now=0)
    assert event.annotations == {"summary": "mail at 12.35k", "bad": "{{ nope $value }}"}
    assert problems == [("r", "bad", "function 'nope' is not supported")]
    assert humanize(0.0012) == "1.2m" and humanize_duration(3725) == "1h 2m 5s" and humanize_duration(0.25) == "250ms"
    assert render("{{- $value -}} s", {}, 2.5) == "2.5s"
    with pytest.raises(TemplateError):
        render("{{ $value ", {}, 1)


def test_flapping_is_marked_then_settles_with_a_restatement() -> None:
    assert flap_share([True, False] * 5) == pytest.approx(1.0)
    engine = RuleEngine([rule()], step=1, flapping=FlapDetection(history=6, high=0.5, low=0.2))
    events = []
    for t, v in enumerate([20, 0, 20, 0, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0]):
        events += [(t, e.state, e.flapping) for e in engine.tick(gauge(v), now=t)]
    assert events[:5] == [(0, "firing", False), (1, "resolved", False), (2, "firing", False),
                          (3, "resolved", False), (4, "firing", False)]  # fmt: skip
    assert (5, "resolved", True) in events and (6, "firing", True) in events
    assert events[-1][1:] == ("resolved", False)  # settled: the current state once more, not flapping
