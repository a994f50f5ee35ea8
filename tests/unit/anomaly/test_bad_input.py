"""Bad input never raises, always gets a defined score, and the detector recovers."""

from __future__ import annotations

import math
from typing import Any

from ricecoder_otel.anomaly import create_detector

from .conftest import START, closed, feed, gaussian


def test_missing_and_non_finite_values_score_zero_and_are_counted() -> None:
    det = create_detector()
    feed(det, gaussian(100))
    t = START + 100 * 60
    bad: list[Any] = [None, math.nan, math.inf, -math.inf, "abc", object()]
    assert [det.update(t + i, v) for i, v in enumerate(bad)] == [0.0] * len(bad)
    assert det.invalid == len(bad)
    assert det.points == 100


def test_bad_timestamps_score_zero() -> None:
    det = create_detector()
    feed(det, gaussian(100))
    for ts in (math.nan, math.inf, "yesterday", None):
        assert det.update(ts, 100.0) == 0.0
    assert det.invalid == 4


def test_out_of_order_points_are_scored_but_not_learned() -> None:
    det = create_detector()
    feed(det, gaussian(200))
    before = det.points
    assert det.update(START, 100.0) < 0.5
    assert det.update(START + 60, 500.0) > 0.5  # scored against the current model
    assert det.out_of_order == 2
    assert det.points == before
    assert closed(det) == []


def test_duplicate_timestamps_are_accepted() -> None:
    det = create_detector()
    values = gaussian(400)
    scores = [det.update(START + (i // 2) * 60, v) for i, v in enumerate(values)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert det.out_of_order == 0


def test_huge_magnitudes_give_defined_scores_and_recovery() -> None:
    det = create_detector()
    feed(det, gaussian(300))
    for i, v in enumerate((1e308, -1e308, 1e200, 2e300)):
        s = det.update(START + (300 + i) * 60, v)
        assert 0.0 <= s <= 1.0 and s > 0.5
    tail = feed(det, gaussian(600, seed=3), start=START + 400 * 60)
    assert all(math.isfinite(s) for s in tail)
    assert max(tail[100:]) < 0.5
    assert det.update(START + 1100 * 60, 400.0) > 0.5  # still detects after recovering


def test_a_series_of_huge_values_is_handled_like_any_other() -> None:
    det = create_detector()
    values = [v * 1e290 for v in gaussian(600)]
    values[500] = 200.0 * 1e290
    scores = feed(det, values)
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    assert [ep.kind for ep in closed(det)] == ["spike"]


def test_gaps_and_irregular_sampling() -> None:
    det = create_detector()
    t = START
    scores = []
    for i, v in enumerate(gaussian(2000)):
        t += 60.0 * (1.5 if i % 3 else 0.5) + (6 * 3600.0 if i in (700, 1400) else 0.0)
        scores.append(det.update(t, v))
    assert closed(det) == []
    assert det.update(t + 60, 190.0) > 0.5


def test_constant_for_days_then_noise_recovers() -> None:
    det = create_detector()
    feed(det, [7.25] * 20_000)
    noisy = feed(det, gaussian(3000, mean=7.25, sd=1.0), start=START + 20_000 * 60)
    episodes = closed(det)
    assert 1 <= len(episodes) <= 3  # the change is reported, not every point
    assert max(noisy[1500:]) < 0.5
