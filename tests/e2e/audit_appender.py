"""Child process of the SIGKILL test: append audit records as fast as it can, from several threads.

After each append returns, the record's sequence number and hash are written to the report
file with one unbuffered ``write`` (it survives SIGKILL in the page cache), so the parent knows
exactly which calls had returned when it killed this process.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from ricecoder_otel.compliance.audit.engine import CheckpointPolicy, record_fields
from ricecoder_otel.compliance.audit.journal import AuditJournal


def main(directory: str, report: str, threads: int) -> None:
    journal = AuditJournal(directory, key=b"s" * 32, clock=time.time, policy=CheckpointPolicy(50, 0.5))
    out = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def work(worker: int) -> None:
        n = 0
        while True:
            fields = record_fields(ts=time.time(), actor=f"w{worker}", action="append", resource=f"r/{n}",
                                   outcome="success", details={"n": n})  # fmt: skip
            record = journal.append(fields)
            os.write(out, f"{record.seq} {record.hash}\n".encode())
            n += 1

    for worker in range(threads):
        threading.Thread(target=work, args=(worker,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
