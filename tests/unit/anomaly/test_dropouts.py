"""Exact-zero drop-outs on a log-scale series are judged by how often the series dropped out lately."""

from __future__ import annotations

import random

from ricecoder_otel.anomaly import create_detector

from .conftest import feed

ALARM = 0.9


def _latency(n: int, seed: int = 5) -> list[float]:
    rng = random.Random(seed)
    return [100.0 * rng.lognormvariate(0.0, 0.3) for _ in range(n)]


def test_a_lone_zero_alarms_once_then_recurring_lone_zeros_do_not_but_an_outage_does() -> None:
    values = _latency(6000)
    for i in (1000, 1100, 1300, 1301, 1302, 5800):
        values[i] = 0.0
    det = create_detector()
    scores = feed(det, values)
    assert scores[1000] >= ALARM  # the first drop-out is news
    assert scores[1100] < det.options.open_score  # a lone zero 100 points after another one is not
    assert scores[1300] < det.options.open_score
    assert scores[1301] >= ALARM  # a second zero in a row is an outage
    assert scores[5800] >= ALARM  # thousands of points later a drop-out is news again
    assert [i for i, s in enumerate(scores) if s >= ALARM] == [1000, 1301, 5800]


def test_zeros_on_a_raw_scale_series_are_ordinary_values() -> None:
    rng = random.Random(9)
    values = [rng.gauss(0.0, 1.0) for _ in range(3000)]
    values[1000] = values[1100] = 0.0
    scores = feed(create_detector(), values)
    assert scores[1000] < 0.5 and scores[1100] < 0.5
