"""Consumers of the score see ``update()``'s semantics: anomaly alert rules and the built-in dashboard."""

from __future__ import annotations

from ricecoder_otel.alerting.rules import AlertEvent, RuleEngine
from ricecoder_otel.anomaly import create_detector
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.anomaly.otel import SCORE_GAUGE, SERIES_ATTRIBUTE
from ricecoder_otel.config import AlertRule, MonitoringConfig
from ricecoder_otel.dashboards.builtin import anomalies_alerts
from ricecoder_otel.testing import RicecoderCapture

from .conftest import START, gaussian

KEY = "http.server.request.duration{http.route=/orders}"
ALARM = 0.9


def _rule(name: str, threshold: float, hold: str) -> AlertRule:
    return AlertRule.model_validate(
        {
            "name": name,
            "kind": "anomaly",
            "metric": "http.server.request.duration",
            "operator": ">=",
            "threshold": threshold,
            "for": hold,
        }
    )


def test_an_anomaly_rule_sees_update_scores_fires_once_at_onset_and_not_again_during_the_anomaly() -> None:
    now = [START]
    monitor = AnomalyMonitor(clock=lambda: now[0])
    engine = RuleEngine([_rule("onset", ALARM, "0s"), _rule("held", 0.5, "2m")], lambda: now[0])
    reference = create_detector()
    values = gaussian(400) + [400.0, 20.0] * 5 + gaussian(300)  # ten wild points in a row, then normal
    scores: list[float] = []
    events: list[tuple[int, AlertEvent]] = []
    for i, value in enumerate(values):
        now[0] = START + i * 60
        score = monitor.observe(KEY, value, now[0])
        assert score == reference.update(now[0], value)  # the monitor's score is update()'s
        scores.append(score)
        events += [(i, e) for e in engine.evaluate("anomaly", monitor.scores())]

    onset = [(i, e.state, e.value) for i, e in events if e.rule == "onset"]
    # the alarm level is reached once, at the first wild point; the rule's value is that score
    assert onset == [(400, "firing", scores[400]), (401, "resolved", scores[400])]
    assert [i for i, s in enumerate(scores) if s >= ALARM] == [400]
    held = [(i, e.state) for i, e in events if e.rule == "held"]
    # a 0.5 threshold with a hold fires once while the episode lasts and never re-fires within it
    assert held[0] == (402, "firing") and [s for _, s in held].count("firing") == 1
    assert all(0.5 <= s < ALARM for s in scores[401:409])
    assert held[1][1] == "resolved" and held[1][0] >= 409  # resolved once the evidence falls below 0.5
    assert len(held) == 2


def test_the_builtin_anomaly_panel_plots_the_score_gauge_the_monitor_publishes() -> None:
    [panel] = [p for p in anomalies_alerts().panels if p.id == "scores"]
    [query] = panel.queries
    assert (query.metric, query.group_by, query.aggregation) == (SCORE_GAUGE, [SERIES_ATTRIBUTE], "max")
    assert query.metric == "ricecoder.anomaly.score"

    capture = RicecoderCapture(MonitoringConfig())
    try:
        anomaly = capture.pipeline.capability("anomaly")
        monitor = anomaly.monitor  # type: ignore[attr-defined]
        assert isinstance(monitor, AnomalyMonitor)
        reference = create_detector()
        values = [*gaussian(400), 400.0]
        for i, value in enumerate(values):
            expected = reference.update(START + i * 60, value)
            monitor.observe(KEY, value, START + i * 60)
        points = capture.metric(query.metric)
        by_series = {attrs[query.group_by[0]]: point.value for attrs, point in points}
        assert by_series[KEY] == expected == monitor.scores()[KEY]
        assert expected >= ALARM  # the panel shows the onset at the alarm level, as update() returned it
    finally:
        capture.close()
