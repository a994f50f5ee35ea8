"""Recurring time-of-day deviations: a bin that recurs itself is judged against its neighbours'
recurrence too, so a daily shape that spills from one half hour into the next is learnt sooner."""

from __future__ import annotations

import random

from ricecoder_otel.anomaly import create_detector

from .conftest import feed

ALARM = 0.9
STEP = 300.0
PER_DAY = 288


def square_wave(days: int, *, sd: float, seed: int = 1) -> list[float]:
    """Nine hours high every day, switching exactly on half-hour boundaries (09:00, 18:00)."""
    rng = random.Random(seed)
    return [(80.0 if 108 <= i % PER_DAY < 216 else 20.0) + rng.gauss(0.0, sd) for i in range(PER_DAY * days)]


def test_a_daily_shape_spanning_several_bins_stops_alarming_by_the_fourth_day() -> None:
    for sd in (0.0, 1.0):
        det = create_detector()
        scores = feed(det, square_wave(14, sd=sd), step=STEP)
        days = sorted({i // PER_DAY for i, s in enumerate(scores) if s >= ALARM})
        # learning days alarm at the transitions; from day 4 on the shape is known (the detector
        # without the neighbouring bins alarmed until day 5)
        assert days and days[0] == 0 and max(days) <= 3, (sd, days)


def test_a_step_the_series_never_showed_at_that_time_still_alarms() -> None:
    values = square_wave(10, sd=1.0)
    values[9 * PER_DAY + 120 : 9 * PER_DAY + 132] = [200.0] * 12  # inside the high half, far above it
    det = create_detector()
    scores = feed(det, values, step=STEP)
    assert max(scores[9 * PER_DAY + 120 : 9 * PER_DAY + 132]) >= ALARM
    # and a low-time step (night) too, next to bins that never recur
    values = square_wave(10, sd=1.0)
    values[9 * PER_DAY + 30 : 9 * PER_DAY + 42] = [60.0] * 12
    det = create_detector()
    scores = feed(det, values, step=STEP)
    assert max(scores[9 * PER_DAY + 30 : 9 * PER_DAY + 42]) >= ALARM
