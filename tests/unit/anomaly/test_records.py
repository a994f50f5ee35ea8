"""New record highs and lows: an incident larger than every earlier one stands out on a
heavy-tailed series whose outlier memory would otherwise call it routine."""

from __future__ import annotations

import random

import pytest

from ricecoder_otel.anomaly import create_detector

from .conftest import START

ALARM = 0.9
HOUR = 3600.0


def spiky(n: int, *, record_at: int | None = None, record: float = 3.4, seed: int = 3) -> list[float]:
    """Hourly values near 1 with a burst to about 3 every 23 hours (a heavy tail the detector
    learns, not a time-of-day pattern), and optionally one burst at ``record_at`` that goes
    beyond every earlier value."""
    rng = random.Random(seed)
    values = []
    for i in range(n):
        v = 1.0 + rng.gauss(0.0, 0.08)
        if i % 23 == 5:
            v = 3.0 + rng.gauss(0.0, 0.05)
        if i == record_at:
            v = record
        values.append(v)
    return values


def alarms(values: list[float], **options: float) -> list[int]:
    det = create_detector(**options)
    return [i for i, v in enumerate(values) if det.update(START + i * HOUR, v) >= ALARM]


def test_a_burst_beyond_the_whole_range_alarms_where_a_routine_burst_does_not() -> None:
    values = spiky(600, record_at=500)
    found = alarms(values)
    assert 500 in found
    assert not [i for i in found if i >= 300 and i % 23 == 5]  # the routine bursts stay quiet
    # without the record evidence the same burst is judged against the learned bursts only
    assert 500 not in alarms(values, record_margin=1e9)


def test_records_count_only_after_the_range_had_days_to_form() -> None:
    values = spiky(600, record_at=66)  # day 2.75: the range is not established yet
    assert 66 not in alarms(values)
    assert 66 in alarms(values, record_days=2.0, record_after=40)


def test_a_record_only_just_beyond_the_range_is_not_evidence() -> None:
    values = spiky(600)
    top = max(values[:500])
    values[500] = top + 0.005 * (top - min(values[:500]))  # 0.5 % beyond: below the 2 % margin
    assert 500 not in alarms(values)


def test_bad_record_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="record_margin"):
        create_detector(record_margin=0.0)
