"""``PerformanceTimer`` in asyncio: ``async with``, ``async def`` decorated, concurrent tasks on one loop."""

from __future__ import annotations

import asyncio

import pytest

from ricecoder_otel.performance import PerformanceTimer
from ricecoder_otel.testing import Capture


@pytest.fixture
def capture() -> Capture:
    return Capture()


def test_async_with_times_the_block_as_a_span(capture: Capture) -> None:
    timer = PerformanceTimer("fetch", tracer_provider=capture.tracer_provider, meter_provider=capture.meter_provider)

    async def work() -> None:
        async with timer:
            await asyncio.sleep(0.01)

    asyncio.run(work())
    [span] = capture.spans.get_finished_spans()
    assert span.name == "fetch" and timer.last_duration_s is not None and timer.last_duration_s >= 0.01
    [(attributes, point)] = capture.metric("ricecoder.operation.duration")
    assert attributes == {"operation": "fetch"} and point.count == 1


def test_concurrent_tasks_each_end_their_own_timing(capture: Capture) -> None:
    timer = PerformanceTimer("call", tracer_provider=capture.tracer_provider, meter_provider=capture.meter_provider)

    @timer
    async def call(delay: float, fail: bool) -> float:
        await asyncio.sleep(delay)
        if fail:
            raise LookupError("gone")
        return delay

    async def main() -> list[object]:
        # The slow task starts first and ends last: a shared per-thread stack would swap their timings.
        return list(await asyncio.gather(call(0.05, False), call(0.01, True), return_exceptions=True))

    slow, failed = asyncio.run(main())
    assert slow == 0.05 and isinstance(failed, LookupError)
    spans = sorted(capture.spans.get_finished_spans(), key=lambda s: (s.end_time or 0) - (s.start_time or 0))
    fast_span, slow_span = spans
    assert (fast_span.end_time or 0) - (fast_span.start_time or 0) < 40_000_000
    assert (slow_span.end_time or 0) - (slow_span.start_time or 0) >= 50_000_000
    assert not fast_span.status.is_ok and fast_span.events[0].attributes["exception.type"] == "LookupError"  # type: ignore[index]
    assert call.__name__ == "call" and asyncio.iscoroutinefunction(call)


def test_a_sync_function_stays_sync(capture: Capture) -> None:
    timer = PerformanceTimer("sum", tracer_provider=capture.tracer_provider, meter_provider=capture.meter_provider)
    total = timer(sum)
    assert total([1, 2, 3]) == 6
    assert timer.stop() == 0.0  # nothing running in this context
