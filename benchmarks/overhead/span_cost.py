"""Per-span cost on the application thread: the ricecoder pipeline against the bare SDK.

Both sides export through a BatchSpanProcessor to the same exporter (one that
discards, so the exporter's own cost does not blur the comparison). Two
ricecoder sides: the kernel's seam with RED metrics and self-telemetry (the pipeline
the capability issues build on), and the pipeline with every default capability
(RED metrics, error tracking, performance analysis, analytics capture, redaction on
the export path, audit, self-telemetry, ...), each with its counting batch processor.
Rounds alternate between the two sides so machine noise hits both; the ratio of
medians is recorded, and the quartiles of the per-round ratios (each round's sides
run back to back, so a slow stretch of the host is shared by both halves of a pair).
``wall`` stops before the final flush; ``process_cpu`` includes it (all background work).

    python -m benchmarks.overhead.span_cost [--spans 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Tracer

from benchmarks.overhead.record import record_result


class DiscardExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _thread_cpu_ns() -> dict[str, int]:
    """CPU time of each live thread of this process by name (Linux ``/proc``; empty elsewhere)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick_ns = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    cpu: dict[str, int] = {}
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return cpu
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        name = names.get(int(tid), f"thread-{tid}")
        cpu[name] = cpu.get(name, 0) + (int(fields[11]) + int(fields[12])) * tick_ns
    return cpu


def _request_loop(tracer: Tracer, spans: int, flush: Callable[[], object]) -> dict[str, float]:
    """Nanoseconds per server span shaped like an instrumented HTTP request.

    ``wall`` is elapsed time on the application thread (it includes any time a
    background thread held the GIL), ``app_cpu`` the application thread's own
    CPU, ``process_cpu`` all threads' CPU including the background work, which
    is flushed before the clock stops.
    """
    routes = ("/products", "/products/<int:product_id>", "/cart/<user_id>", "/checkout/<user_id>")
    threads_before = _thread_cpu_ns()
    wall, thread_cpu, process_cpu = time.perf_counter_ns(), time.thread_time_ns(), time.process_time_ns()
    for n in range(spans):
        with tracer.start_as_current_span("GET /products", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.route", routes[n & 3])
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("http.response.status_code", 500 if n % 50 == 0 else 200)
    thread_cpu = time.thread_time_ns() - thread_cpu
    wall = time.perf_counter_ns() - wall
    flush()
    process_cpu = time.process_time_ns() - process_cpu
    threads = {
        name: (used - threads_before.get(name, 0)) / spans
        for name, used in _thread_cpu_ns().items()
        if used > threads_before.get(name, 0)
    }
    return {
        "wall": wall / spans,
        "app_cpu": thread_cpu / spans,
        "process_cpu": process_cpu / spans,
        **{f"thread:{name}": value for name, value in threads.items()},
    }


Side = tuple[Tracer, Callable[[], object], Callable[[], None]]


def bare_sdk() -> Side:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DiscardExporter()))
    return provider.get_tracer("bench"), provider.force_flush, provider.shutdown


def ricecoder(capabilities: Sequence[str] | None = None) -> Side:
    """The pipeline with every default capability, or only those named in ``capabilities``."""
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.kernel.registry import load_capabilities
    from ricecoder_otel.pipeline import build_pipeline

    # Exporting to the same discarding exporter through the pipeline's own export path
    # (transforms, isolation, counting batch processor).
    store = Path(tempfile.mkdtemp(prefix="span-cost-")) / "telemetry.db"
    config = MonitoringConfig.model_validate({"store": {"location": str(store)}})
    installed = load_capabilities()
    if capabilities is not None:
        installed = [c for c in installed if c.name in capabilities]
    pipeline = build_pipeline(
        config,
        set_global=False,
        span_exporters=[DiscardExporter()],
        metric_readers=[],
        log_exporters=[],
        watch_config=False,
        capabilities=installed,
    )
    return pipeline.tracer_provider.get_tracer("bench"), pipeline.force_flush, pipeline.shutdown


SEAM_AND_RED = ("metrics", "self_telemetry")
"""The kernel's seam with RED metrics and self-telemetry: the pipeline before the capability issues."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.setdefault("RICECODER_STORE_PATH", str(Path(tempfile.mkdtemp()) / "bench.db"))

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    sides = {"bare_sdk": bare_sdk(), "seam_red": ricecoder(SEAM_AND_RED), "ricecoder": ricecoder()}
    for tracer, flush, _ in sides.values():
        _request_loop(tracer, 2_000, flush)  # warm-up
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for round_no in range(args.rounds):
        order = list(sides) if round_no % 2 == 0 else list(reversed(sides))
        for name in order:
            tracer, flush, _ = sides[name]
            samples[name].append(_request_loop(tracer, args.spans, flush))
            main = {k: round(v) for k, v in samples[name][-1].items() if not k.startswith("thread:")}
            print(f"round {round_no + 1}/{args.rounds} {name}: {main}", file=sys.stderr)
    for _, _, shutdown in sides.values():
        shutdown()

    medians = {
        name: {kind: statistics.median(run[kind] for run in runs) for kind in ("wall", "app_cpu", "process_cpu")}
        for name, runs in samples.items()
    }
    # Where each side's CPU went, by thread (median over rounds; a thread missing in a round counts 0).
    by_thread = {
        name: {
            kind[len("thread:") :]: round(statistics.median(run.get(kind, 0.0) for run in runs))
            for kind in sorted({k for run in runs for k in run if k.startswith("thread:")})
        }
        for name, runs in samples.items()
    }

    def ratios(name: str) -> dict[str, float]:
        return {kind: round(medians[name][kind] / medians["bare_sdk"][kind], 3) for kind in medians[name]}

    def paired(name: str, kind: str) -> dict[str, float]:
        """Quartiles of the per-round ratios: each round's sides run back to back, so a slow
        stretch of the host hits both halves of a pair, where the ratio of medians can pair a fast
        bare round with a slow ricecoder one."""
        per_round = [side[kind] / bare[kind] for side, bare in zip(samples[name], samples["bare_sdk"], strict=True)]
        q1, median, q3 = statistics.quantiles(per_round, n=4) if len(per_round) > 1 else per_round * 3
        return {"q1": round(q1, 3), "median": round(median, 3), "q3": round(q3, 3)}

    record_result(
        "span_cost",
        "benchmarks.overhead.span_cost",
        argv,
        {
            "spans_per_round": args.spans,
            "rounds": args.rounds,
            "median_ns_per_span": {name: {k: round(v) for k, v in m.items()} for name, m in medians.items()},
            "median_cpu_ns_per_span_by_thread": by_thread,
            "load_average_at_start_and_end": [load_at_start, [round(x, 2) for x in os.getloadavg()]],
            "sides": {
                "bare_sdk": "TracerProvider + BatchSpanProcessor(discard)",
                "seam_red": "ricecoder pipeline, capabilities: " + ", ".join(SEAM_AND_RED),
                "ricecoder": "ricecoder pipeline, every default capability",
            },
            "ratios_seam_red_to_bare": ratios("seam_red"),
            "ratios_ricecoder_to_bare": ratios("ricecoder"),
            "paired_round_ratios": {
                name: {kind: paired(name, kind) for kind in ("wall", "process_cpu")}
                for name in ("seam_red", "ricecoder")
            },
            "target_applies_to": "wall (elapsed time on the application thread)",
            "target_ratio": 1.3,
            "seam_red_meets_target": ratios("seam_red")["wall"] <= 1.3,
            "all_capabilities_meet_target": ratios("ricecoder")["wall"] <= 1.3,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
