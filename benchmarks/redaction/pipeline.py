"""The whole pipeline with redaction on against the bare SDK, per span, in one run.

Three sides, rounds alternating, medians (the span loop and the sides of
``benchmarks.overhead.span_cost``: server spans shaped like an instrumented HTTP request,
exported to a discarding exporter): the bare SDK, the kernel's seam with RED metrics and
self-telemetry, and the same seam with the redaction capability added (its transforms run on
the export thread, so ``process_cpu`` includes them; ``wall`` is the application thread).
Target: the pipeline with redaction on at or under 1.3x the bare SDK.

Run: ``PYTHONPATH=src:. python -m benchmarks.redaction.pipeline --out benchmarks/results``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.overhead.span_cost import SEAM_AND_RED, Side, _request_loop, bare_sdk, ricecoder

COMMAND = "PYTHONPATH=src:. python -m benchmarks.redaction.pipeline --out benchmarks/results"
TARGET = 1.3
KINDS = ("wall", "app_cpu", "process_cpu")


def measure(spans: int, rounds: int) -> dict[str, Any]:
    sides: dict[str, Side] = {
        "bare_sdk": bare_sdk(),
        "seam_red": ricecoder(SEAM_AND_RED),
        "seam_red_redaction": ricecoder((*SEAM_AND_RED, "redaction")),
    }
    for tracer, flush, _ in sides.values():
        _request_loop(tracer, 2_000, flush)  # warm-up
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for index in range(rounds):
        for name in list(sides) if index % 2 == 0 else list(reversed(sides)):
            tracer, flush, _ = sides[name]
            samples[name].append(_request_loop(tracer, spans, flush))
        print(f"round {index + 1}/{rounds}", file=sys.stderr)
    for _, _, shutdown in sides.values():
        shutdown()
    medians = {name: {k: statistics.median(s[k] for s in runs) for k in KINDS} for name, runs in samples.items()}
    ratios = {
        name: {k: round(medians[name][k] / medians["bare_sdk"][k], 3) for k in KINDS}
        for name in sides
        if name != "bare_sdk"
    }
    return {
        "spans_per_round": spans,
        "rounds": rounds,
        "median_ns_per_span": {name: {k: round(v) for k, v in m.items()} for name, m in medians.items()},
        "ratios_to_bare_sdk": ratios,
        "target_ratio": TARGET,
        "redaction_meets_target_wall": ratios["seam_red_redaction"]["wall"] <= TARGET,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _markdown(command: str, runs: list[dict[str, Any]]) -> str:
    first = runs[0]
    lines = [
        "# The pipeline with redaction on against the bare SDK", "", f"Command: `{command}`", "",
        f"{first['spans_per_round']} server spans per round, {first['rounds']} rounds alternating, medians; a "
        "discarding exporter on every side. `wall` and `app CPU` are the application thread; `process CPU` adds the "
        "export thread, where redaction runs. Target: at most 1.3x the bare SDK. "
        f"{len(runs)} run(s) one after the other; load average (1 min) at each run's start and end.", "",
    ]  # fmt: skip
    for index, result in enumerate(runs, 1):
        medians, ratios = result["median_ns_per_span"], result["ratios_to_bare_sdk"]
        lines += [
            f"Run {index} (load {result['load_average_1m_start']} -> {result['load_average_1m']}):", "",
            "| side | wall ns/span | app CPU ns/span | process CPU ns/span | wall ratio | app CPU ratio "
            "| process CPU ratio |",
            "|---|---|---|---|---|---|---|",
        ]  # fmt: skip
        for name, m in medians.items():
            r = ratios.get(name, {k: 1.0 for k in KINDS})
            lines.append(
                f"| {name} | {m['wall']} | {m['app_cpu']} | {m['process_cpu']} "
                f"| {r['wall']} | {r['app_cpu']} | {r['process_cpu']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--spans", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="whole measurements, one after the other")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    command = f"{COMMAND} --repeat {args.repeat}" if args.repeat != 1 else COMMAND
    runs = []
    for _ in range(args.repeat):
        load = round(os.getloadavg()[0], 2)
        result = {"load_average_1m_start": load, **measure(args.spans, args.rounds)}
        print(json.dumps(result["ratios_to_bare_sdk"]), file=sys.stderr)
        runs.append(result)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        document = {"command": command, "runs": runs}
        (args.out / "redaction-pipeline.json").write_text(json.dumps(document, indent=2) + "\n")
        (args.out / "redaction-pipeline.md").write_text(_markdown(command, runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
