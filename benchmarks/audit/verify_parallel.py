"""Audit verification in one process against worker processes, on the same journal in the same run.

Rounds alternate (one process first in odd rounds, the workers first in even ones), so both see
the same load. Each run is measured in wall-clock time and in CPU time including the worker
processes' (``RUSAGE_CHILDREN``: the pool's workers are waited for when it shuts down), so the
records per wall-second and per CPU-second are reported separately. The same comparison runs
through the command line (``ricecoder-otel audit verify --json --jobs 1`` against the default),
start-up included. Baselines in the same run: SHA-256 of every line in one process, and the same
hashing split over one forked process per CPU against one process (the wall-clock speed-up this
machine gives CPU-bound work at that moment: the most the workers can get).

    PYTHONPATH=src:. python -m benchmarks.audit.verify_parallel --records 1000000 --out result.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.audit.throughput import KEY, fields
from ricecoder_otel.compliance.audit.engine import CheckpointPolicy
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.audit.verify import verify_journal


def build(directory: Path, records: int) -> None:
    journal = AuditJournal(directory, key=KEY, clock=time.time, policy=CheckpointPolicy(1000, 1e9), fsync=False)
    for start in range(0, records, 512):
        journal.append_many([fields(n % 16, n) for n in range(start, min(start + 512, records))])
    journal.close()


def cpu_seconds() -> float:
    """User + system CPU of this process and of every child it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(work: Callable[[], int]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``work``, which returns the records it verified."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    work()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def library(directory: Path, records: int, jobs: int | None) -> Callable[[], int]:
    def work() -> int:
        result = verify_journal(directory, KEY, jobs=jobs)
        assert result.ok and result.records == records and result.jobs == (jobs or os.cpu_count()), result
        return result.records

    return work


def command(directory: Path, records: int, jobs: int | None) -> Callable[[], int]:
    env = {**os.environ, "RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY": KEY.decode()}
    env.pop("RICECODER_CONFIG_FILE", None)
    argv = [sys.executable, "-m", "ricecoder_otel.cli", "audit", "verify", "--json", "--dir", str(directory)]

    def work() -> int:
        out = subprocess.run(argv + ([] if jobs is None else ["--jobs", str(jobs)]), env=env, check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        report = json.loads(out)
        assert report["ok"] and report["records"] == records, report
        return int(report["records"])

    return work


def compare(records: int, rounds: int, one: Callable[[], int], many: Callable[[], int]) -> dict[str, Any]:
    """``rounds`` alternating pairs; per variant the median and best wall and CPU rates."""
    times: dict[str, list[tuple[float, float]]] = {"one": [], "many": []}
    for index in range(rounds):
        order = (("one", one), ("many", many)) if index % 2 == 0 else (("many", many), ("one", one))
        for name, work in order:
            times[name].append(measured(work))
    out: dict[str, Any] = {}
    for name, runs in times.items():
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        out[name] = {
            "wall_seconds": walls,
            "cpu_seconds": cpus,
            "per_wall_second_median": records / statistics.median(walls),
            "per_wall_second_best": records / min(walls),
            "per_cpu_second_median": records / statistics.median(cpus),
            "per_cpu_second_best": records / min(cpus),
        }
    pairs = zip(out["one"]["wall_seconds"], out["many"]["wall_seconds"], strict=True)
    out["wall_speedup_median"] = statistics.median(one_wall / many_wall for one_wall, many_wall in pairs)
    return out


_LINES: list[bytes] = []
"""The journal's lines, for the control's forked processes (inherited, not sent)."""


def _hash_share(share: tuple[int, int]) -> int:
    index, count = share
    sha256 = hashlib.sha256
    for line in _LINES[index::count]:
        sha256(line).digest()
    return len(_LINES[index::count])


def control(directory: Path, rounds: int) -> dict[str, Any]:
    """Wall seconds of hashing every line in this process and split over one forked process per
    CPU, rounds alternating; the median ratio is the speed-up the machine offers right now."""
    _LINES[:] = (directory / JOURNAL).read_bytes().splitlines()
    cpus = os.cpu_count() or 1
    alone: list[float] = []
    split: list[float] = []
    with multiprocessing.get_context("fork").Pool(cpus) as pool:
        pool.map(_hash_share, [(0, len(_LINES))] * cpus)  # workers started before timing
        for index in range(rounds):
            for variant in ("alone", "split") if index % 2 == 0 else ("split", "alone"):
                started = time.perf_counter()
                if variant == "alone":
                    _hash_share((0, 1))
                    alone.append(time.perf_counter() - started)
                else:
                    pool.map(_hash_share, [(share, cpus) for share in range(cpus)])
                    split.append(time.perf_counter() - started)
    _LINES.clear()
    return {"alone_seconds": alone, "split_seconds": split,
            "wall_speedup_median": statistics.median(a / b for a, b in zip(alone, split, strict=True))}  # fmt: skip


def sha256_floor(directory: Path) -> float:
    lines = (directory / JOURNAL).read_bytes().splitlines()
    sha256, started = hashlib.sha256, time.process_time()
    for line in lines:
        sha256(line).digest()
    return len(lines) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the journal (default: a temp dir)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp) / "journal"
        build(directory, args.records)
        load_at_start = os.getloadavg()
        data: dict[str, Any] = {
            "command": f"PYTHONPATH=src:. python -m benchmarks.audit.verify_parallel --records {args.records} "
            f"--rounds {args.rounds}",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "records": args.records,
            "bytes": (directory / JOURNAL).stat().st_size,
            "load_average_at_start": load_at_start,
            "library": compare(
                args.records, args.rounds, library(directory, args.records, 1), library(directory, args.records, None)
            ),
            "command_line": compare(
                args.records, args.rounds, command(directory, args.records, 1), command(directory, args.records, None)
            ),
            "sha256_only_per_cpu_second": sha256_floor(directory),
            "control": control(directory, args.rounds),
            "load_average_at_end": os.getloadavg(),
        }
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print("\n".join(markdown(data)))


def markdown(data: dict[str, Any]) -> list[str]:
    """The run as table rows (median of the rounds, best in brackets)."""
    start, end = data["load_average_at_start"][0], data["load_average_at_end"][0]
    load = f"load average {start:.2f} at the start, {end:.2f} at the end"
    rows = [
        f"`{data['command']}`: {data['records']:,} records ({data['bytes']:,} bytes), {data['cpus']} CPUs, {load}",
        "",
        "| verification | records per wall-clock second | records per CPU-second (workers included) | wall speed-up |",
        "|---|---|---|---|",
    ]
    names = {"library": "`verify_journal`", "command_line": "`ricecoder-otel audit verify --json`"}
    for part, name in names.items():
        result = data[part]
        for variant, label in (("one", "one process (`jobs=1`)"), ("many", f"{data['cpus']} worker processes")):
            numbers = result[variant]
            speed_up = f"{result['wall_speedup_median']:.2f}x" if variant == "many" else ""
            wall = f"{numbers['per_wall_second_median']:,.0f} ({numbers['per_wall_second_best']:,.0f})"
            cpu = f"{numbers['per_cpu_second_median']:,.0f} ({numbers['per_cpu_second_best']:,.0f})"
            rows.append(f"| {name}, {label} | {wall} | {cpu} | {speed_up} |")
    rows.append(f"| baseline: SHA-256 of every line, one process | | {data['sha256_only_per_cpu_second']:,.0f} | |")
    rows.append(
        f"| control: the same hashing split over {data['cpus']} forked processes against one (what the machine "
        f"offers CPU-bound work now) | | | {data['control']['wall_speedup_median']:.2f}x |"
    )
    return rows


if __name__ == "__main__":
    main()
