"""Evaluation cost per rule per second with 1,000 series (RED-like histograms and gauges).

Each evaluation (one per second of simulated time) feeds 1,000 series of a 15-bucket histogram
and 1,000 gauge series, then evaluates the rules. The baseline, in the same run, is the same
evaluation with rules that read the same metrics but match no series (windows still filled), so
the difference is what evaluating a rule costs. Usage:

    .venv/bin/python benchmarks/alerting/eval_cost.py [--seconds 120] [--out benchmarks/results/alerting_eval_cost.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import Any

from ricecoder_otel.alerting.rules import RuleEngine
from ricecoder_otel.alerting.series import Hist, MetricSnapshot
from ricecoder_otel.config import AlertRule

SERIES = 1000
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

RULES: dict[str, dict[str, Any]] = {
    "p95_per_series": {"metric": "http.server.request.duration", "aggregation": "quantile", "quantile": 0.95,
                       "window": "5m", "threshold": 1.0},
    "p95_by_route": {"metric": "http.server.request.duration", "aggregation": "quantile", "quantile": 0.95,
                     "window": "5m", "threshold": 1.0, "group_by": ["http.route"]},
    "avg_gauge": {"metric": "queue.depth", "aggregation": "avg", "window": "1m", "threshold": 1e9},
    "last_gauge": {"metric": "queue.depth", "threshold": 1e9},
}  # fmt: skip


def snapshot(t: int) -> dict[str, MetricSnapshot]:
    hists = {}
    gauges = {}
    for i in range(SERIES):
        labels = (("http.route", f"/r{i % 50}"), ("http.response.status_code", str(200 + i // 50)))
        count = float(t * 10 + i)
        counts = tuple(count / 15 for _ in range(15))
        hists[labels] = Hist(count, count * 0.1, BOUNDS, counts)
        gauges[(("queue", f"q{i}"),)] = float((t + i) % 17)
    return {"http.server.request.duration": MetricSnapshot("histogram", hists),
            "queue.depth": MetricSnapshot("gauge", gauges)}  # fmt: skip


def run(rules: list[AlertRule], seconds: int, snaps: list[dict[str, MetricSnapshot]]) -> float:
    engine = RuleEngine(rules, step=1.0)
    started = time.perf_counter()
    for t in range(seconds):
        engine.tick(snaps[t % len(snaps)], now=float(t))
    return (time.perf_counter() - started) / seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--out", default="benchmarks/results/alerting_eval_cost.json")
    args = parser.parse_args()
    snaps = [snapshot(t) for t in range(args.seconds)]
    results: dict[str, Any] = {}
    for name, fields in RULES.items():
        rule = AlertRule.model_validate({"name": name, **fields})
        idle = AlertRule.model_validate({"name": name, **fields, "match": {"nothing": "matches"}})
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        baseline = run([idle], args.seconds, snaps)
        measured = run([rule], args.seconds, snaps)
        results[name] = {
            "series": SERIES,
            "tick_with_rule_ms": round(measured * 1000, 3),
            "tick_baseline_ms": round(baseline * 1000, 3),
            "rule_cost_ms_per_evaluation": round((measured - baseline) * 1000, 3),
            "rule_cost_cpu_share_at_1s": round(measured - baseline, 5),
            "ratio_to_baseline": round(measured / baseline, 3),
        }
    report = {"command": " ".join(["benchmarks/alerting/eval_cost.py", *sys.argv[1:]]),
              "python": platform.python_version(), "machine": platform.machine(),
              "evaluations": args.seconds, "results": results}  # fmt: skip
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
