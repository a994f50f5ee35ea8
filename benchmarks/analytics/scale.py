"""Memory and error of the active-user sketches at 1,000,000 users x 100 features x 30 days, and report time.

The engine keeps one HyperLogLog (HLL_4, ``lg_k`` 14 by default) per day and feature plus one
for all features; per-user rows go to the store every ``flush_interval`` and are not held.
This feeds those sketches directly (integers stand for pseudonyms: hashing is the sketch's own)
with a generated population: 1,000,000 users, each active on a day with probability drawn from a
power law (heavy users almost daily, most rarely), using features by Zipf popularity.
Exact counts come from numpy sets of the same ids. Measured: bytes the sketches hold (their
updatable size, and the process RSS growth), DAU/WAU/MAU and DAU/MAU error per feature and
overall against exact counts, and the time of the ``active`` report (unions of 30 sketches per
feature) over the sketches.

Run: ``PYTHONPATH=src:. python -m benchmarks.analytics.scale --out benchmarks/results``
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import ALL, Dataset
from ricecoder_otel.analytics.sketches import DistinctSketch, relative_error

COMMAND = "PYTHONPATH=src:. python -m benchmarks.analytics.scale --out benchmarks/results"


def rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--lg-k", type=int, default=14)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    activity = np.clip(rng.pareto(1.5, args.users) * 0.02, 0.005, 0.95)  # chance of being active on a day
    popularity = 1.0 / np.arange(1, args.features + 1) ** 1.1
    popularity /= popularity.sum()
    data = Dataset(lg_k=args.lg_k)
    exact: dict[tuple[int, str], np.ndarray] = {}
    rss_before = rss_kb()
    started = time.perf_counter()
    updates = 0
    for day in range(args.days):
        active = np.flatnonzero(rng.random(args.users) < activity)
        uses = rng.choice(args.features, size=(active.size, 3), p=popularity)  # three feature picks per user-day
        keys = {ALL: active}
        for f in range(args.features):
            keys[f"feature-{f:03d}"] = np.unique(active[(uses == f).any(axis=1)])
        for feature, ids in keys.items():
            sketch = DistinctSketch(args.lg_k)
            for uid in ids.tolist():
                sketch.add(str(uid))
            updates += ids.size
            data.sketches[(day, feature)] = sketch
            exact[(day, feature)] = ids
    feed_s = time.perf_counter() - started
    sketch_bytes = sum(s.size_bytes() for s in data.sketches.values())
    rss_growth_kb = rss_kb() - rss_before
    t0 = time.perf_counter()
    report = reports.active_users(data, args.days - 1, method="hll")
    report_s = time.perf_counter() - t0
    worst = {"dau": 0.0, "wau": 0.0, "mau": 0.0, "dau_over_mau": 0.0}
    overall: dict[str, float] = {}
    last = args.days - 1
    for row in report.rows:
        f = row["feature"]
        dau = exact[(last, f)].size
        wau = np.unique(np.concatenate([exact[(d, f)] for d in range(max(0, last - 6), last + 1)])).size
        mau = np.unique(np.concatenate([exact[(d, f)] for d in range(max(0, last - 29), last + 1)])).size
        if mau < 1000:
            continue  # tiny counts: the sketch is exact-ish there, relative error is noise
        errors = {
            "dau": abs(row["dau"] - dau) / dau,
            "wau": abs(row["wau"] - wau) / wau,
            "mau": abs(row["mau"] - mau) / mau,
            "dau_over_mau": abs(row["dau"] / row["mau"] - dau / mau) / (dau / mau),
        }
        for key, value in errors.items():
            worst[key] = max(worst[key], value)
        if f == ALL:
            overall = {
                "dau_exact": dau,
                "mau_exact": mau,
                "dau_estimate": row["dau"],
                "mau_estimate": row["mau"],
                **{f"{k}_error": round(v, 4) for k, v in errors.items()},
            }
    result = {
        "command": COMMAND,
        "python": sys.version.split()[0],
        "users": args.users,
        "features": args.features,
        "days": args.days,
        "lg_k": args.lg_k,
        "sketches": len(data.sketches),
        "sketch_updates": updates,
        "feed_seconds": round(feed_s, 1),
        "sketch_bytes": sketch_bytes,
        "sketch_mb": round(sketch_bytes / 2**20, 2),
        "rss_growth_mb_including_exact_reference_sets": round(rss_growth_kb / 1024, 1),
        "documented_error_2sd": round(relative_error(args.lg_k, 2), 4),
        "overall": overall,
        "worst_error_over_features_with_mau_over_1000": {k: round(v, 4) for k, v in worst.items()},
        "active_report_seconds": round(report_s, 2),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "analytics-scale.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
