"""Hourly series (hourly aggregates, ad-exchange prices, sensors polled once an hour) learn a
daily profile too: without one, every day's peak and trough were judged against one level."""

from __future__ import annotations

import math
import random

from ricecoder_otel.anomaly import create_detector

from .conftest import START, feed

ALARM = 0.9
HOUR = 3600.0


def daily(days: int, seed: int = 4) -> list[float]:
    rng = random.Random(seed)
    return [100.0 + 40.0 * math.sin(2 * math.pi * (i % 24) / 24) + rng.gauss(0.0, 2.0) for i in range(24 * days)]


def test_an_hourly_series_expects_its_daily_shape() -> None:
    values = daily(21)
    det = create_detector()
    feed(det, values, step=HOUR)
    end = START + HOUR * len(values)
    for k in range(24):
        expected = det.expected(end + HOUR * k)
        assert expected is not None
        truth = 100.0 + 40.0 * math.sin(2 * math.pi * k / 24)
        # (one level for the whole day was 20 to 40 off at the peak and the trough)
        assert abs(expected[0] - truth) < 8.0, (k, expected[0], truth)


def test_a_trough_level_at_the_peak_hour_alarms_and_the_shape_does_not() -> None:
    values = daily(21)
    peak = 20 * 24 + 6  # 06:00 on day 20, the daily peak (140)
    values[peak] = 100.0  # the daily mean: ordinary for the day, far below this hour's normal
    det = create_detector()
    scores = feed(det, values, step=HOUR)
    assert scores[peak] >= ALARM
    assert not [i for i, s in enumerate(scores) if s >= ALARM and 14 * 24 <= i < peak]
