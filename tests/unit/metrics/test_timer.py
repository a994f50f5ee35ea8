import threading
import time

import pytest

from ricecoder_otel import PerformanceTimer
from ricecoder_otel.performance.timer import DURATION_METRIC
from ricecoder_otel.testing import Capture


@pytest.fixture
def capture() -> Capture:
    return Capture()


def _timer(capture: Capture, name: str) -> PerformanceTimer:
    return PerformanceTimer(name, tracer_provider=capture.tracer_provider, meter_provider=capture.meter_provider)


def test_context_manager_records_a_span_and_a_histogram_sample(capture: Capture) -> None:
    with _timer(capture, "checkout") as timer:
        time.sleep(0.01)
    assert timer.last_duration_s is not None and timer.last_duration_s >= 0.01
    [span] = capture.spans.get_finished_spans()
    assert span.name == "checkout" and span.attributes["operation"] == "checkout"
    [(attrs, point)] = capture.metric(DURATION_METRIC)
    assert attrs == {"operation": "checkout"} and point.count == 1 and point.sum >= 0.01


def test_decorator_is_thread_safe_and_marks_errors(capture: Capture) -> None:
    timer = _timer(capture, "work")

    @timer
    def work(fail: bool) -> int:
        time.sleep(0.001)
        if fail:
            raise ValueError("bad")
        return 1

    threads = [threading.Thread(target=work, args=(False,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with pytest.raises(ValueError):
        work(True)
    spans = capture.spans.get_finished_spans()
    assert len(spans) == 9
    assert sum(1 for s in spans if not s.status.is_ok) == 1
    by_error = {a.get("error.type"): p.count for a, p in capture.metric(DURATION_METRIC)}
    assert by_error == {None: 8, "ValueError": 1}
