"""What ``update()`` returns: one alarm-level point per episode, a held band while it lasts."""

from __future__ import annotations

from ricecoder_otel.anomaly import Detector, create_detector

from .conftest import START, closed, feed, gaussian

ALARM = 0.9  # open_score 0.5 + 0.8 * (1 - 0.5)


def test_a_long_anomaly_reaches_the_alarm_level_once_and_holds_above_open_score(detector: Detector) -> None:
    values = gaussian(400) + [400.0, 20.0] * 3 + gaussian(300)  # six wild points in a row, then normal
    scores = feed(detector, values)
    [episode] = closed(detector)
    onset = int((episode.onset - START) / 60)
    assert onset == 400
    assert [i for i, s in enumerate(scores) if s >= ALARM] == [400]
    assert all(0.5 <= s < ALARM for s in scores[401:406])  # the anomaly goes on: held, not re-alarmed
    assert detector.evidence < 0.5


def test_an_adopted_level_shift_alarms_once_then_scores_normal(detector: Detector) -> None:
    values = gaussian(500) + gaussian(1500, mean=160.0, seed=7)
    scores = feed(detector, values)
    assert [i for i, s in enumerate(scores) if s >= ALARM] == [500]
    assert max(scores[700:]) < 0.5


def test_warm_up_scores_zero_and_evidence_is_exposed() -> None:
    det = create_detector()
    assert feed(det, gaussian(23)) == [0.0] * 23
    det.update(START + 23 * 60, 100.0)
    score = det.update(START + 24 * 60, 10_000.0)
    assert score >= ALARM and det.evidence > 0.99


def test_a_shape_that_recurs_every_day_stops_alarming() -> None:
    """A noise-free daily square wave (8 hours high, switching mid-bin): its transitions alarm
    strongly on the first days only, then the time-of-day memory and the daily profile know them.
    A step in the middle of a half hour cannot be drawn by half-hour bins: the spread it leaves
    may still open a marginal episode (evidence just past open_score) on the next half hour's
    first points, but never a strong one."""
    step = 300.0
    per_day = int(86400 / step)
    values = [80.0 if 99 <= i % per_day < 195 else 20.0 for i in range(per_day * 14)]
    det = create_detector()
    scores = feed(det, values, step=step)
    alarms = [i // per_day for i, s in enumerate(scores) if s >= ALARM]
    assert alarms and alarms[0] == 0
    strong = [i // per_day for i, s in enumerate(scores) if s >= 0.95]
    assert max(strong) <= 3, strong
    assert max(scores[4 * per_day :]) < 0.92
    # a step the series never showed at that time of day is still an alarm
    values = values[: per_day * 10] + [200.0] * 12
    det = create_detector()
    scores = feed(det, values, step=step)
    assert max(scores[per_day * 10 :]) >= ALARM
