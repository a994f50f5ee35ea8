"""How strong an episode's opening alarm is: the point's evidence mapped into the alarm band,
counted lower for aggregate evidence (spread, the recent evidence's likelihood) and on a series
younger than five days; a stuck run opens at full strength. Every opening still reaches the alarm
level."""

from __future__ import annotations

import random

import pytest

from ricecoder_otel.anomaly import create_detector
from ricecoder_otel.anomaly.episode import VARIANCE_CHANGE

from .conftest import START

ALARM = 0.9
DAY = 86400.0


def band(strength: float) -> float:
    """The alarm-band score of an opening of this strength (open_score 0.5 -> 0.9, 1 -> 1)."""
    return ALARM + 0.1 * (max(strength, 0.5) - 0.5) / 0.5


def openings(values: list[float], step: float) -> list[tuple[int, float, float, str]]:
    """(index, score, evidence, kind) of every point where an episode opened."""
    det = create_detector()
    out = []
    for i, v in enumerate(values):
        score = det.update(START + i * step, v)
        for ep in det.drain_episodes():
            if ep.is_open:
                out.append((i, score, det.evidence, ep.kind))
    return out


def test_aggregate_evidence_opens_with_a_weaker_alarm_than_a_spike_of_the_same_evidence() -> None:
    """A burst of moderate outliers (none an alarm alone) opens a variance-change episode on its
    recent evidence's likelihood: it alarms, but as if its evidence were 0.1 lower; a spike on the
    same series keeps its evidence's full strength."""
    rng = random.Random(0)
    step = 300.0  # the burst comes 8 days in: no youth discount
    values = [100.0 + rng.gauss(0.0, 1.0) for _ in range(3500)]
    values[100] += 20.0  # a wide range early on, so the burst holds no record
    values[200] -= 20.0
    for i in range(2500, 2560):
        values[i] += 3.0 if i % 2 else -3.0  # alternating: no level shift, no single alarm
    values[3200] += 9.0
    found = openings(values, step)
    aggregate = [o for o in found if 2500 <= o[0] < 2560 and o[3] == VARIANCE_CHANGE]
    spike = [o for o in found if o[0] == 3200]
    assert aggregate and spike, found
    _, score, evidence, _ = aggregate[0]
    assert evidence > 0.55  # strong enough that the discount shows inside the band
    assert score == pytest.approx(band(evidence - 0.1))
    assert ALARM <= score < band(evidence)
    _, score, evidence, kind = spike[0]
    assert kind != VARIANCE_CHANGE
    assert score == pytest.approx(band(evidence))


def test_a_young_series_opens_with_weaker_alarms_that_reach_full_strength_after_five_days() -> None:
    """The same spike one day in scores lower in the alarm band than it would on a settled series
    (the daily profile and range are still forming); six days in it has the full strength."""
    rng = random.Random(5)
    step = 60.0
    values = [100.0 + rng.gauss(0.0, 1.0) for _ in range(int(7 * DAY / step))]
    early, late = int(DAY / step), int(6 * DAY / step)
    values[early] += 9.0
    values[late] += 9.0
    found = {o[0]: o for o in openings(values, step)}
    assert early in found and late in found
    _, score, evidence, _ = found[early]
    assert evidence > 0.7
    assert score == pytest.approx(band(evidence - 0.2 * (1.0 - 1.0 / 5.0)))
    assert ALARM <= score < band(evidence)
    _, score, evidence, _ = found[late]
    assert score == pytest.approx(band(evidence))


def test_a_stuck_sensor_opens_at_full_strength_though_its_evidence_only_just_crosses() -> None:
    """A run of identical readings is judged by its length against a rarity bound, so it opens
    exactly where the bound is crossed (evidence ~0.5). That says nothing about strength: on a
    settled series the run opens a full-strength alarm, not the bottom of the alarm band."""
    rng = random.Random(3)
    step = 300.0
    values = [100.0 + rng.gauss(0.0, 1.0) for _ in range(int(6 * DAY / step))]
    values += [values[-1]] * 120 + [100.0 + rng.gauss(0.0, 1.0) for _ in range(200)]
    found = openings(values, step)
    stuck = [o for o in found if o[3] == "stuck"]
    assert stuck, found
    _, score, evidence, _ = stuck[0]
    assert evidence < 0.55  # only just past the bound
    assert score == pytest.approx(1.0)
