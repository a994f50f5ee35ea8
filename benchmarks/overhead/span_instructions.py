"""Per-span cost counted in CPU instructions (valgrind's callgrind): the ricecoder pipeline against the bare SDK.

``span_cost`` times interleaved rounds, and on a shared VM the bare SDK's own rounds move by a
quarter from one round to the next. Instruction counts do not move with the host's throttling, so
this harness counts, for the same request-shaped server span as ``span_cost``, the instructions
executed per span by each piece of work that runs once per span:

- ``app``: the application thread (span start, attributes, end, every span processor and hook);
- ``export``: the span's way through the exporter chain (for ricecoder: counting, transforms and
  redaction), one batch of 512 at a time, as the batch processor's thread runs it;
- ``performance``: ricecoder's performance worker, one pass over the queued spans.

Each piece runs in its own process under callgrind with collection switched on only around it
(``callgrind_control -i on|off``), on the calling thread, so start-up, warm-up and the idle wake-ups
of other threads are not counted. The ratio is the sum for ricecoder over the sum for the bare SDK.
Needs valgrind (``apt-get install valgrind``).

    python -m benchmarks.overhead.span_instructions [--spans 2000]
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind, Tracer

from benchmarks.overhead.record import record_result
from benchmarks.overhead.span_cost import bare_sdk, ricecoder

PIECES = {"bare_sdk": ("app", "export"), "ricecoder": ("app", "export", "performance")}
ROUTES = ("/products", "/products/<int:product_id>", "/cart/<user_id>", "/checkout/<user_id>")
WARM_UP = 500


def _requests(tracer: Tracer, count: int) -> None:
    """The span shape of ``span_cost``: a server span with a route, a method and a status code."""
    for n in range(count):
        with tracer.start_as_current_span("GET /products", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.route", ROUTES[n & 3])
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("http.response.status_code", 500 if n % 50 == 0 else 200)


def _collect(on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True,
                   capture_output=True)  # fmt: skip


def _finished_spans(tracer_provider: TracerProvider, count: int) -> list[ReadableSpan]:
    """``count`` finished spans as processors receive them, from ``tracer_provider``."""
    kept: list[ReadableSpan] = []

    class Keep(SpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            kept.append(span)

    tracer_provider.add_span_processor(Keep())
    _requests(tracer_provider.get_tracer("bench"), count)
    return kept


def _measured(work: Callable[[], object]) -> None:
    gc.collect()
    _collect(True)
    work()
    _collect(False)


def _refuse_drops(side: str) -> None:
    """Fail when a queue overflowed while counting: under callgrind the background threads run far
    slower than the application's, and with too many spans the export queue fills and spans are
    dropped (then cheaper per span than exported), so the count would not be the pipeline's."""
    if side != "ricecoder":
        return
    from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

    dropped = {name: n for name, n in SELF_TELEMETRY.snapshot().dropped.items() if name.startswith("spans.")}
    if dropped:
        print(f"spans were dropped while counting ({dropped}): run with fewer --spans", file=sys.stderr)
        os._exit(3)


def child(side: str, piece: str, spans: int) -> None:
    """Runs under callgrind: build ``side``, warm up, and run ``piece`` with collection on."""
    tracer, flush, _ = bare_sdk() if side == "bare_sdk" else ricecoder()
    provider: Any = tracer.span_processor
    batch = provider._span_processors[-1]  # the bare SDK's batch processor, or ricecoder's span hooks
    batch = getattr(batch, "_exporting", (batch,))[-1]  # which call ricecoder's exporting processor
    if piece == "app":
        _requests(tracer, WARM_UP)
        flush()
        _measured(lambda: _requests(tracer, spans))  # exports run on the batch thread, not counted here
        _refuse_drops(side)
    elif piece == "export":
        exporter = batch._batch_processor._exporter  # what the batch thread calls, wrappers included
        sdk_provider = TracerProvider()
        finished = _finished_spans(sdk_provider, WARM_UP + spans)
        exporter.export(finished[:WARM_UP])
        rest = finished[WARM_UP:]
        _measured(lambda: [exporter.export(rest[i : i + 512]) for i in range(0, len(rest), 512)])
    elif piece == "performance":
        worker = next(o for o in gc.get_objects() if type(o).__name__ == "PerformanceWorker")
        worker.stop()  # its passes run here, on the calling thread, from now on
        _requests(tracer, WARM_UP)
        worker.process_spans()
        _requests(tracer, spans)  # queued by the span hook, not counted
        _measured(worker.process_spans)
    os._exit(0)  # no shutdown work in the counted process


def _instructions(side: str, piece: str, spans: int, workdir: Path) -> int:
    out = workdir / f"{side}-{piece}.out"
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes",
         f"--callgrind-out-file={out}", sys.executable, "-m", "benchmarks.overhead.span_instructions",
         "--child", side, piece, "--spans", str(spans)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    if run.returncode != 0:
        raise SystemExit(f"{side} {piece} under callgrind failed ({run.returncode}):\n{run.stderr[-2000:]}")
    main_thread = Path(f"{out}-01")
    totals = re.search(r"^totals:\s+(\d+)", main_thread.read_text(), re.MULTILINE)
    if totals is None:
        raise RuntimeError(f"no totals in {main_thread}")
    return int(totals.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=2000)
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "PIECE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.spans)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    os.environ.setdefault("RICECODER_STORE_PATH", str(Path(tempfile.mkdtemp()) / "bench.db"))
    workdir = Path(tempfile.mkdtemp(prefix="span-instructions-"))
    per_span: dict[str, dict[str, int]] = {}
    for side, pieces in PIECES.items():
        per_span[side] = {}
        for piece in pieces:
            per_span[side][piece] = round(_instructions(side, piece, args.spans, workdir) / args.spans)
            print(f"{side} {piece}: {per_span[side][piece]} instructions per span", file=sys.stderr)
    totals = {side: sum(pieces.values()) for side, pieces in per_span.items()}
    ratio = round(totals["ricecoder"] / totals["bare_sdk"], 3)
    record_result(
        "span_instructions",
        "benchmarks.overhead.span_instructions",
        list(argv) if argv is not None else None,
        {
            "spans": args.spans,
            "instructions_per_span": per_span,
            "total_instructions_per_span": totals,
            "ratio_ricecoder_to_bare": ratio,
            "sides": {
                "bare_sdk": "TracerProvider + BatchSpanProcessor(discard)",
                "ricecoder": "ricecoder pipeline, every default capability, exporting to the same discarding exporter",
            },
            "counted": "instructions on the thread running each piece (callgrind, collection toggled around it)",
            "target_ratio": 1.3,
            "meets_target": ratio <= 1.3,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
