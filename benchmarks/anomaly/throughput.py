"""Throughput of ``Detector.update`` and state bytes per series.

Usage: PYTHONPATH=src:. python -m benchmarks.anomaly.throughput [--points 200000] [--out benchmarks/results]

Speed is reported as points per second on one core (best of ``--repeat`` runs) next to two
baselines measured in the same run: a bare loop calling a no-op method and the EWMA baseline
detector, so the ratios stay meaningful on a loaded machine. State size is measured two ways:
tracemalloc over many live detectors (everything they allocate, shared options excluded) and a
deep ``sys.getsizeof`` walk of one detector.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.anomaly.baselines import Ewma
from ricecoder_otel.anomaly import Detector, DetectorOptions, create_detector

START = 1_767_225_600.0


def series(n: int, seed: int = 7) -> tuple[list[float], list[float]]:
    """A daily-seasonal noisy series with a few spikes and a level shift, one point a minute."""
    rng = random.Random(seed)
    ts = [START + 60.0 * i for i in range(n)]
    vs = []
    for i, t in enumerate(ts):
        v = 100 + 30 * math.sin(2 * math.pi * (t % 86400) / 86400) + rng.gauss(0, 4)
        if i % 5000 == 4000:
            v += 60
        if i > n // 2:
            v += 25
        vs.append(v)
    return ts, vs


class _Noop:
    def update(self, t: float, v: float) -> float:
        return 0.0


def rate(make: Callable[[], Any], ts: list[float], vs: list[float], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        det = make()
        update = det.update
        gc.disable()
        start = time.perf_counter()
        for t, v in zip(ts, vs, strict=True):
            update(t, v)
        elapsed = time.perf_counter() - start
        gc.enable()
        best = min(best, elapsed)
    return len(ts) / best


def deep_size(obj: object, shared: set[int]) -> int:
    """Bytes reachable from obj, not counting objects in `shared` or counted already."""
    seen = set(shared)
    stack = [obj]
    total = 0
    while stack:
        o = stack.pop()
        if id(o) in seen or o is None or isinstance(o, bool):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)) or type(o).__name__ == "deque":
            stack.extend(o)
        slots = getattr(type(o), "__slots__", ())
        for name in slots:
            if hasattr(o, name):
                stack.append(getattr(o, name))
    return total


def state_bytes(n_series: int, points: int) -> dict[str, float]:
    ts, vs = series(points, seed=3)
    options = DetectorOptions()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    detectors = [Detector(options) for _ in range(n_series)]
    for det in detectors:
        for t, v in zip(ts, vs, strict=True):
            det.update(t, v)
        det.drain_episodes()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    shared = {id(options), id(options.on_episode)}
    sample = detectors[0]
    return {
        "series": n_series,
        "points_per_series": points,
        "episodes_kept_per_series": len(sample.episodes),
        "tracemalloc_bytes_per_series": round((after - before) / n_series, 1),
        "deep_sizeof_bytes_one_series": deep_size(sample, shared),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    ts, vs = series(args.points)
    dts = [datetime.fromtimestamp(t, UTC) for t in ts[: args.points // 4]]
    noop = rate(_Noop, ts, vs, args.repeat)
    ewma = rate(Ewma, ts, vs, args.repeat)
    default = rate(create_detector, ts, vs, args.repeat)
    with_datetime = rate(create_detector, dts, vs[: len(dts)], args.repeat)  # type: ignore[arg-type]
    size = state_bytes(200, 5000)
    result = {
        "command": "PYTHONPATH=src:. python -m benchmarks.anomaly.throughput " + " ".join(argv or sys.argv[1:]),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "points": args.points,
        "points_per_second": {
            "default_detector_epoch_float": round(default),
            "default_detector_datetime": round(with_datetime),
            "ewma_baseline": round(ewma),
            "noop_call_loop": round(noop),
        },
        "ratios": {
            "default_vs_ewma_time": round(ewma / default, 2),
            "default_vs_noop_time": round(noop / default, 2),
        },
        "microseconds_per_point": round(1e6 / default, 3),
        "targets": {"points_per_second": 200_000, "state_bytes_per_series": 4096},
        "state": size,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "anomaly-throughput.json").write_text(json.dumps(result, indent=2) + "\n")
        pps = result["points_per_second"]
        lines = [
            "# Anomaly detector throughput and state size", "",
            f"Command: `{result['command']}` (Python {result['python']}, {result['machine']}, one core,"
            " best of repeated runs; the machine is shared, so read the ratios first)", "",
            "| measurement | value |", "|---|---|",
            f"| default detector, epoch-float timestamps | {pps['default_detector_epoch_float']:,} points/s "
            f"({result['microseconds_per_point']} us/point) |",
            f"| default detector, datetime timestamps | {pps['default_detector_datetime']:,} points/s |",
            f"| EWMA baseline (same run) | {pps['ewma_baseline']:,} points/s |",
            f"| no-op method call loop (same run) | {pps['noop_call_loop']:,} points/s |",
            f"| time ratio default / EWMA | {result['ratios']['default_vs_ewma_time']} |",
            f"| time ratio default / no-op | {result['ratios']['default_vs_noop_time']} |",
            f"| state per series, tracemalloc ({size['series']} series x {size['points_per_series']} points,"
            f" {size['episodes_kept_per_series']} episodes kept) | {size['tracemalloc_bytes_per_series']} bytes |",
            f"| state of one series, deep getsizeof | {size['deep_sizeof_bytes_one_series']} bytes |",
            "", "Targets: >= 200,000 points/s per core, <= 4096 bytes per series.", "",
        ]
        (args.out / "anomaly-throughput.md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
