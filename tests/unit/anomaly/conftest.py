"""Series builders shared by the anomaly unit tests."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import pytest

from ricecoder_otel.anomaly import Detector, Episode, create_detector

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def gaussian(n: int, *, mean: float = 100.0, sd: float = 5.0, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [mean + rng.gauss(0.0, sd) for _ in range(n)]


def feed(detector: Detector, values: Sequence[float | None], step: float = 60.0, start: float = START) -> list[float]:
    return [detector.update(start + i * step, v) for i, v in enumerate(values)]


def closed(detector: Detector) -> list[Episode]:
    return [ep for ep in detector.drain_episodes() if not ep.is_open]


def daily(n: int, *, step: float = 300.0, amplitude: float = 50.0, sd: float = 3.0, seed: int = 2) -> list[float]:
    rng = random.Random(seed)
    return [200.0 + amplitude * math.sin(2 * math.pi * (i * step % 86400) / 86400) + rng.gauss(0, sd)
            for i in range(n)]


@pytest.fixture
def detector() -> Detector:
    return create_detector()


@pytest.fixture
def make() -> Callable[..., Detector]:
    return create_detector
