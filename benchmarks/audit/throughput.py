"""Audit trail throughput: durable appends per second (group commit) and verification speed.

Each number comes with a baseline measured in the same run on the same disk and CPU:
- appends: the disk's own rate of one ``write`` + ``fdatasync`` per record (what an append
  without group commit could reach at best);
- verification: one SHA-256 over every stored line, nothing else (the floor of any verifier).

With ``--before-src DIR`` (a ``src`` tree of an earlier commit, e.g. from ``git archive``), the
append rates of that code are measured too, in a subprocess, interleaved with the current
code's at each thread count, so both see the same disk and the same load.

    PYTHONPATH=src:. python -m benchmarks.audit.throughput --out benchmarks/results \
        [--before-src /tmp/before/src --before-rev REV]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ricecoder_otel.compliance.audit.api import AuditTrail, Entry
from ricecoder_otel.compliance.audit.engine import CheckpointPolicy, record_fields
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.audit.operations import AuditWriter
from ricecoder_otel.compliance.audit.verify import verify_journal

KEY = b"b" * 32


def fields(worker: int, n: int) -> dict[str, Any]:
    return record_fields(ts=time.time(), actor=f"user-{worker}", action="order.refund", resource=f"order/{n}",
                         outcome="success", details={"amount": n, "currency": "EUR"})  # fmt: skip


def raw_fsync_rate(directory: Path, seconds: float) -> float:
    fd = os.open(directory / "raw.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    line = b"x" * 300 + b"\n"
    count, end = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < end:
        os.write(fd, line)
        os.fdatasync(fd)
        count += 1
    os.close(fd)
    return count / (time.perf_counter() - started)


def append_rate(directory: Path, threads: int, seconds: float, signing: Any = None, batch: int = 1) -> dict[str, float]:
    """Appends per second by ``threads`` callers; ``signing``: an Ed25519 key also signing checkpoints and head;
    ``batch`` > 1: each call is ``append_many`` of that many records (the background writer's way)."""
    extra = {"signing_key": signing} if signing is not None else {}
    journal = AuditJournal(directory, key=KEY, clock=time.time, policy=CheckpointPolicy(1000, 60), **extra)
    counts = [0] * threads
    stop = threading.Event()

    def work(worker: int) -> None:
        n = 0
        while not stop.is_set():
            if batch == 1:
                journal.append(fields(worker, n))
            else:
                journal.append_many([fields(worker, n + i) for i in range(batch)])
            n += batch
        counts[worker] = n

    workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    cpu, started = time.process_time(), time.perf_counter()
    for thread in workers:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in workers:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    journal.close()
    total = sum(counts)
    return {"threads": threads, "batch": batch, "records": total, "seconds": elapsed, "per_second": total / elapsed,
            "cpu_us_per_record": cpu / total * 1e6}  # fmt: skip


def async_rate(directory: Path, coroutines: int, seconds: float) -> dict[str, float]:
    """Appends per second by ``coroutines`` on one event loop, each awaiting ``append_async`` (durable on
    return) before its next record: the per-call path of asyncio services."""
    journal = AuditJournal(directory, key=KEY, clock=time.time, policy=CheckpointPolicy(1000, 60))
    counts = [0] * coroutines

    async def run() -> None:
        stop = asyncio.Event()

        async def work(worker: int) -> None:
            n = 0
            while not stop.is_set():
                await journal.append_async(fields(worker, n))
                n += 1
            counts[worker] = n

        tasks = [asyncio.create_task(work(w)) for w in range(coroutines)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks)

    cpu, started = time.process_time(), time.perf_counter()
    asyncio.run(run())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    journal.close()
    total = sum(counts)
    return {"coroutines": coroutines, "records": total, "seconds": elapsed, "per_second": total / elapsed,
            "cpu_us_per_record": cpu / total * 1e6}  # fmt: skip


def writer_rate(
    directory: Path, producers: int, seconds: float, rate: float | None = None, capacity: int = 65_536
) -> dict[str, float]:
    """The automatic records' path: ``producers`` threads ``offer`` entries to an :class:`AuditWriter`
    (non-blocking, bounded queue, drops counted) as fast as they can; its thread appends them in group
    commits. Accepted per second is what callers saw; durably written per second is what the disk got,
    measured until the queue is drained. With ``rate``, the producers together offer that many per
    second (in bursts of 100) instead of as many as they can."""
    journal = AuditJournal(directory, key=KEY, clock=time.time, policy=CheckpointPolicy(1000, 60))
    trail = AuditTrail(lambda: journal, clock=time.time)
    writer = AuditWriter(lambda: trail, capacity)
    writer.start()
    offered = [0] * producers
    accepted = [0] * producers
    stop = threading.Event()

    def work(worker: int) -> None:
        entry = Entry("order.refund", f"order/{worker}", "success", f"user-{worker}", "", "", {"amount": 1})
        n = ok = 0
        began = time.perf_counter()
        while not stop.is_set():
            for _ in range(100):
                ok += writer.offer(entry)
            n += 100
            if rate is not None and (ahead := n / (rate / producers) - (time.perf_counter() - began)) > 0:
                time.sleep(ahead)
        offered[worker], accepted[worker] = n, ok

    workers = [threading.Thread(target=work, args=(w,)) for w in range(producers)]
    cpu, started = time.process_time(), time.perf_counter()
    for thread in workers:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in workers:
        thread.join()
    offering = time.perf_counter() - started
    assert writer.flush(timeout=600.0)
    drained, cpu = time.perf_counter() - started, time.process_time() - cpu
    writer.stop()
    written = journal.last_seq
    journal.close()
    assert written == sum(accepted)
    return {"producers": producers, "rate": rate or 0.0, "offered_per_second": sum(offered) / offering,
            "accepted_per_second": sum(accepted) / offering, "dropped": sum(offered) - sum(accepted),
            "written": written, "written_per_second": written / drained,
            "cpu_us_per_written_record": cpu / written * 1e6}  # fmt: skip


def verify_rate(directory: Path, records: int, repeats: int, before_src: Path | None = None) -> dict[str, Any]:
    """Best of ``repeats`` rounds; each round times verify, deep verify, the SHA-256 floor and, with
    ``before_src``, that code's verify and deep verify, so all of them see the same load."""
    journal = AuditJournal(directory, key=KEY, clock=time.time, policy=CheckpointPolicy(1000, 1e9), fsync=False)
    for n in range(records):
        journal.append(fields(n % 16, n))
    journal.close()
    result = verify_journal(directory, KEY)
    assert result.ok and result.records == records
    lines = (directory / JOURNAL).read_bytes().splitlines()
    sha256 = hashlib.sha256
    best = deep = floor = float("inf")
    before: dict[str, float] = {}
    serial_wall = float("inf")
    for _ in range(repeats):
        best = min(best, _timed(lambda: verify_journal(directory, KEY)))
        serial_wall = min(serial_wall, _wall(lambda: verify_journal(directory, KEY)))
        deep = min(deep, _timed(lambda: verify_journal(directory, KEY, deep=True)))
        floor = min(floor, _timed(lambda: [sha256(line).digest() for line in lines]))
        if before_src is not None:
            rates = before_verify_rate(before_src, directory, repeats=1)
            before = {k: max(v, before.get(k, 0.0)) for k, v in rates.items()}
    data: dict[str, Any] = {
        "records": records,
        "bytes": (directory / JOURNAL).stat().st_size,
        "verify_per_second": records / best,
        "verify_wall_per_second": records / serial_wall,
        "verify_deep_per_second": records / deep,
        "sha256_only_per_second": records / floor,
        "time_ratio_verify_over_sha256": best / floor,
    }
    if before:
        data["before"] = before
    return data


def _wall(work: Any) -> float:
    """Wall-clock seconds of ``work``."""
    started = time.perf_counter()
    assert work().ok
    return time.perf_counter() - started


def _timed(work: Any) -> float:
    """CPU seconds of ``work`` (the machine's load changes them less than wall time)."""
    started = time.process_time()
    work()
    return time.process_time() - started


THREADS = (1, 16, 64, 256)
COROUTINES = {16: (16,), 64: (64,), 256: (256, 1024)}
"""Awaiting coroutines, measured right after the threads row of the key, so the two per-call paths
alternate under the same load."""
BATCHED = ((1, 512), (4, 512))
"""(threads, records per ``append_many``): the automatic records' writer commits up to 512 at once."""
PRODUCERS = ((4, 20_000.0), (4, 25_000.0), (4, None))
"""(producer threads, records offered per second by them together; None: as many as they can)."""


def _rate_in(src: Path, function: str, directory: Path, workers: int, seconds: float) -> dict[str, float]:
    """``function`` (``append_rate`` or ``async_rate``) of the code in ``src``, run in a subprocess that
    imports it."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{Path.cwd()}"}
    code = (
        f"import json, sys; from pathlib import Path; from benchmarks.audit.throughput import {function}; "
        f"print(json.dumps({function}(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(directory), str(workers), str(seconds)], env=env,
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    result: dict[str, float] = json.loads(out)
    return result


def before_rate(src: Path, directory: Path, threads: int, seconds: float) -> dict[str, float]:
    """``append_rate`` of the code in ``src``."""
    return _rate_in(src, "append_rate", directory, threads, seconds)


def before_async_rate(src: Path, directory: Path, coroutines: int, seconds: float) -> dict[str, float]:
    """``async_rate`` of the code in ``src``."""
    return _rate_in(src, "async_rate", directory, coroutines, seconds)


def current_async_rate(directory: Path, coroutines: int, seconds: float) -> dict[str, float]:
    """``async_rate`` of this tree, in a subprocess too, so both sides pay the same start-up and heap."""
    return before_async_rate(Path(__file__).resolve().parents[2] / "src", directory, coroutines, seconds)


ASYNC_ROWS = (256, 1024)
"""Awaiting coroutines in ``--async-rounds`` mode (the per-call rows of the full run)."""


def async_rounds(root: Path, rounds: int, seconds: float, before_src: Path | None) -> list[dict[str, Any]]:
    """``rounds`` rounds of the per-call coroutine rows; with ``before_src``, that code's row right
    before or after this code's (the order alternates per round), so both see the same load."""
    measured: list[dict[str, Any]] = []
    for round_ in range(rounds):
        for coroutines in ASYNC_ROWS:
            sides: list[tuple[str, Any]] = [("now", None)]
            if before_src is not None:
                sides.insert(round_ % 2, ("before", before_src))
            for side, src in sides:
                directory = root / f"r{round_}-{coroutines}-{side}"
                rate = (
                    current_async_rate(directory, coroutines, seconds)
                    if src is None
                    else before_async_rate(src, directory, coroutines, seconds)
                )
                measured.append({"round": round_, "side": side, "load": os.getloadavg()[0], **rate})
    return measured


def async_report(measured: list[dict[str, Any]], before_rev: str) -> list[str]:
    """Median rate and CPU per record of each side and row, and every round's numbers."""
    md = [
        "| coroutines awaiting `append_async` | side | median rate | median CPU per record | rounds (rate, µs CPU) |",
        "|---|---|---|---|---|",
    ]
    for coroutines in ASYNC_ROWS:
        for side in ("before", "now"):
            rows = [m for m in measured if m["coroutines"] == coroutines and m["side"] == side]
            if not rows:
                continue
            rates = sorted(m["per_second"] for m in rows)
            cpus = sorted(m["cpu_us_per_record"] for m in rows)
            each = "; ".join(f"{m['per_second']:,.0f}/s {m['cpu_us_per_record']:.1f}" for m in rows)
            label = f"before ({before_rev})" if side == "before" else "now"
            md.append(f"| {coroutines} | {label} | {rates[len(rates) // 2]:,.0f} /s | "
                      f"{cpus[len(cpus) // 2]:.1f} µs | {each} |")  # fmt: skip
    return md


def before_verify_rate(src: Path, directory: Path, repeats: int) -> dict[str, float]:
    """Records per second of the ``verify_journal`` in ``src`` over the same journal, in a subprocess."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{Path.cwd()}"}
    code = (
        "import json, sys, time; from ricecoder_otel.compliance.audit.verify import verify_journal\n"
        "def timed(deep):\n"
        "    best = float('inf')\n"
        "    for _ in range(int(sys.argv[2])):\n"
        "        started = time.process_time(); result = verify_journal(sys.argv[1], b'b' * 32, deep=deep)\n"
        "        best = min(best, time.process_time() - started); assert result.ok\n"
        "    return result.records / best\n"
        "print(json.dumps({'verify_per_second': timed(False), 'verify_deep_per_second': timed(True)}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(directory), str(repeats)], env=env,
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    result: dict[str, float] = json.loads(out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--before-src", type=Path, help="src tree of an earlier commit to compare appends with")
    parser.add_argument("--before-rev", default="", help="the commit --before-src comes from (recorded)")
    parser.add_argument(
        "--async-rounds", type=int, default=0, help="only the per-call coroutine rows, this many interleaved rounds"
    )
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)  # the journals under test live there: its disk is measured
    if args.async_rounds:
        with tempfile.TemporaryDirectory(dir=args.out) as tmp:
            raw = raw_fsync_rate(Path(tmp), args.seconds)
            measured = async_rounds(Path(tmp), args.async_rounds, args.seconds, args.before_src)
        load = os.getloadavg()
        report = {"load_average_at_start": load_at_start, "load_average": load, "raw_write_fdatasync_per_second": raw,
                  "before_rev": args.before_rev, "rounds": measured}  # fmt: skip
        (args.out / "audit-throughput-async.json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"load average {load_at_start[0]:.2f} at the start, {load[0]:.2f} at the end; "
              f"disk {raw:,.0f} write + fdatasync/s")  # fmt: skip
        print("\n".join(async_report(measured, args.before_rev)))
        return
    before: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        root = Path(tmp)
        raw = raw_fsync_rate(root, args.seconds)
        appends, awaited = [], []
        for threads in THREADS:
            if args.before_src is not None:
                before.append(before_rate(args.before_src, root / f"b{threads}", threads, args.seconds))
            appends.append(append_rate(root / f"t{threads}", threads, args.seconds))
            for coroutines in COROUTINES.get(threads, ()):
                awaited.append(async_rate(root / f"a{coroutines}", coroutines, args.seconds))
        from ricecoder_otel.compliance.audit.signing import SigningKey  # not in --before-src trees

        signed = append_rate(root / "ed25519", THREADS[-1], args.seconds, SigningKey.generate())
        batched = [append_rate(root / f"m{t}x{b}", t, args.seconds, batch=b) for t, b in BATCHED]
        writers = [writer_rate(root / f"w{p}-{r}", p, args.seconds, r) for p, r in PRODUCERS]
        verification = verify_rate(root / "verify", args.records, repeats=5, before_src=args.before_src)
    command = "PYTHONPATH=src:. python -m benchmarks.audit.throughput --out benchmarks/results"
    if args.before_src is not None:
        command += f" --before-src {args.before_src} --before-rev {args.before_rev}"
    data: dict[str, Any] = {
        "command": command,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "load_average_at_start": load_at_start,
        "load_average": os.getloadavg(),
        "raw_write_fdatasync_per_second": raw,
        "appends": [{**a, "ratio_to_raw_fsync": a["per_second"] / raw} for a in appends],
        "appends_async": [{**a, "ratio_to_raw_fsync": a["per_second"] / raw} for a in awaited],
        "appends_ed25519": {**signed, "ratio_to_raw_fsync": signed["per_second"] / raw},
        "appends_batched": [{**a, "ratio_to_raw_fsync": a["per_second"] / raw} for a in batched],
        "writer": writers,
        "appends_before": {
            "rev": args.before_rev,
            "rates": [{**b, "ratio_to_raw_fsync": b["per_second"] / raw} for b in before],
        },
        "verification": verification,
    }
    (args.out / "audit-throughput.json").write_text(json.dumps(data, indent=2) + "\n")
    rows = [f"| baseline: one write + fdatasync per record | {raw:,.0f} /s | 1.00 | | |"]
    for index, a in enumerate(appends):
        was = (
            f"{before[index]['per_second']:,.0f} /s ({before[index]['per_second'] / raw:.2f}), "
            f"{before[index]['cpu_us_per_record']:.1f} µs CPU"
            if before
            else ""
        )
        rows.append(f"| durable appends, {a['threads']} threads (group commit) | {a['per_second']:,.0f} /s | "
                    f"{a['per_second'] / raw:.2f} | {a['cpu_us_per_record']:.1f} µs | {was} |")  # fmt: skip
    md = [
        "# Audit trail throughput",
        "",
        f"Command: `{data['command']}` (Python {data['python']}, {data['machine']}, load average "
        f"{load_at_start[0]:.1f} at the start and {data['load_average'][0]:.1f} at the end, on a shared 2-core "
        "machine: read the ratios first)",
        "",
        "| durable appends (fsynced before the call returns) | rate | ratio to baseline | process CPU per record | "
        f"before ({args.before_rev or 'not measured'}), same run |",
        "|---|---|---|---|---|",
        *rows,
        *(
            f"| durable appends, {a['coroutines']} coroutines awaiting `append_async` (one event loop, group commit) | "
            f"{a['per_second']:,.0f} /s | {a['per_second'] / raw:.2f} | {a['cpu_us_per_record']:.1f} µs | |"
            for a in awaited
        ),
        f"| durable appends, {signed['threads']} threads, checkpoints and head also Ed25519-signed | "
        f"{signed['per_second']:,.0f} /s | {signed['per_second'] / raw:.2f} | {signed['cpu_us_per_record']:.1f} µs | |",
        *(
            f"| durable appends, {a['threads']} threads, `append_many` of {a['batch']} (the background writer's "
            f"batches) | {a['per_second']:,.0f} /s | {a['per_second'] / raw:.2f} | {a['cpu_us_per_record']:.1f} µs | |"
            for a in batched
        ),
        "",
        "Process CPU per record (user + system, all threads) depends much less than the rate on the share of "
        "the CPU the process gets: 1,000,000 / it is the rate one free core could sustain when the disk keeps up.",
        "",
        "Threads rows: each caller is a thread blocked in `append` until its group's fsync (one thread wake-up per "
        "caller). Coroutine rows: each caller awaits `append_async` on one event loop; a committer thread commits "
        "what the loop handed over and wakes the loop once per group. Both return only after the fsync covering "
        "their record; each coroutines row is measured right after the threads row of the same count (1024 after 256).",
        "",
        "| automatic records: `AuditWriter.offer` (non-blocking, bounded queue of 65,536) and its group-commit "
        "thread | offered /s | accepted /s | dropped (queue full) | durably written /s | "
        "process CPU per written record |",
        "|---|---|---|---|---|---|",
        *(
            f"| {w['producers']} producer threads offering "
            f"{format(w['rate'], ',.0f') + '/s' if w['rate'] else 'as fast as they can'} | "
            f"{w['offered_per_second']:,.0f} | "
            f"{w['accepted_per_second']:,.0f} | {w['dropped']:,} | {w['written_per_second']:,.0f} | "
            f"{w['cpu_us_per_written_record']:.1f} µs |"
            for w in writers
        ),
        "",
        "Accepted is not durable: an offered record is durable once the writer's group commit has run "
        "(the issue's point 6 asks `audit()` to return only after that; `offer` is the path of automatic records).",
        "",
        "| verification | value |",
        "|---|---|",
        f"| journal | {verification['records']:,} records, {verification['bytes']:,} bytes |",
        f"| `verify_journal`, one process (chain, signed checkpoints, signed head), per second of process CPU | "
        f"{verification['verify_per_second']:,.0f} records/s |",
        f"| same, per second of wall-clock time | {verification['verify_wall_per_second']:,.0f} records/s |",
        f"| `verify_journal(deep=True)` (also recomputes every Merkle root; one process), per CPU-second | "
        f"{verification['verify_deep_per_second']:,.0f} records/s |",
        f"| baseline: SHA-256 of every line only (same run) | {verification['sha256_only_per_second']:,.0f} lines/s |",
        f"| time ratio verify / SHA-256 only | {verification['time_ratio_verify_over_sha256']:.2f} |",
        *(
            [
                f"| before ({args.before_rev}), same journal, rounds interleaved: `verify_journal` | "
                f"{verification['before']['verify_per_second']:,.0f} records/s (now "
                f"{verification['verify_per_second'] / verification['before']['verify_per_second']:.2f} times that) |",
                f"| before ({args.before_rev}), same journal, rounds interleaved: `verify_journal(deep=True)` | "
                f"{verification['before']['verify_deep_per_second']:,.0f} records/s (now "
                f"{verification['verify_deep_per_second'] / verification['before']['verify_deep_per_second']:.2f} "
                "times that) |",
            ]
            if "before" in verification
            else []
        ),
        "",
        "Targets: 20,000 durable appends/s with group commit; verification at 200,000 records/s.",
        "",
    ]
    (args.out / "audit-throughput.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
