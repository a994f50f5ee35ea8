"""Per-series state stays within the 4 KB budget, measured with tracemalloc."""

from __future__ import annotations

import gc
import math
import random
import tracemalloc

from ricecoder_otel.anomaly import Detector, DetectorOptions

from .conftest import START


def test_state_per_series_is_under_4_kb() -> None:
    rng = random.Random(5)
    n = 700
    ts = [START + 300.0 * i for i in range(n)]  # over two days at 5 minutes: seasonal arrays in use
    vs = [100 + 20 * math.sin(i / 288 * 2 * math.pi) + rng.gauss(0, 3) + (80 if i % 200 == 150 else 0)
          for i in range(n)]
    options = DetectorOptions()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    detectors = [Detector(options) for _ in range(10)]
    for det in detectors:
        for t, v in zip(ts, vs, strict=True):
            det.update(t, v)
    gc.collect()
    per_series = (tracemalloc.get_traced_memory()[0] - before) / len(detectors)
    tracemalloc.stop()
    assert detectors[0].episodes, "the measured state must include kept episodes"
    assert per_series <= 4096, f"{per_series:.0f} bytes per series"
