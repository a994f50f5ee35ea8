"""The span-attributed sampling profiler in the real pipeline: the slow request's profile shows its sleep."""

from __future__ import annotations

import json
import threading
import time

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.performance.formats import parse_collapsed, self_samples
from ricecoder_otel.performance.profiler import ActiveSpans, StackSampler, frame_label
from ricecoder_otel.testing import RicecoderCapture

PROFILING = {"performance": {"profiling_enabled": True, "profiling_sample_rate": 200,
                             "slow_request_threshold": "100ms"}}  # fmt: skip


def slow_query() -> None:
    time.sleep(0.4)


def quick_work() -> int:
    return sum(range(1000))


def serve(route: str, work: list[object]) -> tuple[str, str]:
    """A request on its own thread, as a threaded server runs it; returns (trace id, inner span id)."""
    tracer = trace.get_tracer("tests.profiler")
    ids: list[str] = []

    def handle() -> None:
        attributes = {"http.route": route, "http.request.method": "GET"}
        with tracer.start_as_current_span(f"GET {route}", kind=SpanKind.SERVER, attributes=attributes) as server:
            quick_work()
            with tracer.start_as_current_span("report.aggregate") as inner:
                for step in work:
                    step()  # type: ignore[operator]
            ids.extend([f"{server.get_span_context().trace_id:032x}", f"{inner.get_span_context().span_id:016x}"])

    thread = threading.Thread(target=handle)
    thread.start()
    thread.join()
    return ids[0], ids[1]


def capability(capture: RicecoderCapture) -> PerformanceCapability:
    found = capture.pipeline.capability("performance")
    assert isinstance(found, PerformanceCapability)
    return found


@pytest.mark.ricecoder_config(PROFILING)
def test_the_slow_requests_profile_has_its_sleep_as_the_hottest_frame(ricecoder_capture: RicecoderCapture) -> None:
    trace_id, inner_span = serve("/reports/sales", [quick_work, slow_query])
    serve("/health", [quick_work])  # fast: no profile kept
    capability(ricecoder_capture).process_now()

    [record] = [r.log_record for r in ricecoder_capture.events("ricecoder.profile")]
    assert f"{record.trace_id:032x}" == trace_id  # linked to the slow request's trace
    attributes = dict(record.attributes or {})
    assert attributes["ricecoder.perf.operation"] == "GET /reports/sales"
    stacks = parse_collapsed(str(record.body))
    hottest, samples = next(iter(self_samples(stacks).items()))
    assert hottest == frame_label(slow_query.__code__)
    assert samples >= 0.5 * 0.4 * 200  # wall-clock samples of the sleep (half the ideal, for a busy machine)
    [hot_stack] = [stack for stack, _ in stacks if stack[-1] == hottest]
    assert hot_stack[-2:] == ["performance/test_profiler.py:serve.<locals>.handle", hottest]
    by_span = json.loads(str(attributes["ricecoder.profile.span_samples"]))
    assert max(by_span, key=by_span.get) == inner_span  # the samples belong to the span the sleep ran in


@pytest.mark.ricecoder_config({"performance": {"slow_request_threshold": "100ms"}})
def test_without_profiling_enabled_nothing_samples(ricecoder_capture: RicecoderCapture) -> None:
    serve("/reports/sales", [slow_query])
    found = capability(ricecoder_capture)
    found.process_now()
    assert ricecoder_capture.events("ricecoder.profile") == []
    assert found.sampler is not None and found.sampler.ticks == 0


def test_only_threads_with_an_open_span_are_sampled_and_stacks_are_bounded() -> None:
    spans = ActiveSpans()
    sampler = StackSampler(spans, max_stacks=1, max_profiles=1)
    assert sampler.sample_once() == 0  # nothing open: no stack is walked
    gate, done = threading.Event(), threading.Event()

    def request() -> None:
        spans.push(threading.get_ident(), 0xA, 0x1)
        gate.set()
        done.wait(10)
        spans.pop(threading.get_ident(), 0x1)

    worker = threading.Thread(target=request)
    worker.start()
    assert gate.wait(10)
    assert sampler.sample_once() == 1
    spans.push(12345, 0xB, 0x2)  # a thread id with no frame: skipped
    assert sampler.sample_once() == 1
    done.set()
    worker.join()
    assert spans.innermost() == [(12345, 0xB, 0x2)]
    profile = sampler.finish(0xA)
    assert profile is not None and profile.samples == 2 and len(profile.stacks) == 1
    assert sampler.finish(0xA) is None
