"""Footprint of the shipped collector topology: binary size, start-up, resident memory idle and after traffic.

Starts the topology the integration tests use (agent -> gateway layer 1 -> two layer-2 samplers,
the shipped ``agent.yaml`` and ``gateway.yaml``) with the collector ``ricecoder-otel collector
build`` made, records how long each instance took to answer its health check, its resident memory
idle, and again after ``--traces`` traces of 5 spans and ``--audit`` audit records went through.
Writes ``benchmarks/results/collector-footprint.json``.

    python -m benchmarks.collector.footprint [--traces 2000] [--audit 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.overhead.record import record_result
from tests.harness.collector import collector_binary, start_topology

MIB = 1 << 20


def _resident(pids: dict[str, int]) -> dict[str, float]:
    return {name: round(psutil.Process(pid).memory_info().rss / MIB, 1) for name, pid in pids.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--audit", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    binary = collector_binary()
    workdir = Path(tempfile.mkdtemp(prefix="collector-footprint-"))
    started = time.perf_counter()
    topology = start_topology(workdir)
    start_up_s = time.perf_counter() - started
    try:
        pids = {handle.name: handle.pid for handle in topology.all}
        time.sleep(args.idle_seconds)
        idle = _resident(pids)
        sent = topology.send(f"--healthy-traces={args.traces}", f"--audit={args.audit}")
        time.sleep(args.idle_seconds)  # batches flushed, decisions made
        loaded = _resident(pids)
    finally:
        topology.stop()
    record_result(
        "collector-footprint",
        "benchmarks.collector.footprint",
        argv,
        {
            "binary_mib": round(binary.stat().st_size / MIB, 1),
            "instances": list(pids),
            "start_up_s_four_instances_one_after_another": round(start_up_s, 2),
            "resident_mib_idle": idle,
            "resident_mib_after_traffic": loaded,
            "traffic": {
                "traces": args.traces,
                "spans_per_trace": 5,
                "audit_records": args.audit,
                "traces_sent": sum(len(ids) for ids in sent["traces"].values()),
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
