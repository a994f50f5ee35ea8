"""The worker's pass offers the GIL to the application's threads as interpreted code would, also when
it runs compiled: it enters the interpreted ``switch_point`` every ``SWITCH_EVERY`` spans."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.switch import SWITCH_EVERY, switch_point
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.testing import RicecoderCapture


def test_a_long_pass_enters_the_switch_point_every_few_dozen_spans(ricecoder_capture: RicecoderCapture) -> None:
    capability = ricecoder_capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability) and capability.worker is not None
    worker = capability.worker
    worker.stop()
    tracer = ricecoder_capture.pipeline.tracer_provider.get_tracer("shop")
    spans = 10 * SWITCH_EVERY + 5
    for n in range(spans):
        with tracer.start_as_current_span("GET /items", kind=SpanKind.SERVER, attributes={"http.route": f"/i/{n % 3}"}):
            pass
    assert len(worker.processor.queue) == spans

    entered: list[int] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is switch_point.__code__:
            entered.append(1)

    sys.setprofile(profile)
    try:
        done = worker.process_spans()
    finally:
        sys.setprofile(None)
    assert done == spans
    assert len(entered) == spans // SWITCH_EVERY
