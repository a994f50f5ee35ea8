"""Throughput of ``Detector.update`` and state bytes per series.

Usage: PYTHONPATH=src:. python -m benchmarks.anomaly.throughput [--points 200000] [--out benchmarks/results]

Speed is reported as points per second on one core (best of ``--repeat`` interleaved rounds) for
the installed detector (the C extension mypyc builds from ``detector.py`` at install time, see
setup.py) and for the pure-Python source it is compiled from, next to two baselines measured in
the same rounds: a bare loop calling a no-op method and the EWMA baseline detector, so the ratios
stay meaningful on a loaded machine. State size is measured two ways for each build: tracemalloc
over many live detectors (everything they allocate, shared options excluded) and a deep
``sys.getsizeof`` walk of one detector.
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
from types import ModuleType
from typing import Any

from benchmarks.anomaly.baselines import Ewma
from benchmarks.anomaly.implementations import builds
from ricecoder_otel.anomaly import DetectorOptions

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


def _run_once(make: Callable[[], Any], ts: list[Any], vs: list[float]) -> float:
    det = make()
    update = det.update
    gc.disable()
    start = time.perf_counter()
    for t, v in zip(ts, vs, strict=True):
        update(t, v)
    elapsed = time.perf_counter() - start
    gc.enable()
    return elapsed


def rates(makers: dict[str, Callable[[], Any]], ts: list[Any], vs: list[float], repeat: int) -> dict[str, float]:
    """Points per second of each maker's ``update``: best of ``repeat`` rounds, one run of every
    maker per round, so a slow spell of the host slows them all alike."""
    best = dict.fromkeys(makers, math.inf)
    for _ in range(repeat):
        for name, make in makers.items():
            best[name] = min(best[name], _run_once(make, ts, vs))
    return {name: len(ts) / elapsed for name, elapsed in best.items()}


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
        stack.extend(_attributes(o))
    return total


def _attributes(o: object) -> list[object]:
    """The objects an instance's attributes refer to. A compiled (mypyc) class lists its attributes
    in ``__mypyc_attrs__`` and stores those declared float or int unboxed in the instance itself
    (counted in its getsizeof): reading one makes a new object each time, which is not state."""
    kind = type(o)
    slots: tuple[str, ...] = getattr(kind, "__slots__", ())
    if slots:
        return [getattr(o, name) for name in slots if hasattr(o, name)]
    out = []
    for name in getattr(kind, "__mypyc_attrs__", ()):
        if not hasattr(o, name):
            continue
        value = getattr(o, name)
        if isinstance(value, int) or (isinstance(value, float) and value is not getattr(o, name)):
            continue
        out.append(value)
    return out


def state_bytes(module: ModuleType, n_series: int, points: int) -> dict[str, float]:
    ts, vs = series(points, seed=3)
    options = DetectorOptions()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    detectors = [module.Detector(options) for _ in range(n_series)]
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
    modules = builds()
    installed = next(iter(modules))
    makers: dict[str, Callable[[], Any]] = {"noop_call_loop": _Noop, "ewma_baseline": Ewma}
    for kind, module in modules.items():
        makers[kind] = module.create_detector
    speed = rates(makers, ts, vs, args.repeat)
    with_datetime = rates({installed: modules[installed].create_detector}, dts, vs[: len(dts)], args.repeat)
    result = {
        "command": "PYTHONPATH=src:. python -m benchmarks.anomaly.throughput " + " ".join(argv or sys.argv[1:]),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "installed_build": installed,
        "points": args.points,
        "points_per_second": {
            "default_detector_epoch_float": round(speed[installed]),
            "default_detector_datetime": round(with_datetime[installed]),
            "pure_python_detector": round(speed["pure-python"]),
            "ewma_baseline": round(speed["ewma_baseline"]),
            "noop_call_loop": round(speed["noop_call_loop"]),
        },
        "ratios": {
            "default_vs_ewma_time": round(speed["ewma_baseline"] / speed[installed], 2),
            "default_vs_noop_time": round(speed["noop_call_loop"] / speed[installed], 2),
            "pure_python_vs_default_time": round(speed[installed] / speed["pure-python"], 2),
        },
        "microseconds_per_point": round(1e6 / speed[installed], 3),
        "targets": {"points_per_second": 200_000, "state_bytes_per_series": 4096},
        "state": {kind: state_bytes(module, 50, 5000) for kind, module in modules.items()},
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "anomaly-throughput.json").write_text(json.dumps(result, indent=2) + "\n")
        markdown = args.out / "anomaly-throughput.md"
        history = markdown.read_text() if markdown.exists() else ""
        kept = history[history.index("\n## ") :] if "\n## " in history else ""
        markdown.write_text("\n".join(_table(result)) + kept)
    return 0


def _table(result: dict[str, Any]) -> list[str]:
    pps = result["points_per_second"]
    ratios = result["ratios"]
    lines = [
        "# Anomaly detector throughput and state size", "",
        f"Command: `{result['command']}` (Python {result['python']}, {result['machine']}, one core,"
        " best of interleaved rounds; the machine is shared, so read the ratios first)", "",
        f"Installed build: {result['installed_build']}.", "",
        "| measurement | value |", "|---|---|",
        f"| default detector, epoch-float timestamps | {pps['default_detector_epoch_float']:,} points/s "
        f"({result['microseconds_per_point']} us/point) |",
        f"| default detector, datetime timestamps | {pps['default_detector_datetime']:,} points/s |",
        f"| pure-Python detector (same source, not compiled; same rounds) | {pps['pure_python_detector']:,} points/s |",
        f"| EWMA baseline (same rounds) | {pps['ewma_baseline']:,} points/s |",
        f"| no-op method call loop (same rounds) | {pps['noop_call_loop']:,} points/s |",
        f"| time ratio default / EWMA | {ratios['default_vs_ewma_time']} |",
        f"| time ratio default / no-op | {ratios['default_vs_noop_time']} |",
        f"| time ratio pure Python / default | {ratios['pure_python_vs_default_time']} |",
    ]
    for kind, size in result["state"].items():
        lines += [
            f"| state per series, {kind}, tracemalloc ({size['series']} series x {size['points_per_series']} points,"
            f" {size['episodes_kept_per_series']} episodes kept) | {size['tracemalloc_bytes_per_series']} bytes |",
            f"| state of one series, {kind}, deep getsizeof | {size['deep_sizeof_bytes_one_series']} bytes |",
        ]
    return [*lines, "", "Targets: >= 200,000 points/s per core, <= 4096 bytes per series.", ""]


if __name__ == "__main__":
    sys.exit(main())
