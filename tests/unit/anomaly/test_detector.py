"""Behaviour of the single-series detector on each kind of anomaly."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from ricecoder_otel.anomaly import Detector, DetectorOptions, Episode, create_detector

from .conftest import START, closed, daily, feed, gaussian


def test_scores_are_in_unit_interval_and_quiet_on_noise(detector: Detector) -> None:
    scores = feed(detector, gaussian(3000))
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert closed(detector) == []


def test_warm_up_scores_zero_and_opens_no_episode() -> None:
    det = create_detector(warmup=30)
    values = gaussian(29)
    values[20] = 10_000.0
    assert feed(det, values) == [0.0] * 29
    assert det.drain_episodes() == []
    assert det.expected() is not None  # learnt a baseline from the warm-up points


def test_spike_is_one_episode_with_expected_range(detector: Detector) -> None:
    values = gaussian(600)
    values[400] = values[401] = 180.0
    scores = feed(detector, values)
    episodes = closed(detector)
    assert len(episodes) == 1
    ep = episodes[0]
    assert ep.kind == "spike" and ep.direction == 1
    assert ep.onset == START + 400 * 60
    assert scores[400] > 0.5
    assert ep.expected_low < 100.0 < ep.expected_high < ep.observed


def test_dip_is_reported_as_dip(detector: Detector) -> None:
    values = gaussian(600)
    values[300] = 20.0
    feed(detector, values)
    [ep] = closed(detector)
    assert ep.kind == "dip" and ep.direction == -1


def test_level_shift_is_flagged_once_then_adopted(detector: Detector) -> None:
    values = gaussian(500) + gaussian(1500, mean=160.0, seed=7)
    scores = feed(detector, values)
    episodes = closed(detector)
    assert [ep.kind for ep in episodes] == ["level_shift"]
    assert episodes[0].onset == START + 500 * 60
    assert max(scores[700:]) < 0.5  # the new level is normal now


def test_moderate_sustained_shift_is_caught_by_cusum(detector: Detector) -> None:
    values = gaussian(800) + gaussian(800, mean=115.0, seed=9)  # 3 sd: no single point stands out
    feed(detector, values)
    episodes = closed(detector)
    assert len(episodes) == 1
    assert episodes[0].kind == "level_shift" and episodes[0].direction == 1
    assert 800 * 60 <= episodes[0].onset - START <= 900 * 60


def test_variance_change(detector: Detector) -> None:
    values = gaussian(800) + gaussian(600, sd=25.0, seed=5)
    feed(detector, values)
    kinds = [ep.kind for ep in closed(detector)]
    assert kinds and kinds[0] in ("variance_change", "spike", "dip")
    assert "variance_change" in kinds
    assert len(kinds) <= 3


def test_trend_is_detected_and_then_adopted(detector: Detector) -> None:
    rng = random.Random(4)
    values = [100.0 + rng.gauss(0, 5) for _ in range(1000)]
    values += [100.0 + 0.3 * i + rng.gauss(0, 5) for i in range(1500)]
    feed(detector, values)
    episodes = closed(detector)
    assert episodes, "a steady ramp must be reported"
    assert episodes[0].direction == 1 and episodes[0].onset >= START + 1000 * 60
    assert len(episodes) <= 3


def test_daily_seasonality_is_learned_then_quiet() -> None:
    det = create_detector()
    step = 300.0
    per_day = int(86400 / step)
    values = daily(per_day * 8, step=step)
    feed(det, values, step=step)
    late = [ep for ep in closed(det) if ep.onset >= START + 3 * 86400]
    assert late == []
    # the same absolute value that is normal at the daily peak is anomalous at the trough
    low_phase = START + 8 * 86400 + 0.75 * 86400
    assert det.update(low_phase, 250.0) > 0.5


def test_low_counts_use_poisson_scale() -> None:
    rng = random.Random(11)
    det = create_detector()

    def poisson(lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k, p = k + 1, p * rng.random()
        return k

    values: list[float | None] = [float(poisson(0.5)) for _ in range(3000)]
    feed(det, values)
    assert closed(det) == []  # zeros with the odd 1, 2 or 3 are normal
    assert det.update(START + 3000 * 60, 12.0) > 0.5


def test_flat_line_then_change_then_recovery(detector: Detector) -> None:
    scores = feed(detector, [42.0] * 5000)
    assert set(scores) == {0.0}
    assert detector.update(START + 5000 * 60, 60.0) > 0.5
    more = [detector.update(START + (5001 + i) * 60, 42.0) for i in range(200)]
    assert max(more[50:]) < 0.5


def test_stuck_sensor_is_one_stuck_episode(detector: Detector) -> None:
    values = gaussian(1500) + [103.7] * 120 + gaussian(400, seed=5)
    feed(detector, values)
    [ep] = closed(detector)
    assert ep.kind == "stuck"
    assert START + 1500 * 60 < ep.onset <= START + 1540 * 60  # early in the run


def test_flat_stretches_a_series_often_shows_stop_alarming() -> None:
    det = create_detector()
    values: list[float | None] = []
    for block in range(12):
        values += gaussian(300, seed=block) + [round(values[-1] if values else 100.0, 1)] * 60
    feed(det, values)
    stuck = [ep for ep in closed(det) if ep.kind == "stuck"]
    assert stuck and stuck[-1].onset < START + 6 * 360 * 60  # learnt: the later flats are normal


def test_datetime_and_epoch_timestamps_agree() -> None:
    epoch, aware, naive = create_detector(), create_detector(), create_detector()
    values = gaussian(300)
    values[250] = 200.0
    base = datetime.fromtimestamp(START, UTC)
    for i, v in enumerate(values):
        s_epoch = epoch.update(START + i * 60, v)
        assert aware.update(base + timedelta(minutes=i), v) == s_epoch
        assert naive.update(base.replace(tzinfo=None) + timedelta(minutes=i), v) == s_epoch  # naive = UTC


def test_callback_receives_open_and_close_reports() -> None:
    seen: list[Episode] = []
    det = create_detector(on_episode=seen.append)
    values = gaussian(400)
    values[300] = 200.0
    feed(det, values)
    assert [ep.is_open for ep in seen] == [True, False]
    assert seen[0].onset == seen[1].onset
    assert seen[1].end is not None and seen[1].end >= seen[1].onset


def test_failing_callback_does_not_break_scoring() -> None:
    def boom(_ep: Episode) -> None:
        raise RuntimeError("consumer bug")

    det = create_detector(on_episode=boom)
    values = gaussian(400)
    values[300] = 200.0
    scores = feed(det, values)
    assert scores[300] > 0.5
    assert det.callback_errors == 2


def test_repeats_inside_an_incident_are_suppressed(detector: Detector) -> None:
    values = gaussian(600)
    for i in (400, 408, 416, 424):  # a flapping incident: repeats within the cooldown
        values[i] = 200.0
    scores = feed(detector, values)
    assert len(closed(detector)) == 1
    assert detector.suppressed >= 1
    assert [i for i, s in enumerate(scores) if s >= 0.9] == [400]


def test_closely_spaced_repeats_hold_one_episode_and_alarm_once(detector: Detector) -> None:
    values = gaussian(600)
    for i in (400, 402, 404, 406):  # every other point: the burst itself holds the episode open
        values[i] = 200.0
    scores = feed(detector, values)
    assert len(closed(detector)) == 1
    assert [i for i, s in enumerate(scores) if s >= 0.9] == [400]


def test_history_and_pending_are_bounded() -> None:
    det = create_detector(history=2)
    values = gaussian(4000)
    for i in range(500, 4000, 400):
        values[i] = 100.0 + 20 * (i // 400) * 5.0
    feed(det, values)
    assert len(det.episodes) <= 2
    assert len(det.drain_episodes()) <= 4


def test_bad_options_are_rejected_with_names() -> None:
    with pytest.raises(ValueError, match="threshold"):
        DetectorOptions(threshold=0)
    with pytest.raises(ValueError, match="level_alpha"):
        create_detector(level_alpha=2.0)
    with pytest.raises(TypeError):
        create_detector(no_such_option=1)
