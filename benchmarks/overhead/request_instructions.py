"""Per-request cost counted in CPU instructions (valgrind's callgrind): ricecoder-otel against
opentelemetry-distro, both exporting OTLP/HTTP, for the third-party Flask app of ``rps --app plain``.

``rps --mode collector`` times gunicorn under wrk, and on a shared VM one round's requests per
second differ from the next by a quarter whatever the configuration. Instruction counts do not
move with the host's throttling. Each distribution runs in its own process under callgrind, set
up exactly as ``opentelemetry-instrument`` sets it up (auto-instrumentation's ``initialize()``,
the same variables as ``rps``: ``OTEL_PYTHON_DISTRO``/``OTEL_PYTHON_CONFIGURATOR``, OTLP
``http/protobuf`` for traces, metrics and logs, to one loopback OTLP sink in this process that
answers 200). After a warm-up, collection is switched on (``callgrind_control -i on``) for
``--requests`` requests through the app's WSGI interface (Flask's test client: every
instrumentation runs, no server or load generator is counted) and a flush of the span and log
pipelines (so every request's spans and log record are encoded and posted), then off.

Counted: every thread of the process while collection is on: the request thread and the export,
performance, analytics and other background threads. Timers are pushed out of the window
(``OTEL_BSP_SCHEDULE_DELAY``, ``OTEL_BLRP_SCHEDULE_DELAY``, ``OTEL_METRIC_EXPORT_INTERVAL`` at
ten minutes): batches are exported when full or at the flush. Work a background thread does on a
timer regardless of traffic (the performance worker's pass every 250 ms, its threshold checks) is
counted too, and, since the process runs about fifty times slower under callgrind, it is
over-counted: the comparison is conservative for ricecoder-otel. Metric collection and export,
periodic for both, are outside the window.

    python -m benchmarks.overhead.request_instructions [--requests 1000]
"""

from __future__ import annotations

import argparse
import gc
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.overhead.record import record_result
from benchmarks.overhead.rps import DISTROS, OTLP

SIDES = ("opentelemetry-distro", "ricecoder-otel")
WARM_UP = 300
TEN_MINUTES_MS = "600000"


class _Sink(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that reads each request and answers 200 with an empty body."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


def _collect(on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True,
                   capture_output=True)  # fmt: skip


def child(requests: int) -> None:
    """Runs under callgrind: instrument as ``opentelemetry-instrument`` does, warm up, count ``requests``."""
    from opentelemetry.instrumentation.auto_instrumentation import initialize

    initialize()
    from opentelemetry import _logs, trace

    from benchmarks.overhead.plain_app import app

    client = app.test_client()

    def run(count: int) -> None:
        for n in range(count):
            response = client.get(f"/products/{n % 50 + 1}")
            if response.status_code != 200:
                raise SystemExit(f"the app answered {response.status_code}")

    def flush() -> None:
        trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
        _logs.get_logger_provider().force_flush()  # type: ignore[attr-defined]

    run(WARM_UP)
    flush()
    time.sleep(1.0)
    gc.collect()
    _collect(True)
    run(requests)
    flush()
    _collect(False)
    os._exit(0)  # no shutdown work in the counted process


def _instructions(side: str, requests: int, endpoint: str, workdir: Path) -> dict[str, int]:
    """Instructions per thread (callgrind's thread numbers) over the counted window."""
    out = workdir / f"{side}.out"
    distro = DISTROS[side]
    assert distro is not None
    env = {
        **os.environ, **distro, **OTLP,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "bench-app",
        "OTEL_METRIC_EXPORT_INTERVAL": TEN_MINUTES_MS, "OTEL_BSP_SCHEDULE_DELAY": TEN_MINUTES_MS,
        "OTEL_BLRP_SCHEDULE_DELAY": TEN_MINUTES_MS, "RICECODER_STORE_PATH": str(workdir / f"{side}.db"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }  # fmt: skip
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes",
         f"--callgrind-out-file={out}", sys.executable, "-m", "benchmarks.overhead.request_instructions",
         "--child", "--requests", str(requests)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if run.returncode != 0:
        raise SystemExit(f"{side} under callgrind failed ({run.returncode}):\n{run.stderr[-3000:]}")
    threads: dict[str, int] = {}
    for part in sorted(workdir.glob(f"{side}.out-*")):
        totals = re.search(r"^totals:\s+(\d+)", part.read_text(), re.MULTILINE)
        if totals is not None and int(totals.group(1)):
            threads[part.name.rsplit("-", 1)[1]] = int(totals.group(1))
    if "01" not in threads:
        raise SystemExit(f"{side}: nothing counted on the request thread (callgrind output in {workdir})")
    return threads


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.requests)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, name="otlp-sink", daemon=True).start()
    endpoint = f"http://127.0.0.1:{sink.server_address[1]}"
    workdir = Path(tempfile.mkdtemp(prefix="request-instructions-"))
    per_request: dict[str, dict[str, int]] = {}
    for side in SIDES:
        print(f"{side}: {args.requests} requests under callgrind (a few minutes)", file=sys.stderr)
        threads = _instructions(side, args.requests, endpoint, workdir)
        request_thread = threads.pop("01")
        per_request[side] = {
            "request_thread": round(request_thread / args.requests),
            "other_threads": round(sum(threads.values()) / args.requests),
            "total": round((request_thread + sum(threads.values())) / args.requests),
        }
        print(f"{side}: {per_request[side]} instructions per request", file=sys.stderr)
    sink.shutdown()
    ratio = round(per_request["ricecoder-otel"]["total"] / per_request["opentelemetry-distro"]["total"], 3)
    record_result(
        "request_instructions",
        "benchmarks.overhead.request_instructions",
        list(argv) if argv is not None else None,
        {
            "requests": args.requests,
            "app": "benchmarks.overhead.plain_app (GET /products/<n>, one INFO log line per request)",
            "sink": "OTLP http/protobuf for traces, metrics and logs to one loopback sink answering 200",
            "instructions_per_request": per_request,
            "ratio_ricecoder_to_opentelemetry_distro": ratio,
            "requests_per_second_equivalent": round(1 / ratio, 3),
            "counted": "every thread while collection was on (callgrind, toggled around the requests and a flush)",
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
