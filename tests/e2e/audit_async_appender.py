"""Child process of the SIGKILL test, asyncio flavour: coroutines on one event loop append audit
records as fast as they can, each awaiting ``append_async`` (durable on return).

After each await returns, the record's sequence number and hash are written to the report file
with one unbuffered ``write`` (it survives SIGKILL in the page cache), so the parent knows exactly
which calls had returned when it killed this process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from ricecoder_otel.compliance.audit.engine import CheckpointPolicy, record_fields
from ricecoder_otel.compliance.audit.journal import AuditJournal


async def main(directory: str, report: str, coroutines: int) -> None:
    journal = AuditJournal(directory, key=b"s" * 32, clock=time.time, policy=CheckpointPolicy(50, 0.5))
    out = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    async def work(worker: int) -> None:
        n = 0
        while True:
            fields = record_fields(ts=time.time(), actor=f"c{worker}", action="append", resource=f"r/{n}",
                                   outcome="success", details={"n": n})  # fmt: skip
            record = await journal.append_async(fields)
            os.write(out, f"{record.seq} {record.hash}\n".encode())
            n += 1

    await asyncio.gather(*(work(worker) for worker in range(coroutines)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
