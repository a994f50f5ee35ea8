"""A fixed number of per-call durable appends (coroutines awaiting ``append_async``, the loop of
``throughput.async_rate``), for counting instructions, which the shared machine's load does not move:

    PYTHONPATH=src:. valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \\
        python -m benchmarks.audit.per_call RECORDS COROUTINES [--harness]

Instructions per record = (total of RECORDS - total of 0 records) / RECORDS. ``--harness``
awaits ``asyncio.sleep(0)`` instead of the append: the benchmark loop's own share (record building
and one task switch).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

from benchmarks.audit.throughput import KEY, fields
from ricecoder_otel.compliance.audit.engine import CheckpointPolicy
from ricecoder_otel.compliance.audit.journal import AuditJournal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("records", type=int)
    parser.add_argument("coroutines", type=int)
    parser.add_argument("--harness", action="store_true", help="await asyncio.sleep(0) instead of appending")
    args = parser.parse_args()
    each = args.records // args.coroutines
    with tempfile.TemporaryDirectory() as directory:
        journal = AuditJournal(directory, key=KEY, clock=time.time, policy=CheckpointPolicy(1000, 60))

        async def work(worker: int) -> None:
            for n in range(each):
                record = fields(worker, n)
                if args.harness:
                    await asyncio.sleep(0)
                else:
                    await journal.append_async(record)

        async def run() -> None:
            await asyncio.gather(*(work(w) for w in range(args.coroutines)))

        cpu = time.process_time()
        asyncio.run(run())
        cpu = time.process_time() - cpu
        journal.close()
        total = each * args.coroutines
        print(f"{total} records, {journal.last_seq} appended, {cpu / max(total, 1) * 1e6:.1f} µs CPU per record")


if __name__ == "__main__":
    main()
