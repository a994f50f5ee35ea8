"""Cost of performance analysis: added per-span cost against the bare SDK, and the profiler's CPU share.

Part 1 (per span): three sides in one run, rounds alternating, medians. Each request is a
SERVER span with a database child, like an instrumented request:

- ``bare_sdk``: ``TracerProvider`` + ``BatchSpanProcessor(discard)``;
- ``performance``: the same plus the performance span processor, with the worker's analysis
  (latency histograms, attribution) run inside the measured time (``process_cpu`` includes it);
- ``performance_profiling``: the same with the profiler's open-span bookkeeping on.

Part 2 (profiler under load): ``--threads`` request threads serve requests (2 ms of CPU, 3 ms
of sleep) for ``--seconds``, with and without the sampler at ``--rate`` samples/s (alternating
rounds); reports the sampler thread's CPU as a share of one core and of the process' CPU, and
the requests served.

    python -m benchmarks.performance.cost [--spans 20000] [--rounds 7] [--seconds 5] [--rate 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Tracer

from benchmarks.overhead.record import record_result
from ricecoder_otel.config.model import PerformanceConfig
from ricecoder_otel.kernel.events import EventHub
from ricecoder_otel.performance.engine import LatencyEngine
from ricecoder_otel.performance.otel import PerformanceRecords, PerformanceSpanProcessor
from ricecoder_otel.performance.profiler import ActiveSpans, StackSampler
from ricecoder_otel.performance.worker import PerformanceWorker


class DiscardExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _NoLogs:
    def get_logger(self, *args: object, **kwargs: object) -> object:
        return self

    def emit(self, *args: object, **kwargs: object) -> None:
        return None


Side = tuple[Tracer, Callable[[], object], Callable[[], None]]


def bare_sdk() -> Side:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DiscardExporter()))
    return provider.get_tracer("bench"), provider.force_flush, provider.shutdown


def with_performance(profiling: bool) -> Side:
    provider = TracerProvider()
    active = ActiveSpans()
    processor = PerformanceSpanProcessor(active)
    processor.on, processor.profiling = True, profiling
    provider.add_span_processor(processor)
    provider.add_span_processor(BatchSpanProcessor(DiscardExporter()))
    hub = EventHub(background=False)
    worker = PerformanceWorker(
        processor, LatencyEngine(), PerformanceRecords(_NoLogs()), StackSampler(active), hub,  # type: ignore[arg-type]
        PerformanceConfig(), clock=time.time,
    )  # fmt: skip

    def flush() -> None:
        worker.run_pass()
        provider.force_flush()

    return provider.get_tracer("bench"), flush, provider.shutdown


def _request_loop(tracer: Tracer, spans: int, flush: Callable[[], object]) -> dict[str, float]:
    """Nanoseconds per request (two spans): ``wall`` and ``app_cpu`` on the application thread (the
    worker's passes, which run on its own thread in production, are subtracted), ``process_cpu``
    with the worker's analysis included."""
    routes = ("/products", "/products/<int:product_id>", "/cart/<user_id>", "/checkout/<user_id>")
    worker_wall = worker_cpu = 0
    wall, thread_cpu, process_cpu = time.perf_counter_ns(), time.thread_time_ns(), time.process_time_ns()
    for n in range(spans):
        with tracer.start_as_current_span("GET /products", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.route", routes[n & 3])
            span.set_attribute("http.request.method", "GET")
            with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as query:
                query.set_attribute("db.system", "sqlite")
        if n % 1000 == 999:  # the worker's pass, as its thread would run it
            started_wall, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            flush()
            worker_wall += time.perf_counter_ns() - started_wall
            worker_cpu += time.thread_time_ns() - started_cpu
    thread_cpu = time.thread_time_ns() - thread_cpu - worker_cpu
    wall = time.perf_counter_ns() - wall - worker_wall
    flush()
    process_cpu = time.process_time_ns() - process_cpu
    return {"wall": wall / spans, "app_cpu": thread_cpu / spans, "process_cpu": process_cpu / spans}


def per_span(spans: int, rounds: int) -> dict[str, object]:
    sides = {"bare_sdk": bare_sdk(), "performance": with_performance(False),
             "performance_profiling": with_performance(True)}  # fmt: skip
    for tracer, flush, _ in sides.values():
        _request_loop(tracer, 2_000, flush)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for round_no in range(rounds):
        order = list(sides) if round_no % 2 == 0 else list(reversed(sides))
        for name in order:
            tracer, flush, _ = sides[name]
            samples[name].append(_request_loop(tracer, spans, flush))
            print(f"round {round_no + 1}/{rounds} {name}: {samples[name][-1]}", file=sys.stderr)
    for _, _, shutdown in sides.values():
        shutdown()
    medians = {name: {k: statistics.median(r[k] for r in runs) for k in ("wall", "app_cpu", "process_cpu")}
               for name, runs in samples.items()}  # fmt: skip
    bare = medians["bare_sdk"]
    return {
        "requests_per_round": spans,
        "spans_per_request": 2,
        "median_ns_per_request": {n: {k: round(v) for k, v in m.items()} for n, m in medians.items()},
        "ratios_to_bare": {n: {k: round(m[k] / bare[k], 3) for k in m} for n, m in medians.items() if n != "bare_sdk"},
        "added_ns_per_span": {
            n: {k: round((m[k] - bare[k]) / 2) for k in m} for n, m in medians.items() if n != "bare_sdk"
        },
    }


def _serve(tracer: Tracer, stop: threading.Event, served: list[int]) -> None:
    count = 0
    while not stop.is_set():
        with tracer.start_as_current_span("GET /work", kind=SpanKind.SERVER):
            deadline = time.thread_time() + 0.002
            while time.thread_time() < deadline:
                sum(range(200))
            time.sleep(0.003)
        count += 1
    served.append(count)


def profiler_round(seconds: float, threads: int, rate: float | None) -> dict[str, float]:
    provider = TracerProvider()
    active = ActiveSpans()
    processor = PerformanceSpanProcessor(active)
    processor.profiling = rate is not None
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("bench")
    sampler = StackSampler(active, rate_hz=rate or 100.0)
    if rate is not None:
        sampler.start()
    stop, served = threading.Event(), []
    workers = [threading.Thread(target=_serve, args=(tracer, stop, served)) for _ in range(threads)]
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sampler.stop()
    provider.shutdown()
    return {"wall_s": wall, "process_cpu_s": cpu, "sampler_cpu_s": sampler.busy_s, "ticks": sampler.ticks,
            "requests": sum(served)}  # fmt: skip


def profiler_share(seconds: float, threads: int, rate: float, rounds: int) -> dict[str, object]:
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for round_no in range(rounds):
        for name in ("off", "on") if round_no % 2 == 0 else ("on", "off"):
            runs[name].append(profiler_round(seconds, threads, rate if name == "on" else None))
            print(f"profiler round {round_no + 1}/{rounds} {name}: {runs[name][-1]}", file=sys.stderr)
    on = {k: statistics.median(r[k] for r in runs["on"]) for k in runs["on"][0]}
    off = {k: statistics.median(r[k] for r in runs["off"]) for k in runs["off"][0]}
    return {
        "threads": threads, "seconds": seconds, "rate_hz": rate, "rounds": rounds,
        "sampler_cpu_share_of_one_core": round(on["sampler_cpu_s"] / on["wall_s"], 4),
        "sampler_cpu_share_of_process_cpu": round(on["sampler_cpu_s"] / on["process_cpu_s"], 4),
        "ticks_per_second": round(on["ticks"] / on["wall_s"], 1),
        "requests_per_second": {"off": round(off["requests"] / off["wall_s"], 1),
                                "on": round(on["requests"] / on["wall_s"], 1)},
        "process_cpu_per_request_us": {"off": round(off["process_cpu_s"] / off["requests"] * 1e6, 1),
                                       "on": round(on["process_cpu_s"] / on["requests"] * 1e6, 1)},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args(argv)
    trace.set_tracer_provider(TracerProvider())  # keep the global provider out of the measured ones
    record_result(
        "performance",
        "benchmarks.performance.cost",
        argv,
        {
            "per_span": per_span(args.spans, args.rounds),
            "profiler": profiler_share(args.seconds, args.threads, args.rate, max(3, args.rounds // 2)),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
