"""The latency engine: sliding windows on an injected clock, bounded operations, finished slots once."""

from __future__ import annotations

import dataclasses

import pytest

from ricecoder_otel.performance.engine import OTHER, LatencyEngine, Operation
from ricecoder_otel.testing.memory import ManualClock

ORDERS = Operation("server", "GET /orders")


def test_the_window_slides_one_slot_at_a_time() -> None:
    clock = ManualClock(0.0)
    engine = LatencyEngine(window_s=60, slots=6, clock=clock)
    for _ in range(10):
        engine.record(ORDERS, 1.0)  # slot [0, 10)
    clock.advance(30)
    for _ in range(10):
        engine.record(ORDERS, 0.1)  # slot [30, 40)
    assert engine.summary(ORDERS).count == 20
    assert engine.summary(ORDERS, window_s=10).max == pytest.approx(0.1)
    clock.advance(29.9)  # now 59.9: the first slot is still in the window
    assert engine.summary(ORDERS).max == 1.0
    clock.advance(0.1)  # 60: it left
    assert engine.summary(ORDERS).count == 10 and engine.summary(ORDERS).max == pytest.approx(0.1)


def test_each_finished_slot_is_handed_out_once() -> None:
    clock = ManualClock(0.0)
    engine = LatencyEngine(window_s=60, slots=6, clock=clock)
    engine.record(ORDERS, 0.2)
    assert list(engine.completed()) == []
    clock.advance(10)
    engine.record(ORDERS, 0.3)
    [slot] = engine.completed()
    assert (slot.start, slot.end, slot.histogram.count) == (0.0, 10.0, 1)
    assert list(engine.completed()) == []
    [current] = engine.completed(include_current=True)
    assert current.start == 10.0 and current.histogram.max == pytest.approx(0.3)


def test_operations_are_bounded_and_the_rest_share_other() -> None:
    engine = LatencyEngine(max_operations=2, clock=ManualClock())
    for n in range(5):
        engine.record(Operation("server", f"GET /r{n}"), 0.1)
    assert engine.operations() == [Operation("server", "GET /r0"), Operation("server", "GET /r1"),
                                   Operation("server", OTHER)]  # fmt: skip
    assert engine.summary(Operation("server", OTHER)).count == 3 and engine.overflowed == 3


def test_quiet_operations_expire_after_their_slots_were_handed_out() -> None:
    clock = ManualClock(0.0)
    engine = LatencyEngine(window_s=60, slots=6, clock=clock)
    engine.record(ORDERS, 0.1)
    clock.advance(120)
    engine.expire()
    assert engine.operations() == [ORDERS]  # its slot was not stored yet
    assert len(list(engine.completed())) == 1
    engine.expire()
    assert engine.operations() == []


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        LatencyEngine(window_s=0)


def test_durations_recorded_together_keep_what_record_would_have_kept() -> None:
    durations = [(Operation("server", f"GET /r{n % 4}"), 0.01 * (n % 7 + 1)) for n in range(40)]
    one_by_one = LatencyEngine(max_operations=2, clock=ManualClock(5.0))
    batched = LatencyEngine(max_operations=2, clock=ManualClock(5.0))
    by_operation: dict[Operation, list[float]] = {}
    for operation, seconds in durations:
        one_by_one.record(operation, seconds, now=5.0)
        by_operation.setdefault(operation, []).append(seconds)
    batched.record_durations(by_operation, 5.0)
    assert batched.operations() == one_by_one.operations()  # two operations and OTHER
    for operation in one_by_one.operations():
        together, alone = batched.summary(operation), one_by_one.summary(operation)
        assert together.sum == pytest.approx(alone.sum, rel=1e-12)
        assert dataclasses.replace(together, sum=alone.sum) == alone
    assert batched.overflowed == one_by_one.overflowed == 20  # every duration past the bound is counted
