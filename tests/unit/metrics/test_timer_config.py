"""``PerformanceTimer`` with its config section, and after ``shutdown()``."""

from __future__ import annotations

import pytest

from ricecoder_otel import PerformanceTimer
from ricecoder_otel.config import PerformanceConfig
from ricecoder_otel.performance.timer import DURATION_METRIC
from ricecoder_otel.testing import Capture


@pytest.fixture
def capture() -> Capture:
    return Capture()


def _timer(capture: Capture, config: PerformanceConfig | None = None) -> PerformanceTimer:
    return PerformanceTimer(
        "checkout", config=config, tracer_provider=capture.tracer_provider, meter_provider=capture.meter_provider
    )


def test_an_enabled_section_times_as_before(capture: Capture) -> None:
    with _timer(capture, PerformanceConfig()) as timer:
        pass
    assert timer.recording
    assert [s.name for s in capture.spans.get_finished_spans()] == ["checkout"]
    [(_, point)] = capture.metric(DURATION_METRIC)
    assert point.count == 1


def test_a_disabled_section_measures_but_emits_nothing(capture: Capture) -> None:
    timer = _timer(capture, PerformanceConfig(enabled=False))

    @timer
    def work() -> int:
        return 7

    assert work() == 7
    assert not timer.recording
    assert timer.last_duration_s is not None
    assert capture.spans.get_finished_spans() == ()
    assert capture.metric(DURATION_METRIC) == []


def test_after_shutdown_timed_code_still_runs_and_nothing_is_emitted(capture: Capture) -> None:
    timer = _timer(capture)
    with timer:
        pass
    timer.shutdown()
    with timer:
        pass
    with pytest.raises(KeyError), timer:  # the application's own error still propagates, unchanged
        raise KeyError("x")
    timer.shutdown()
    assert len(capture.spans.get_finished_spans()) == 1
    [(_, point)] = capture.metric(DURATION_METRIC)
    assert point.count == 1


def test_a_span_open_at_shutdown_is_still_ended(capture: Capture) -> None:
    timer = _timer(capture)
    timer.start()
    timer.shutdown()
    assert timer.stop() >= 0
    assert [s.name for s in capture.spans.get_finished_spans()] == ["checkout"]
    assert capture.metric(DURATION_METRIC) == []


def test_stop_without_start_does_not_raise(capture: Capture) -> None:
    assert _timer(capture).stop() == 0.0
