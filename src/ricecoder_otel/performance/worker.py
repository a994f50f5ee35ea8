"""The performance worker: everything the span processor defers, on one background thread.

Each pass drains the span queue: every operation's duration goes to the latency engine (all of
them: percentiles are never sampled). Self-time attribution is the expensive part, so it is
sampled above a rate: each trace is decided once, when its first span reaches the worker (by the
low bits of its random trace id: processes at the same ratio pick the same traces), at a
ratio that keeps about ``ATTRIBUTED_PER_PASS`` traces per pass (200 per second); an attributed
trace's spans wait (bounded) until its server span ends, which then gets its self time per
category. Traces not attributed are counted (``ricecoder.self.dropped``, component
``performance.attribution``); a summary says how many requests its shares come from. When a
request's entry span ends, its profile is taken and, if the request was slow, written. Finished
slots are written as summaries. Every ``evaluation_interval`` the thresholds
are checked against the engine's percentiles and the process' memory and CPU, and the
transitions are published on the hub.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.events import AlertTransition, EventHub
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.switch import SWITCH_EVERY, switch_point
from ricecoder_otel.performance.bottleneck import SpanFacts, self_times
from ricecoder_otel.performance.engine import LatencyEngine, Operation
from ricecoder_otel.performance.otel import PerformanceRecords, PerformanceSpanProcessor
from ricecoder_otel.performance.profiler import StackSampler
from ricecoder_otel.performance.spans import SERVER, classify, route_of, scope_name, server_operation
from ricecoder_otel.performance.thresholds import CPU_RULE, MEMORY_RULE, P95_RULE, Check, ThresholdAlerts

if TYPE_CHECKING:
    from ricecoder_otel.config.model import PerformanceConfig

Clock = Callable[[], float]
ResourceProbe = Callable[[], tuple[float, float, float]]
"""Returns (resident memory MB, CPU percent of all cores since the last call, physical memory MB)."""

MAX_PENDING_TRACES = 10_000
MAX_SPANS_PER_TRACE = 10_000
PASS_INTERVAL_S = 0.25
ATTRIBUTED_PER_PASS = 50
"""Traces attributed per pass at most on average (200 per second at the pass interval); a burst in one
pass is capped at twice this."""
_SAMPLE_SPACE = 1 << 16
_UNSAMPLED: list[SpanFacts] = []
"""Marks a pending trace that is not attributed (never appended to)."""


def process_probe() -> ResourceProbe:
    """Resident memory and CPU of this process through psutil (installed with the system-metrics
    instrumentation the distribution depends on)."""
    import psutil

    process = psutil.Process()
    process.cpu_percent(None)  # the first call only sets the reference point
    total_mb = psutil.virtual_memory().total / 2**20
    cores = psutil.cpu_count() or 1

    def probe() -> tuple[float, float, float]:
        return process.memory_info().rss / 2**20, process.cpu_percent(None) / cores, total_mb

    return probe


class PerformanceWorker:
    """Drains the span queue into the engine, writes summaries and profiles, evaluates thresholds."""

    def __init__(
        self,
        processor: PerformanceSpanProcessor,
        engine: LatencyEngine,
        records: PerformanceRecords,
        sampler: StackSampler,
        hub: EventHub,
        section: PerformanceConfig,
        *,
        clock: Clock,
        probe: ResourceProbe | None = None,
    ) -> None:
        self.processor = processor
        self.engine = engine
        self.records = records
        self.sampler = sampler
        self.hub = hub
        self.section = section
        self.clock = clock
        self.probe = probe
        self.alerts = ThresholdAlerts()
        self._pending: dict[int, list[SpanFacts]] = {}
        self._operations: dict[tuple[object, ...], Operation] = {}
        self._threshold = _SAMPLE_SPACE  # trace ids whose low 16 bits are below it are attributed
        self.attributed = 0
        self.not_attributed = 0
        self.lock = threading.Lock()
        """Held while the engine changes; readers (the monitor API) take it too."""
        self._stop = threading.Event()
        self._runner: threading.Thread | None = None
        self._last_evaluation: float | None = None
        self.configure(section)

    def configure(self, section: PerformanceConfig) -> None:
        self.section = section
        self.alerts.severity = section.thresholds.severity
        self.alerts.for_s = section.thresholds.for_.total_seconds()

    # -- the thread -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._runner is not None and self._runner.is_alive():
            return
        self._stop = threading.Event()
        self._runner = threading.Thread(target=self._run, args=(self._stop,), name="ricecoder-performance", daemon=True)
        self._runner.start()

    def stop(self) -> None:
        thread, self._runner = self._runner, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)
        self.run_pass(final=True)

    def after_fork(self) -> None:
        self.lock = threading.Lock()
        running = self._runner is not None
        self._runner = None
        self._pending.clear()
        if running:
            self.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(PASS_INTERVAL_S):
            try:
                self.run_pass()
            except Exception as error:  # one bad pass must not end the loop
                SELF_TELEMETRY.count_error("performance")
                report_once("performance", "analysis pass failed: %s", type(error).__name__)

    def run_pass(self, *, final: bool = False, evaluate: bool = False) -> None:
        """Process queued spans, write finished slots, evaluate thresholds when due (or ``evaluate``)."""
        with self.lock:
            self.process_spans()
            self.write_summaries(include_current=final)
            now = self.clock()
            interval = self.section.evaluation_interval.total_seconds()
            due = self._last_evaluation is None or now - self._last_evaluation >= interval
            if evaluate or (due and not final):
                self._last_evaluation = now
                for transition in self.evaluate():
                    self.hub.publish(transition)
            self.engine.expire()

    # -- spans ----------------------------------------------------------------------------------

    def process_spans(self) -> int:
        # Entries are plain values the application set (a name, times): not trusted to match SpanRecord.
        queue: deque[Any] = self.processor.queue
        pending, engine, cache = self._pending, self.engine, self._operations
        now = self.clock()
        threshold, decided, chosen, attributed, skipped = self._threshold, 0, 0, 0, 0
        profiles = self.processor.profiling or self.sampler.has_profiles()
        durations: defaultdict[Operation, list[float]] = defaultdict(list)  # recorded together, after the loop
        server = SpanKind.SERVER
        unsampled, most = _UNSAMPLED, 2 * ATTRIBUTED_PER_PASS  # locals: read once per span
        done = 0
        while queue:
            trace_id, span_id, parent, kind, name, scope_of, start, end, attributes = queue.popleft()
            done += 1
            if not done % SWITCH_EVERY:  # compiled, this loop would otherwise keep the GIL to itself
                switch_point()
            if type(start) is not int or type(end) is not int:  # the API checks neither
                if start is None or end is None:
                    continue
                try:
                    start, end = int(start), int(end)
                except (TypeError, ValueError, OverflowError):
                    continue
            if type(name) is not str:  # nor the name; every name below is text
                name = str(name)
            # A SpanContext is a tuple: [1] is its span id and [2] whether it is remote, without a property call.
            parent_id, root = (None, True) if parent is None else (parent[1], parent[2])
            duration_s = (end - start) / 1e9 if end > start else 0.0
            spans = pending.pop(trace_id, None) if root else pending.get(trace_id)
            if spans is None:  # the first span of its trace here: decide whether the trace is attributed
                decided += 1
                if (trace_id & 0xFFFF) < threshold and chosen < most:
                    chosen += 1
                    spans = []
                else:
                    spans = unsampled
                if not root:
                    self._track(trace_id, spans)
            if kind is server:
                get = attributes.get  # server_operation's cache key, looked up without the call
                operation = cache.get((name, get("http.route"), get("http.request.method"), get("http.method")))
                if operation is None:
                    operation = server_operation(name, attributes, cache)
                if spans is unsampled:
                    durations[operation].append(duration_s)
                    skipped += root
                else:
                    category, _ = classify(kind, name, scope_name(scope_of), attributes)
                    fact = SpanFacts(span_id, parent_id, category, start, end)
                    engine.record(operation, duration_s, self_times(fact, spans), now)
                    attributed += root
            else:
                category, maybe = classify(kind, name, scope_name(scope_of), attributes)
                if maybe is not None:
                    durations[maybe].append(duration_s)
                if spans is not unsampled:
                    if root:
                        attributed += 1
                    else:
                        self._remember(spans, SpanFacts(span_id, parent_id, category, start, end))
                elif root:
                    skipped += 1
            if root and profiles:
                self._profile(trace_id, span_id, duration_s, name, attributes if kind is server else None)
        engine.record_durations(durations, now)
        self.attributed += attributed
        self.not_attributed += skipped
        if skipped:
            SELF_TELEMETRY.count_drop("performance.attribution", skipped)
        # The next pass' ratio from this pass' traffic: all traces while it is under the budget.
        self._threshold = min(_SAMPLE_SPACE, _SAMPLE_SPACE * ATTRIBUTED_PER_PASS // max(1, decided))
        return done

    def _track(self, trace_id: int, spans: list[SpanFacts]) -> None:
        """Keep a trace's decision (and, when attributed, its spans) until its entry span ends here."""
        if len(self._pending) >= MAX_PENDING_TRACES:  # traces whose root never ended here
            del self._pending[next(iter(self._pending))]
            SELF_TELEMETRY.count_drop("performance.traces")
        self._pending[trace_id] = spans

    @staticmethod
    def _remember(spans: list[SpanFacts], fact: SpanFacts) -> None:
        if len(spans) < MAX_SPANS_PER_TRACE:
            spans.append(fact)

    def _profile(
        self, trace_id: int, span_id: int, duration_s: float, name: str, server: Mapping[str, Any] | None
    ) -> None:
        """Write the request's profile when it was slow (``server``: a server span's attributes, naming its route)."""
        profile = self.sampler.finish(trace_id)
        if profile is None or not profile.samples:
            return
        if duration_s < self.section.slow_request_threshold.total_seconds():
            return
        attributes: dict[str, str] = {}
        if server is not None:
            attributes["ricecoder.perf.operation"] = route_of(name, server)
        self.records.profile(
            profile, root_span_id=f"{span_id:016x}", at=self.clock(), duration_s=duration_s,
            rate_hz=self.sampler.rate_hz, attributes=attributes,
        )  # fmt: skip

    def write_summaries(self, *, include_current: bool = False) -> int:
        written = 0
        for slot in self.engine.completed(include_current=include_current):
            self.records.summary(slot)
            written += 1
        return written

    # -- thresholds -----------------------------------------------------------------------------

    def checks(self) -> list[Check]:
        limits = self.section.thresholds
        found: list[Check] = []
        for operation in self.engine.operations(SERVER):
            method, _, route = operation.name.partition(" ")
            key = operation.name if operation.name in limits.routes else route if route in limits.routes else None
            limit = limits.routes[key] if key is not None else limits.max_response_time_ms
            if limit is None:
                continue
            histogram = self.engine.histogram(operation)
            if histogram.count < limits.min_requests:
                continue
            p95_ms = histogram.quantile(0.95) * 1000
            labels = {"http.route": route, "http.request.method": method} if route else {"operation": operation.name}
            found.append(Check(
                P95_RULE, f"{P95_RULE}{{{operation.name}}}", p95_ms, limit, labels,
                f"p95 of {operation.name} is {p95_ms:.0f} ms over {histogram.count} requests (limit {limit:.0f} ms)",
            ))  # fmt: skip
        if self.probe is not None and (limits.max_memory_mb is not None or limits.max_cpu_percent is not None
                                       or self.section.memory_threshold_percent is not None):  # fmt: skip
            rss_mb, cpu, total_mb = self.probe()
            memory_limits = [limits.max_memory_mb] if limits.max_memory_mb is not None else []
            if self.section.memory_threshold_percent is not None:
                memory_limits.append(self.section.memory_threshold_percent * total_mb / 100)
            if memory_limits:
                limit = min(memory_limits)
                found.append(Check(MEMORY_RULE, MEMORY_RULE, rss_mb, limit, {},
                                   f"resident memory {rss_mb:.0f} MB (limit {limit:.0f} MB)"))  # fmt: skip
            if limits.max_cpu_percent is not None:
                found.append(Check(CPU_RULE, CPU_RULE, cpu, limits.max_cpu_percent, {},
                                   f"CPU {cpu:.0f}% of the machine (limit {limits.max_cpu_percent:.0f}%)"))  # fmt: skip
        return found

    def evaluate(self) -> list[AlertTransition]:
        return self.alerts.evaluate(self.checks(), self.clock())
