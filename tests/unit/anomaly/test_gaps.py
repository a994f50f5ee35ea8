"""A gap in the data closes the open episode: what happened in between is unknown."""

from __future__ import annotations

from ricecoder_otel.anomaly import create_detector

from .conftest import START, gaussian

STEP = 60.0


def test_a_gap_closes_an_open_episode_at_its_last_point() -> None:
    det = create_detector()
    values = gaussian(400)
    for i, v in enumerate(values):
        det.update(START + i * STEP, v)
    spike_at = START + 400 * STEP
    assert det.update(spike_at, 400.0) > 0.5
    assert det.in_episode
    [opened] = det.drain_episodes()
    assert opened.is_open

    after_gap = spike_at + 6 * 3600.0  # far more than gap_factor (8) typical steps
    det.update(after_gap, 100.0)
    assert not det.in_episode
    [closed] = det.drain_episodes()
    assert closed.end == spike_at and closed.onset == spike_at
    assert closed.points == 1


def test_a_short_pause_keeps_the_episode_open() -> None:
    det = create_detector()
    for i, v in enumerate(gaussian(400)):
        det.update(START + i * STEP, v)
    spike_at = START + 400 * STEP
    det.update(spike_at, 400.0)
    det.drain_episodes()
    det.update(spike_at + 4 * STEP, 100.0)  # below gap_factor typical steps: not a gap
    assert det.in_episode
    assert det.drain_episodes() == []
