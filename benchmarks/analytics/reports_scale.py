"""Time (and memory) of every row-based report at 1,000,000 users x 100 features x 30 days.

The exact reports (stickiness, adoption, adoption curve, retention, funnel, engagement,
lifecycle, segments, and ``active`` with ``method=exact``) are pure functions of a
:class:`~ricecoder_otel.analytics.engine.Dataset` holding one activity row per day, user and
feature, read from the store. This builds that dataset for the population of ``scale.py``
(same generator and seed: each user active on a day with a power-law probability, three feature
picks per active user-day by Zipf popularity), with 32-hex-character pseudonyms, funnel steps
for a two-step funnel on the two most used features, an account per user (20,000 accounts) and a
``plan`` trait on one user in ten, then times each report kind once. The baseline, in the same
run, is one bare pass over the activity rows (summing their uses): a report's cost as a multiple
of reading its input once. Times are CPU seconds of this process (the shared box's load inflates
wall time several times; wall seconds are recorded too). ``--store PATH`` also times writing the
dataset into a SQLite store and reading it back (what ``ricecoder-otel analytics report`` does
before reporting).

Run: ``PYTHONPATH=src:. python -m benchmarks.analytics.reports_scale --out benchmarks/results``
(writes ``analytics-reports-scale-<users>.json``; ``--users``, ``--reports NAME,...``, ``--store PATH``)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import DAY_S, Activity, Dataset, Profile
from ricecoder_otel.analytics.privacy import PropertyValue
from ricecoder_otel.config.model import AnalyticsConfig

COMMAND = "PYTHONPATH=src:. python -m benchmarks.analytics.reports_scale"
DAY0 = 19_723  # Monday 2024-01-01
ACCOUNTS = 20_000


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def population(users: int, features: int, days: int) -> Dataset:
    rng = np.random.default_rng(7)
    activity = np.clip(rng.pareto(1.5, users) * 0.02, 0.005, 0.95)
    popularity = 1.0 / np.arange(1, features + 1) ** 1.1
    popularity /= popularity.sum()
    names = [f"feature-{f:03d}" for f in range(features)]
    steps = {names[0], names[1]}
    data = Dataset()
    seen: set[int] = set()
    for day in range(days):
        active = np.flatnonzero(rng.random(users) < activity)
        picks = rng.choice(features, size=(active.size, 3), p=popularity)
        seconds = rng.integers(0, DAY_S, size=(active.size, 3))
        base = (DAY0 + day) * DAY_S
        for uid, row, secs in zip(active.tolist(), picks.tolist(), seconds.tolist(), strict=True):
            user = f"{uid:032x}"
            seen.add(uid)
            for feature, sec in zip(row, secs, strict=True):
                name = names[feature]
                at = float(base + sec)
                key = (DAY0 + day, user, name)
                found = data.activity.get(key)
                if found is None:
                    data.activity[key] = Activity(1, at, at, 1)
                else:
                    found.add(at, False)
                if name in steps:
                    data.steps.add((user, name, at))
    for uid in seen:
        traits: dict[str, PropertyValue] = {"plan": "pro"} if uid % 10 == 0 else {}
        data.profiles[f"{uid:032x}"] = Profile(traits, f"account-{uid % ACCOUNTS}", float(DAY0 * DAY_S))
    data.releases["1.0"] = Activity(1, float(DAY0 * DAY_S), float((DAY0 + days) * DAY_S), 0)
    return data


def settings() -> AnalyticsConfig:
    return AnalyticsConfig.model_validate(
        {
            "funnels": {"main": {"steps": ["feature-000", "feature-001"], "window": "1d"}},
            "segments": {
                "pro": {"traits": {"plan": "pro"}},
                "heavy": {"feature": "feature-000", "min_count": 5},
                "engaged": {"score_min": 50},
            },
            "keep_days": 60,
        }
    )


def timed(make: object) -> tuple[float, float, int]:
    """CPU seconds (what the report costs; the shared box's load inflates wall time), wall seconds, rows."""
    assert callable(make)
    cpu, wall = time.process_time(), time.perf_counter()
    made = make()
    return time.process_time() - cpu, time.perf_counter() - wall, len(made.rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--reports", default="", help="comma-separated names of the reports to time (default: all)")
    args = parser.parse_args()
    rss_start = rss_mb()
    started = time.perf_counter()
    data = population(args.users, args.features, args.days)
    build_s = time.perf_counter() - started
    rss_data = rss_mb()
    print(f"dataset: {len(data.activity):,} rows in {build_s:.1f} s", file=sys.stderr)
    config = settings()
    since, until = DAY0, DAY0 + args.days - 1
    t0 = time.process_time()
    total_uses = sum(row.count for row in data.activity.values())
    baseline_s = time.process_time() - t0
    runs = {
        "active (exact)": lambda: reports.active_users(data, until),
        "stickiness": lambda: reports.stickiness(data, until),
        "adoption": lambda: reports.build("adoption", data, config, since, until),
        "adoption-curve (day)": lambda: reports.build("adoption-curve", data, config, since, until, interval="day"),
        "retention (week)": lambda: reports.build("retention", data, config, since, until),
        "retention (day)": lambda: reports.build("retention", data, config, since, until, interval="day"),
        "funnel": lambda: reports.build("funnel", data, config, since, until),
        "engagement (user)": lambda: reports.build("engagement", data, config, since, until),
        "engagement (account)": lambda: reports.build("engagement", data, config, since, until, by="account"),
        "engagement (product)": lambda: reports.build("engagement", data, config, since, until, by="product"),
        "lifecycle (week)": lambda: reports.build("lifecycle", data, config, since, until),
        "segments": lambda: reports.build("segments", data, config, since, until),
    }
    wanted = [name.strip() for name in args.reports.split(",") if name.strip()] or list(runs)
    timings: dict[str, dict[str, float | int]] = {}
    for name in wanted:
        make = runs[name]
        cpu, wall, rows = timed(make)
        timings[name] = {
            "cpu_seconds": round(cpu, 2),
            "wall_seconds": round(wall, 2),
            "rows": rows,
            "x_baseline_pass": round(cpu / baseline_s, 1),
        }
        print(f"{name}: {cpu:.2f} s CPU, {wall:.2f} s wall, {rows} rows", file=sys.stderr)
    result: dict[str, object] = {
        "command": " ".join([COMMAND, *(shlex.quote(arg) for arg in sys.argv[1:])]),
        "python": sys.version.split()[0],
        "users": args.users,
        "features": args.features,
        "days": args.days,
        "active_users": len(data.profiles),
        "activity_rows": len(data.activity),
        "funnel_step_events": len(data.steps),
        "uses": total_uses,
        "dataset_build_seconds": round(build_s, 1),
        "rss_mb_start": rss_start,
        "rss_mb_after_dataset": rss_data,
        "rss_mb_peak_after_reports": rss_mb(),
        "baseline_one_pass_cpu_seconds": round(baseline_s, 3),
        "load_average_1m_at_end": round(os.getloadavg()[0], 1),
        "reports": timings,
    }
    if args.store is not None:
        result["store"] = store_round_trip(data, args.store, until, config)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"analytics-reports-scale-{args.users}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def store_round_trip(data: Dataset, path: Path, until: int, config: AnalyticsConfig) -> dict[str, float]:
    from ricecoder_otel.analytics.store import AnalyticsStore
    from ricecoder_otel.store import open_store

    path.unlink(missing_ok=True)
    store = open_store(str(path))
    try:
        writer = AnalyticsStore(store, "bench")
        t0 = time.perf_counter()
        writer.write(data, float((until + 1) * DAY_S))
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        read = writer.read(until, lg_k=config.sketch_lg_k, step_margin_s=DAY_S)
        read_s = time.perf_counter() - t0
        assert len(read.activity) == len(data.activity)
    finally:
        store.close()
    return {"sqlite_write_seconds": round(write_s, 1), "sqlite_read_seconds": round(read_s, 1)}


if __name__ == "__main__":
    main()
