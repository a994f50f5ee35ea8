"""Redaction cost of a git revision against the working tree: the same spans, alternating processes.

Each round starts one worker process per source tree (the revision's ``src`` extracted with
``git archive``, and this checkout's ``src``); a worker times the span transform of its tree's
default policy and a pass-through on the same spans (``benchmarks.redaction.cost`` cases), in
thread CPU time, and prints ns per span. Rounds alternate which tree goes first; medians are
compared. Writes ``redaction-cost-before-after.{json,md}``.

Run: ``PYTHONPATH=src:. python -m benchmarks.redaction.compare --before 25b637b --out benchmarks/results``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

from benchmarks.redaction.cost import ATTRIBUTES_PER_SPAN, CASES, TARGET_US

ROOT = Path(__file__).resolve().parents[2]


def _worker(case: str, spans: int, seed: int) -> dict[str, float]:
    """Runs inside a worker process: ns per span with and without the transform."""
    from benchmarks.redaction.cost import _cpu_ns_per_span, _spans
    from ricecoder_otel.compliance.redaction.engine import Redactor, build_policy
    from ricecoder_otel.compliance.redaction.otel import SpanRedactor

    redactor = Redactor(build_policy())
    transform = SpanRedactor(lambda: redactor, lambda tally, signal: None)
    batch = _spans(spans, case, seed)
    transform(batch[0])  # compile and warm up outside the timed loop
    return {"with": _cpu_ns_per_span(transform, batch), "without": _cpu_ns_per_span(lambda span: span, batch)}


def _run(source: Path, case: str, spans: int, seed: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{source}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-m", "benchmarks.redaction.compare", "--worker", case, "--spans", str(spans),
               "--seed", str(seed)]  # fmt: skip
    output = subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(output))


def _extract(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def compare(revision: str, spans: int, rounds: int) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"before": _extract(revision, Path(scratch)), "after": ROOT / "src"}
        for case in CASES:
            samples: dict[str, list[float]] = {"before": [], "after": []}
            for index in range(rounds):
                order = ["before", "after"] if index % 2 == 0 else ["after", "before"]
                for name in order:
                    timing = _run(trees[name], case, spans, seed=index)
                    samples[name].append((timing["with"] - timing["without"]) / ATTRIBUTES_PER_SPAN / 1000)
                print(f"{case} round {index + 1}/{rounds}", file=sys.stderr)
            before, after = statistics.median(samples["before"]), statistics.median(samples["after"])
            results.append({"case": case, "us_per_attribute_before": round(before, 3),
                            "us_per_attribute_after": round(after, 3), "speedup": round(before / after, 2)})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before", help="git revision to compare the working tree against")
    parser.add_argument("--spans", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="whole comparisons, one after the other")
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.spans, args.seed)))
        return 0
    if not args.before:
        parser.error("--before is required")
    command = (f"PYTHONPATH=src:. python -m benchmarks.redaction.compare --before {args.before} --rounds {args.rounds} "
               f"--repeat {args.repeat} --out benchmarks/results")
    runs = []
    for run in range(args.repeat):
        load_before = round(os.getloadavg()[0], 2)
        results = compare(args.before, args.spans, args.rounds)
        runs.append({"run": run + 1, "load_average_1m_start": load_before,
                     "load_average_1m_end": round(os.getloadavg()[0], 2), "results": results})
        for r in results:
            print(f"run {run + 1} {r['case']}: {r['us_per_attribute_before']} -> {r['us_per_attribute_after']} "
                  f"us/attribute ({r['speedup']}x)", file=sys.stderr)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        document = {"command": command, "before": args.before, "clock": "time.thread_time_ns",
                    "spans_per_round": args.spans, "rounds": args.rounds, "runs": runs}
        (args.out / "redaction-cost-before-after.json").write_text(json.dumps(document, indent=2) + "\n")
        lines = ["# Redaction cost: before and after", "", f"Command: `{command}`", "",
                 f"The span transform of revision `{args.before}` against the working tree's, same spans, one worker "
                 "process per tree and round, alternating which goes first; each worker subtracts a pass-through on "
                 f"the same spans. Medians of {args.rounds} rounds of {args.spans} spans, thread CPU time, "
                 f"{ATTRIBUTES_PER_SPAN} attributes per span. Target: at most {TARGET_US:g} us per attribute. "
                 f"{args.repeat} run(s) one after the other; load average (1 min) at each run's start and end.", ""]
        for run in runs:
            lines += [f"Run {run['run']} (load {run['load_average_1m_start']} -> {run['load_average_1m_end']}):", "",
                      "| case | us/attribute before | us/attribute after | speed-up |", "|---|---|---|---|"]
            lines += [f"| {r['case']} | {r['us_per_attribute_before']} | {r['us_per_attribute_after']} "
                      f"| {r['speedup']}x |" for r in run["results"]]
            lines.append("")
        (args.out / "redaction-cost-before-after.md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
