"""Bad input is captured, bounded and never raises: odd exceptions, huge traces, full queues, broken sinks."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from ricecoder_otel.errors import capture_exception
from ricecoder_otel.errors.engine import MAX_MESSAGE_CHARS, MAX_STACK_CHARS, ErrorEngine, Outcome
from ricecoder_otel.errors.intake import ErrorIntake, RawError, to_occurrence
from ricecoder_otel.errors.service import ErrorService
from ricecoder_otel.errors.store import ErrorStore
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.store import open_store
from ricecoder_otel.testing import ManualClock
from tests.unit.errors.conftest import ErrorsCapture


class StrRaises(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


def raw(exception: BaseException) -> RawError:
    return RawError(source="api", timestamp=1.0, exception=exception)


def test_an_exception_whose_str_raises() -> None:
    occurrence = to_occurrence(raw(StrRaises()))
    assert occurrence.error_type.endswith("StrRaises")
    assert occurrence.message == "<unprintable StrRaises: str() raised RuntimeError>"


def test_cyclic_and_very_long_chains_are_bounded() -> None:
    first, second = ValueError("a"), KeyError("b")
    first.__context__, second.__context__ = second, first
    cyclic = to_occurrence(raw(first))
    assert "ValueError: a" in cyclic.stack_trace

    error: BaseException = ValueError("root")
    for n in range(3000):
        nxt = RuntimeError(f"level {n}")
        nxt.__cause__ = error
        error = nxt
    chained = to_occurrence(raw(error))
    assert len(chained.stack_trace) <= MAX_STACK_CHARS + 100
    assert chained.stack_trace.rstrip().endswith("RuntimeError: level 2999")


def test_a_recursion_error_trace_is_bounded_and_keeps_its_raise_point() -> None:
    def dive(n: int) -> int:
        return dive(n + 1) + 1

    try:
        dive(0)
    except RecursionError as error:
        occurrence = to_occurrence(raw(error))
    assert len(occurrence.stack_trace) <= MAX_STACK_CHARS + 100
    assert occurrence.stack_trace.rstrip().endswith("maximum recursion depth exceeded")


def test_non_utf8_and_huge_messages_become_clean_bounded_text() -> None:
    surrogates = to_occurrence(raw(ValueError(b"\xff\xfe".decode("utf-8", "surrogateescape") * 10)))
    surrogates.message.encode("utf-8")
    surrogates.stack_trace.encode("utf-8")
    huge = to_occurrence(raw(ValueError("x" * 1_000_000)))
    assert len(huge.message) <= MAX_MESSAGE_CHARS + 100
    from_bytes = to_occurrence(RawError(source="log", timestamp=1.0, message=b"\xff".decode("latin-1") * 5))
    from_bytes.message.encode("utf-8")


def test_bad_exceptions_flow_through_the_pipeline(errors_capture: ErrorsCapture) -> None:
    for error in (StrRaises(), ValueError("\udcff\udcfe bytes"), ValueError("y" * 200_000)):
        try:
            raise error
        except Exception:
            assert capture_exception() is not None
    records = errors_capture.exception_records()
    assert len(records) == 3
    for record in records:
        for value in (record.log_record.attributes or {}).values():
            if isinstance(value, str):
                value.encode("utf-8")
                assert len(value) <= MAX_STACK_CHARS + 100


def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    release = threading.Event()
    processed: list[int] = []

    def slow(batch: list[RawError]) -> None:
        release.wait(10)
        processed.append(len(batch))

    intake = ErrorIntake(slow, max_queue=3, batch_size=1)
    assert not intake.submit(raw(ValueError()))  # not started: dropped
    intake.start()
    accepted = [intake.submit(raw(ValueError(str(n)))) for n in range(50)]
    release.set()
    assert intake.flush(10)
    intake.stop()
    assert sum(accepted) == sum(processed) and 3 <= sum(accepted) <= 4
    assert SELF_TELEMETRY.snapshot().dropped["errors"] == 1 + 50 - sum(accepted)


def test_a_failing_sink_or_store_does_not_stop_the_others(tmp_path: Path) -> None:
    delivered: list[str] = []

    def broken(outcome: Outcome) -> None:
        raise RuntimeError("sink down")

    def working(outcome: Outcome) -> None:
        delivered.append(outcome.group.id)

    (tmp_path / "dir.db").mkdir()  # a directory where the store file should be
    store = ErrorStore(open_store(str(tmp_path / "dir.db")))
    service = ErrorService(ErrorEngine(clock=ManualClock()), store=store, sinks=[broken, working])
    service.process([raw(ValueError("a")), raw(KeyError("b"))])
    assert len(delivered) == 2
    snapshot = SELF_TELEMETRY.snapshot()
    assert snapshot.errors["errors.sink"] == 2 and snapshot.errors["errors.store"] >= 1


def test_a_hook_never_raises_into_the_interpreter(errors_capture: ErrorsCapture) -> None:
    class Weird(BaseException):
        @property
        def __traceback__(self) -> None:  # type: ignore[override]
            raise RuntimeError("no traceback either")

    try:
        raise StrRaises()
    except StrRaises:
        sys.excepthook(*sys.exc_info())
    sys.excepthook(Weird, Weird(), None)
    assert len(errors_capture.exception_records()) == 2


def test_exceptions_raised_in_c_extensions_group_by_their_python_frames() -> None:
    """C functions leave no frame in the traceback: the nearest Python frames name the bug."""
    import json
    import math

    def callback_in_c(values: list[int]) -> list[int]:
        return sorted(values, key=lambda v: 1 // (v - v))  # the C sort calls back into Python, which fails

    def from_c(case: int) -> None:
        if case == 0:
            json.loads("{" + "x" * case)  # _json's C scanner
        elif case == 1:
            math.sqrt(-1 - case)
        else:
            callback_in_c([case, case + 1])

    engine = ErrorEngine(clock=ManualClock())
    groups: list[str] = []
    for case in (0, 1, 2, 0, 1, 2):
        try:
            from_c(case)
        except Exception as error:  # each case raises a different type
            occurrence = to_occurrence(raw(error))
            assert occurrence.stack_trace and occurrence.message
            outcome = engine.record(occurrence)
            assert outcome is not None
            groups.append(outcome.group.id)
    assert groups[:3] == groups[3:] and len(set(groups)) == 3
    culprits = {group.culprit for group in engine.groups()}
    assert any("lambda" in (culprit or "") for culprit in culprits)
