"""Samples taken on round times (half-hourly scrapes, 5-minute points at :00 and :30) land in
the half-hour bin they start: a rounding error once put two of every three half-hourly samples
in the previous bin, so a third of the daily profile was never learnt."""

from __future__ import annotations

import math
import random

from ricecoder_otel.anomaly import create_detector

from .conftest import START, feed

ALARM = 0.9
HALF_HOUR = 1800.0
PER_DAY = 48


def shape(i: int) -> float:
    """A daily curve with a steep morning rise, the kind every half hour of which differs."""
    h = (i % PER_DAY) / 2.0
    day = 800.0 * math.sin(math.pi * (h - 6.0) / 12.0) ** 2 if 6.0 <= h < 18.0 else 0.0
    return 1000.0 + day + 300.0 * h / 24


def test_a_half_hourly_daily_shape_is_learnt_in_every_bin() -> None:
    rng = random.Random(3)
    days = 21
    values = [shape(i) + rng.gauss(0.0, 5.0) for i in range(PER_DAY * days)]
    det = create_detector()
    scores = feed(det, values, step=HALF_HOUR)
    late_alarms = [i for i, s in enumerate(scores) if s >= ALARM and i >= 10 * PER_DAY]
    assert not late_alarms, late_alarms
    # the next day's expected value is right at every half hour, the ones on exact boundaries too
    # (the detector that lost them was 28 % off at 01:00, a bin it never visited)
    end = START + HALF_HOUR * len(values)
    for k in range(PER_DAY):
        expected = det.expected(end + HALF_HOUR * k)
        assert expected is not None
        truth = shape(len(values) + k)
        assert abs(expected[0] - truth) < 0.1 * truth, (k, expected[0], truth)
