"""Likelihood of the recent point evidence: a run of moderate outliers, none of which is an alarm
on its own, alarms once the recent average point score stands far above its usual level."""

from __future__ import annotations

import random

from ricecoder_otel.anomaly import create_detector

from .conftest import feed

ALARM = 0.9
BURST_AT = 2500


def burst_series(seed: int, *, size: float = 3.5, length: int = 40) -> list[float]:
    """Gaussian noise (sd 1); from ``BURST_AT`` every second point is ``size`` sd off, either way."""
    rng = random.Random(seed)
    values = []
    for i in range(3000):
        v = 100.0 + rng.gauss(0.0, 1.0)
        if BURST_AT <= i < BURST_AT + length and (i - BURST_AT) % 2 == 0:
            v += size * rng.choice((1.0, -1.0))
        values.append(v)
    return values


def test_a_run_of_moderate_outliers_alarms_where_no_single_one_would() -> None:
    found = false_alarms = 0
    for seed in range(10):
        det = create_detector()
        scores = feed(det, burst_series(seed))
        alarms = [i for i, s in enumerate(scores) if s >= ALARM]
        found += any(BURST_AT <= i < BURST_AT + 60 for i in alarms)
        false_alarms += sum(1 for i in alarms if i < BURST_AT)
    assert false_alarms == 0
    assert found >= 6, found  # 7 of 10; judged point by point only 2 of the 10 bursts alarmed


def test_plain_noise_raises_no_more_alarms_than_its_points_do() -> None:
    """The recent average of noise stays near its own level: 20,000 Gaussian points alarm no
    more often than their single points already did (2 to 5 per 20,000 with records)."""
    for seed in range(2):
        rng = random.Random(seed)
        values = [100.0 + rng.gauss(0.0, 5.0) for _ in range(20_000)]
        det = create_detector()
        alarms = [i for i, s in enumerate(feed(det, values)) if s >= ALARM]
        assert len(alarms) <= 5, alarms
        assert det.evidence < 0.5
