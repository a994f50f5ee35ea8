"""The compiled detector (mypyc, built by setup.py) is what installs run, and it scores exactly
as its pure-Python source does."""

from __future__ import annotations

import math
import os
from types import ModuleType
from typing import Any

import pytest

import ricecoder_otel.anomaly as anomaly
from benchmarks.anomaly.generators import ANOMALY_KINDS, HELDOUT_FAMILIES, TRAIN_FAMILIES, make_series
from benchmarks.anomaly.implementations import pure_python
from ricecoder_otel.anomaly import DetectorOptions
from ricecoder_otel.anomaly import detector as installed

REBUILD = "rebuild it with `pip install -e .` (setup.py compiles detector.py with mypyc)"


def test_the_installed_detector_is_the_build_the_environment_asks_for() -> None:
    if os.environ.get("RICECODER_OTEL_PURE_PYTHON", "") not in ("", "0"):
        assert not anomaly.COMPILED, "RICECODER_OTEL_PURE_PYTHON is set but the compiled detector is installed"
        return
    assert anomaly.COMPILED, f"the anomaly detector runs as pure Python from {installed.__file__}: {REBUILD}"
    assert installed.__file__.endswith(".so")
    assert not pure_python().__file__.endswith(".so")


def _scores(
    module: ModuleType, timestamps: list[float], values: list[Any], **options: Any
) -> tuple[list[float], list[Any]]:
    det = module.Detector(DetectorOptions(**options))
    scores = [det.update(t, v) for t, v in zip(timestamps, values, strict=True)]
    return scores, [*det.episodes, *det.drain_episodes()]


def _assert_alike(timestamps: list[float], values: list[Any], **options: Any) -> None:
    compiled_scores, compiled_episodes = _scores(installed, timestamps, values, **options)
    pure_scores, pure_episodes = _scores(pure_python(), timestamps, values, **options)
    first = next((i for i, (a, b) in enumerate(zip(compiled_scores, pure_scores, strict=True)) if a != b), None)
    assert first is None, (
        f"point {first}: the installed build scored {compiled_scores[first]!r}, "
        f"detector.py {pure_scores[first]!r}: {REBUILD}"
    )
    assert compiled_episodes == pure_episodes


@pytest.mark.parametrize("family", TRAIN_FAMILIES + HELDOUT_FAMILIES)
def test_both_builds_score_every_generated_family_bit_for_bit(family: str) -> None:
    for kind in ANOMALY_KINDS:
        series = make_series(family, kind, seed=11, days=4.0)
        _assert_alike(series.timestamps, series.values)


def test_both_builds_agree_on_options_counts_logs_and_bad_input() -> None:
    start = 1_767_225_600.0
    ts = [start + 60.0 * i for i in range(3000)]
    counts = [float((i * 7919) % 5) if i % 400 else 40.0 for i in range(3000)]
    latency = [math.exp(3.0 + ((i * 2654435761) % 1000) / 2000.0) if i % 700 else 0.0 for i in range(3000)]
    stuck = [100.0 + (i % 13) if not 1500 <= i < 1600 else 7.0 for i in range(3000)]
    bad: list[Any] = [v if i % 97 else (None, "x", math.nan, math.inf)[i % 4] for i, v in enumerate(stuck)]
    _assert_alike(ts, counts)
    _assert_alike(ts, latency)
    _assert_alike(ts, stuck)
    _assert_alike(ts, bad)
    _assert_alike(ts, latency, transform="log", seasonal=False, threshold=3.0)
    _assert_alike([*ts[:1000], *ts[500:1500]], stuck[:2000])  # out-of-order points are scored, not learned
