"""CPU the alerting loop spends per evaluation in an instrumented process: full vs targeted collection.

The process is the real pipeline (``RicecoderCapture``: every default capability) with the
system-metrics instrumentation ``opentelemetry-instrument`` installs (psutil callbacks), one
application gauge and one rule on it (``bench.level > 0.5``, the latency benchmark's rule).
In the same run, alternating in rounds, the loop's evaluation (:meth:`evaluate_now`) is timed
with the reader collecting every instrument (what the SDK's ``collect()`` does: the baseline)
and with the reader collecting only the streams the rules read. CPU time of the evaluating
thread (``time.thread_time``), so other processes on the machine do not count. Usage:

    .venv/bin/python -m benchmarks.alerting.loop_cost [--rounds 5] [--evaluations 20]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from typing import Any

from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.testing import RicecoderCapture

CONFIG = {"alerting": {"evaluation_interval": "1h",  # the benchmark drives the evaluations itself
                       "rules": [{"name": "bench-level", "metric": "bench.level", "threshold": 0.5}]}}  # fmt: skip


def timed(alerting: AlertingCapability, full: bool, evaluations: int) -> float:
    """Mean CPU seconds of one evaluation."""
    assert alerting.reader is not None
    alerting.reader._full = full
    started = time.thread_time()
    for _ in range(evaluations):
        alerting.evaluate_now()
    return (time.thread_time() - started) / evaluations


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/alerting-loop-cost.json")
    args = parser.parse_args()
    capture = RicecoderCapture(MonitoringConfig.model_validate(CONFIG))
    instrumentor = SystemMetricsInstrumentor()
    try:
        provider = capture.pipeline.meter_provider
        instrumentor.instrument(meter_provider=provider)
        provider.get_meter("bench").create_gauge("bench.level").set(1.0, {"trial": "t0"})
        alerting = capture.pipeline.capability("alerting")
        assert isinstance(alerting, AlertingCapability)
        full: list[float] = []
        targeted: list[float] = []
        for n in range(args.rounds):
            print(f"[bench] round {n + 1}/{args.rounds}", file=sys.stderr, flush=True)
            full.append(timed(alerting, True, args.evaluations))
            targeted.append(timed(alerting, False, args.evaluations))
    finally:
        instrumentor.uninstrument()
        capture.close()
    results: dict[str, Any] = {
        "full_collection_cpu_ms_per_evaluation": [round(v * 1000, 3) for v in full],
        "targeted_collection_cpu_ms_per_evaluation": [round(v * 1000, 3) for v in targeted],
        "full_median_ms": round(statistics.median(full) * 1000, 3),
        "targeted_median_ms": round(statistics.median(targeted) * 1000, 3),
        "cpu_share_at_1s_full": round(statistics.median(full), 5),
        "cpu_share_at_1s_targeted": round(statistics.median(targeted), 5),
        "ratio_full_to_targeted": round(statistics.median(full) / statistics.median(targeted), 1),
    }
    report = {"command": " ".join([".venv/bin/python -m benchmarks.alerting.loop_cost", *sys.argv[1:]]),
              "python": platform.python_version(), "machine": platform.machine(), "rounds": args.rounds,
              "evaluations_per_round": args.evaluations, "results": results}  # fmt: skip
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
