"""Every error source, through the real pipeline: spans, logs, uncaught hooks, the explicit API."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import sys
import threading
from pathlib import Path
from types import TracebackType

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, format_span_id, format_trace_id

from ricecoder_otel.errors import ErrorEvent, ErrorTracker, Severity, capture_exception, track_error
from ricecoder_otel.errors.store import ErrorStore
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.store import open_store
from tests.unit.errors.conftest import ErrorsCapture

tracer = trace.get_tracer("tests.errors")
log = logging.getLogger("tests.errors")


def charge(order: int) -> None:
    raise TimeoutError(f"gateway did not answer for order {order}")


def serve(order: int, user: str) -> None:
    """A request: the error escapes two spans and is logged on the way."""
    with tracer.start_as_current_span("GET /pay") as server:
        server.set_attribute("user.id", user)
        try:
            with tracer.start_as_current_span("charge"):
                charge(order)
        except TimeoutError:
            log.exception("payment failed")
            raise


def test_one_bug_across_many_requests_is_one_group_with_a_count(errors_capture: ErrorsCapture) -> None:
    for order in range(20):
        with contextlib.suppress(TimeoutError):
            serve(order, user=f"user-{order % 4}")
    records = errors_capture.exception_records()
    [group] = errors_capture.errors.engine.groups()  # type: ignore[union-attr]
    # Seen by two spans and a log record per request, counted once per request (trace).
    assert group.count == 20 and len(records) == 20
    assert group.users == {f"user-{n}" for n in range(4)}
    assert group.release == "shop@1.0" and group.environment == "test"
    assert group.fingerprint[0] == "TimeoutError" and group.fingerprint[-1].endswith(":charge")

    # Log records follow the exception conventions and sit in the span that failed.
    spans = {s.context.span_id: s for s in errors_capture.spans()}
    for record in records:
        attrs = record.log_record.attributes
        assert attrs["exception.type"] == "TimeoutError"
        assert attrs["exception.message"].startswith("gateway did not answer for order")
        assert "in charge\n" in attrs["exception.stacktrace"]
        assert attrs["ricecoder.error.group_id"] == group.id
        assert record.log_record.severity_text == "ERROR"
        assert record.log_record.span_id in spans
        assert record.log_record.trace_id == spans[record.log_record.span_id].context.trace_id

    [(attrs, point)] = errors_capture.metric("ricecoder.errors")
    assert attrs == {"error.type": "TimeoutError", "ricecoder.error.group_id": group.id} and point.value == 20

    [new] = errors_capture.events("ricecoder.error.group")
    assert (new.log_record.attributes or {})["ricecoder.error.group.kind"] == "new"


def test_group_state_lands_in_the_store(errors_capture: ErrorsCapture, tmp_path: Path) -> None:
    for order in range(30):
        with contextlib.suppress(TimeoutError):
            serve(order, user="ann" if order % 2 else "bob")
    errors_capture.drain()
    with open_store(str(tmp_path / "telemetry.db")) as store:
        errors = ErrorStore(store)
        [stored] = errors.list_groups()
        samples = errors.samples(stored.id)
    assert (stored.count, stored.users, stored.release, stored.environment) == (30, 2, "shop@1.0", "test")
    assert 1 <= len(samples) <= 20 and all(s.trace_id and s.stack_trace for s in samples)


def test_a_log_record_with_an_exception_is_an_error_and_one_without_is_not(errors_capture: ErrorsCapture) -> None:
    log.error("plain error without a traceback")
    try:
        dict[str, int]()["missing"]
    except KeyError:
        log.error("lookup failed", exc_info=True)
    log.warning("warning with traceback", exc_info=ValueError("not an error level"))
    [record] = errors_capture.exception_records()
    assert record.log_record.attributes["exception.type"] == "KeyError"
    assert record.log_record.attributes["ricecoder.error.source"] == "log"


def test_a_span_with_error_status_and_no_exception_is_an_error(errors_capture: ErrorsCapture) -> None:
    with tracer.start_as_current_span("GET /orders") as span:
        span.set_attribute("error.type", "500")
        span.set_status(Status(StatusCode.ERROR, "upstream returned 500"))
        ids = format_trace_id(span.get_span_context().trace_id), format_span_id(span.get_span_context().span_id)
    with tracer.start_as_current_span("fine"):
        pass
    [record] = errors_capture.exception_records()
    assert record.log_record.attributes["exception.type"] == "500"
    assert record.log_record.attributes["exception.message"] == "upstream returned 500"
    assert (format_trace_id(record.log_record.trace_id), format_span_id(record.log_record.span_id)) == ids


def test_uncaught_exceptions_reach_us_and_the_previous_hooks(errors_capture: ErrorsCapture) -> None:
    calls: list[str] = []
    ours_sys, ours_thread = sys.excepthook, threading.excepthook
    errors_capture.errors.hooks.restore()  # type: ignore[union-attr]

    def previous_sys(t: type[BaseException], v: BaseException, tb: TracebackType | None) -> None:
        calls.append(f"sys:{t.__name__}")

    def previous_thread(args: threading.ExceptHookArgs) -> None:
        calls.append(f"thread:{args.exc_type.__name__}")

    saved = sys.excepthook, threading.excepthook
    sys.excepthook, threading.excepthook = previous_sys, previous_thread
    try:
        errors_capture.errors.hooks.install()  # type: ignore[union-attr]
        assert sys.excepthook is not previous_sys and threading.excepthook is not previous_thread
        try:
            raise LookupError("main thread died")
        except LookupError:
            sys.excepthook(*sys.exc_info())  # what the interpreter does for an uncaught exception

        def work() -> None:
            raise ArithmeticError("worker died")

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            seen: list[str] = []
            loop.set_exception_handler(lambda _loop, context: seen.append(context["message"]))
            errors_capture.errors.hooks.install_asyncio(loop)  # type: ignore[union-attr]
            loop.call_soon(_explode)
            for _ in range(3):
                await asyncio.sleep(0)
            assert len(seen) == 1 and seen[0].startswith("Exception in callback _explode()")

        asyncio.run(main())
        # Ctrl-C is how programs stop, not an error.
        sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    finally:
        errors_capture.errors.hooks.restore()  # type: ignore[union-attr]
        restored = sys.excepthook, threading.excepthook
        sys.excepthook, threading.excepthook = saved
    assert restored == (previous_sys, previous_thread)
    assert calls == ["sys:LookupError", "thread:ArithmeticError", "sys:KeyboardInterrupt"]
    sources = {r.log_record.attributes["exception.type"]: r.log_record.attributes["ricecoder.error.source"]
               for r in errors_capture.exception_records()}  # fmt: skip
    assert sources == {"LookupError": "excepthook", "ArithmeticError": "threading", "OSError": "asyncio"}
    assert (ours_sys, ours_thread) != saved  # they were ours while the pipeline ran


def _explode() -> None:
    raise OSError("callback failed")


class InventoryMismatch(Exception):
    pass


class QuotaExceeded(Exception):
    pass


async def _fire_and_forget(error: Exception) -> None:
    """A task whose exception nobody awaits: asyncio reports it when the task is collected."""
    task = asyncio.get_running_loop().create_task(_raise(error))
    while not task.done():
        await asyncio.sleep(0)
    del task
    gc.collect()


async def _raise(error: Exception) -> None:
    raise error


def test_loops_created_after_start_report_unhandled_task_exceptions(errors_capture: ErrorsCapture) -> None:
    app_seen: list[str] = []

    async def app() -> None:  # an application with its own loop handler, on a loop made after we started
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: app_seen.append(context["message"]))
        await _fire_and_forget(InventoryMismatch("sku 42 counted twice"))

    asyncio.run(app())
    assert app_seen == ["Task exception was never retrieved"]  # the application's handler still runs

    def worker() -> None:  # a thread with its own loop and no handler: the default one logs as before
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_fire_and_forget(QuotaExceeded("tenant 7 over quota")))
        finally:
            loop.close()

    with contextlib.redirect_stderr(io.StringIO()):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    hooked = {r.log_record.attributes["exception.type"]: r for r in errors_capture.exception_records()
              if r.log_record.attributes["ricecoder.error.source"] == "asyncio"}  # fmt: skip
    names = {name.rpartition(".")[2] for name in hooked}
    assert names == {"InventoryMismatch", "QuotaExceeded"}
    [mismatch] = [r.log_record for name, r in hooked.items() if name.endswith("InventoryMismatch")]
    assert mismatch.attributes["exception.message"] == "sku 42 counted twice"
    assert "_raise" in mismatch.attributes["exception.stacktrace"]
    assert mismatch.attributes["ricecoder.error.context.asyncio.message"] == "Task exception was never retrieved"
    # asyncio's default handler still logged the thread's error, and that log record is not a second count
    logged = [r for r in errors_capture.logs() if str(r.log_record.body).startswith("Task exception was never")]
    assert [r.log_record.attributes["exception.type"] for r in logged] == ["QuotaExceeded"]
    counts = {g.error_type.rpartition(".")[2]: g.count for g in errors_capture.errors.engine.groups()}  # type: ignore[union-attr]
    assert counts == {"InventoryMismatch": 1, "QuotaExceeded": 1}

    errors_capture.errors.stop()  # stopping restores asyncio's own method (or, under another wrapper, passes through)
    asyncio.run(app())
    assert app_seen == ["Task exception was never retrieved"] * 2  # the application's handler, and only it
    after = {g.error_type.rpartition(".")[2]: g.count for g in errors_capture.errors.engine.groups()}  # type: ignore[union-attr]
    assert after == counts  # nothing captured once stopped


def test_the_seed_api(errors_capture: ErrorsCapture) -> None:
    tracker = ErrorTracker(errors_capture.config).start()
    event = ErrorEvent(
        message="card 4242 declined for basket 99",
        error_type="PaymentDeclined",
        user_id="ann",
        session_id="s-1",
        context={"basket": 99},
        severity=Severity.WARNING,
    )
    assert tracker.track_error(event)
    with tracer.start_as_current_span("checkout") as span:
        try:
            charge(7)
        except TimeoutError:
            event_id = capture_exception(fingerprint=["payments", "timeout"])
    assert event_id is not None
    records = {r.log_record.attributes["ricecoder.error.event_id"]: r for r in errors_capture.exception_records()}
    declined = records[event.id].log_record
    assert declined.severity_text == "WARN" and declined.attributes["user.id"] == "ann"
    assert declined.attributes["session.id"] == "s-1"
    assert declined.attributes["ricecoder.error.context.basket"] == "99"
    captured = records[event_id].log_record
    assert captured.attributes["exception.type"] == "TimeoutError"
    assert captured.trace_id == span.get_span_context().trace_id
    groups = {g.fingerprint for g in errors_capture.errors.engine.groups()}  # type: ignore[union-attr]
    assert ("payments", "timeout") in groups and ("PaymentDeclined", "card <*> declined for basket <*>") in groups
    assert capture_exception() is None  # nothing being handled
    tracker.stop()
    assert not tracker.track_error(event)


def test_resolve_then_regression_is_an_event(errors_capture: ErrorsCapture) -> None:
    track_error(ErrorEvent(message="boom 1", error_type="Boom"))
    errors_capture.drain()
    [group] = errors_capture.errors.engine.groups()  # type: ignore[union-attr]
    assert ErrorTracker().start().resolve(group.id)
    track_error(ErrorEvent(message="boom 2", error_type="Boom"))
    errors_capture.drain()
    kinds = [
        (r.log_record.attributes or {})["ricecoder.error.group.kind"]
        for r in errors_capture.events("ricecoder.error.group")
    ]
    assert kinds == ["new", "regression"]


def test_without_a_running_pipeline_calls_are_counted_drops() -> None:
    assert not track_error(ErrorEvent(message="nobody listens"))
    assert SELF_TELEMETRY.snapshot().dropped["errors"] == 1


def test_switching_off_restores_hooks_and_stops_capturing(errors_capture: ErrorsCapture) -> None:
    before = sys.excepthook
    errors_capture.pipeline._switch(errors_capture.errors, False)
    assert sys.excepthook is not before
    with contextlib.suppress(TimeoutError):
        serve(1, "ann")
    assert not track_error(ErrorEvent(message="off"))
    errors_capture.pipeline._switch(errors_capture.errors, True)
    assert errors_capture.exception_records() == []


def test_the_error_metric_has_a_bounded_label_set(errors_capture: ErrorsCapture) -> None:
    for n in range(130):  # 130 bugs of 65 types
        track_error(ErrorEvent(message="x", error_type=f"Bug{n % 65}", fingerprint=[f"bug-{n}"]))
    errors_capture.drain()
    points = errors_capture.metric("ricecoder.errors")
    groups = {attrs["ricecoder.error.group_id"] for attrs, _ in points}
    types = {attrs["error.type"] for attrs, _ in points}
    assert len(groups) == 101 and "_OTHER" in groups
    assert len(types) == 51 and "_OTHER" in types
    assert sum(point.value for _, point in points) == 130
