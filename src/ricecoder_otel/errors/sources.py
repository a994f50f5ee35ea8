"""Where errors come from: spans, log records, and exceptions nobody caught.

- :class:`ErrorSpanProcessor`: every ``exception`` event on a finished span, and a span with
  error status but no exception event (``error.type`` or the status description names it).
- :class:`ErrorLogProcessor`: log records at ERROR or above that carry an exception
  (``exception.type``, as ``logger.exception(...)`` and ``exc_info=True`` produce).
- :class:`UncaughtHooks`: ``sys.excepthook``, ``threading.excepthook`` and asyncio's exception
  handling on every event loop, including loops created later (``asyncio.run``, a thread's own
  loop); each calls whatever was installed before, and :meth:`UncaughtHooks.restore` puts the
  previous ones back.

Every hook only copies references into a :class:`~ricecoder_otel.errors.intake.RawError` and
queues it: O(1) per error, shielded, nothing formatted on the application's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode, format_span_id, format_trace_id

from ricecoder_otel.errors.intake import RawError, type_name
from ricecoder_otel.errors.otel import SCOPE
from ricecoder_otel.kernel.guard import shielded
from ricecoder_otel.kernel.span_hooks import has_events, span_attributes

Submit = Callable[[RawError], bool]
_ERROR = StatusCode.ERROR  # an enum member read through its class is a descriptor call on Python 3.11
_ERROR_SEVERITY = 17  # SeverityNumber.ERROR
_USER_KEYS = ("user.id", "enduser.id")


def _ids(trace_id: int, span_id: int) -> tuple[str | None, str | None]:
    if not trace_id or not span_id:
        return None, None
    return format_trace_id(trace_id), format_span_id(span_id)


def current_ids() -> tuple[str | None, str | None]:
    """Trace and span id of the span current on this thread, if any."""
    context = trace.get_current_span().get_span_context()
    return _ids(context.trace_id, context.span_id)


class ErrorSpanProcessor:
    """Turns recorded exceptions and error statuses of finished spans into raw errors (a span hook)."""

    def __init__(self, submit: Submit) -> None:
        self.submit = submit
        self.on = False

    def end(self, span: ReadableSpan) -> None:
        """Unguarded: the pipeline calls it through the kernel's span hooks, which contain failures."""
        if not self.on:
            return
        raw: Any = span
        try:  # the SDK span's own field: ``status`` is a property call on every span's end
            failed = raw._status._status_code is _ERROR
        except AttributeError:
            failed = span.status.status_code is _ERROR
        if not failed and not has_events(span):
            return
        context = span.get_span_context()
        if context is None:
            return
        trace_id, span_id = _ids(context.trace_id, context.span_id)
        attributes = span_attributes(span)
        user = next((attributes[k] for k in _USER_KEYS if k in attributes), None)
        session = attributes.get("session.id")
        found = False
        for event in span.events:
            if event.name != "exception":
                continue
            found = True
            values = event.attributes or {}
            self.submit(
                RawError(
                    source="span",
                    timestamp=event.timestamp / 1e9,
                    error_type=str(values.get("exception.type") or "Exception"),
                    message=str(values.get("exception.message") or ""),
                    stack_trace=str(values.get("exception.stacktrace") or ""),
                    trace_id=trace_id,
                    span_id=span_id,
                    user_id=user,
                    session_id=session,
                    context={"span.name": span.name},
                )
            )
        if failed and not found:
            self.submit(
                RawError(
                    source="span.status",
                    timestamp=(span.end_time or time.time_ns()) / 1e9,
                    error_type=str(attributes.get("error.type") or "SpanError"),
                    message=span.status.description or f"{span.name} failed",
                    trace_id=trace_id,
                    span_id=span_id,
                    user_id=user,
                    session_id=session,
                    context={"span.name": span.name},
                )
            )


class ErrorLogProcessor(LogRecordProcessor):
    """Turns ERROR-or-above log records that carry an exception into raw errors."""

    def __init__(self, submit: Submit) -> None:
        self.submit = submit
        self.on = False

    @shielded("errors.logs", None)
    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        if not self.on or (record.severity_number is None or record.severity_number.value < _ERROR_SEVERITY):
            return
        attributes = record.attributes or {}
        error_type = attributes.get("exception.type")
        if error_type is None or _reported_by_asyncio_hook(str(error_type)):
            return
        scope = log_record.instrumentation_scope
        if scope is not None and scope.name == SCOPE:  # our own exception records
            return
        trace_id, span_id = _ids(record.trace_id or 0, record.span_id or 0)
        self.submit(
            RawError(
                source="log",
                timestamp=(record.timestamp or record.observed_timestamp or time.time_ns()) / 1e9,
                error_type=str(error_type),
                message=str(attributes.get("exception.message") or ""),
                stack_trace=str(attributes.get("exception.stacktrace") or ""),
                severity="critical" if record.severity_number.value >= 21 else "error",
                trace_id=trace_id,
                span_id=span_id,
                user_id=attributes.get("user.id") or attributes.get("enduser.id"),
                session_id=attributes.get("session.id"),
                context={"log.body": record.body} if isinstance(record.body, str) else None,
            )
        )

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        pass


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]
ThreadHook = Callable[[threading.ExceptHookArgs], Any]
LoopHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]
LoopCall = Callable[[asyncio.BaseEventLoop, dict[str, Any]], None]


_ASYNCIO_REPORTING = threading.local()
"""``exception``: the one the asyncio hook captured while the loop's own handler runs on this thread."""


def _reported_by_asyncio_hook(error_type: str) -> bool:
    """The loop's handler (asyncio's default logs it) is reporting an exception the hook already has."""
    exception = getattr(_ASYNCIO_REPORTING, "exception", None)
    return exception is not None and error_type in (type(exception).__name__, type_name(type(exception)))


def _skipped(exception: BaseException | None) -> bool:
    """Ctrl-C and ``sys.exit`` are how programs end, not errors."""
    return exception is None or isinstance(exception, KeyboardInterrupt | SystemExit)


class UncaughtHooks:
    """Installs the process-wide hooks for uncaught exceptions, chained to the previous ones.

    asyncio has no process-wide hook: a handler set with ``loop.set_exception_handler`` covers one
    loop, and the loops an application creates after we start (``asyncio.run``, a worker thread's
    loop) would report nothing. So ``BaseEventLoop.call_exception_handler``, which every standard
    loop calls for a task exception nobody retrieved or a failing callback, is wrapped: we see the
    context, then the original runs the handler the application set on that loop (or the default,
    which logs). Loops that are not ``BaseEventLoop`` subclasses (uvloop) get a per-loop handler
    from :meth:`install_asyncio`. Restoring puts the original method back while ours is still the
    one installed; if something wrapped it after us, ours stays in place but passes calls through.
    """

    def __init__(self, submit: Submit, clock: Callable[[], float] = time.time) -> None:
        self.submit = submit
        self.clock = clock
        self._previous_sys: ExceptHook | None = None
        self._previous_thread: ThreadHook | None = None
        self._loops: list[tuple[asyncio.AbstractEventLoop, LoopHandler | None]] = []
        self._loop_call: tuple[LoopCall, LoopCall] | None = None  # (the original, ours) while installed

    def install(self) -> None:
        """Install ``sys.excepthook``, ``threading.excepthook`` and the hook of every asyncio loop."""
        if self._previous_sys is None:
            self._previous_sys = sys.excepthook
            sys.excepthook = self._sys_hook
        if self._previous_thread is None:
            self._previous_thread = threading.excepthook
            threading.excepthook = self._thread_hook
        if self._loop_call is None:
            self._loop_call = self._wrap_loop_call()
        with contextlib.suppress(RuntimeError):  # a running loop of another kind (uvloop) needs its own handler
            self.install_asyncio(asyncio.get_running_loop())

    def _wrap_loop_call(self) -> tuple[LoopCall, LoopCall]:
        original: LoopCall = asyncio.BaseEventLoop.call_exception_handler

        def call_exception_handler(loop: asyncio.BaseEventLoop, context: dict[str, Any]) -> None:
            installed = self._loop_call
            if installed is None or installed[1] is not call_exception_handler:
                original(loop, context)
                return
            self._capture_asyncio(context)
            exception = context.get("exception") if isinstance(context, dict) else None
            if not isinstance(exception, BaseException):
                original(loop, context)
                return
            # asyncio's default handler logs it: that log record must not count the same error twice
            outer = getattr(_ASYNCIO_REPORTING, "exception", None)
            _ASYNCIO_REPORTING.exception = exception
            try:
                original(loop, context)
            finally:
                _ASYNCIO_REPORTING.exception = outer

        call_exception_handler.__doc__ = original.__doc__
        asyncio.BaseEventLoop.call_exception_handler = call_exception_handler  # type: ignore[method-assign,assignment]
        return original, call_exception_handler

    def install_asyncio(self, loop: asyncio.AbstractEventLoop) -> None:
        """Route ``loop``'s unhandled exceptions here, then to its previous handler (or the default).

        Needed only for loops that are not ``BaseEventLoop`` subclasses: standard loops are
        covered by :meth:`install`, whenever they were created."""
        if self._loop_call is not None and isinstance(loop, asyncio.BaseEventLoop):
            return
        if any(known is loop for known, _ in self._loops):
            return
        previous = loop.get_exception_handler()
        self._loops.append((loop, previous))

        def handler(current: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            self._capture_asyncio(context)
            if previous is not None:
                previous(current, context)
            else:
                current.default_exception_handler(context)

        loop.set_exception_handler(handler)

    def restore(self) -> None:
        """Put back the hooks that were installed before (only where ours is still in place)."""
        if self._previous_sys is not None:
            if sys.excepthook == self._sys_hook:
                sys.excepthook = self._previous_sys
            self._previous_sys = None
        if self._previous_thread is not None:
            if threading.excepthook == self._thread_hook:
                threading.excepthook = self._previous_thread
            self._previous_thread = None
        for loop, previous in self._loops:
            if not loop.is_closed():
                loop.set_exception_handler(previous)
        self._loops.clear()
        if self._loop_call is not None:
            original, ours = self._loop_call
            self._loop_call = None
            if vars(asyncio.BaseEventLoop).get("call_exception_handler") is ours:
                asyncio.BaseEventLoop.call_exception_handler = original  # type: ignore[method-assign,assignment]

    def _sys_hook(self, error_type: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        self._capture(value, "excepthook", "critical")
        previous = self._previous_sys or sys.__excepthook__
        previous(error_type, value, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else ""
        self._capture(args.exc_value, "threading", "error", {"thread.name": name})
        previous = self._previous_thread or threading.__excepthook__
        previous(args)

    @shielded("errors.hooks", None)
    def _capture_asyncio(self, context: dict[str, Any]) -> None:
        exception = context.get("exception")
        if isinstance(exception, BaseException):
            self._capture(exception, "asyncio", "error", {"asyncio.message": str(context.get("message", ""))})

    @shielded("errors.hooks", None)
    def _capture(
        self, exception: BaseException | None, source: str, severity: str, context: dict[str, object] | None = None
    ) -> None:
        if exception is None or _skipped(exception):
            return
        trace_id, span_id = current_ids()
        self.submit(
            RawError(
                source=source, timestamp=self.clock(), exception=exception, severity=severity,
                trace_id=trace_id, span_id=span_id, context=context,
            )
        )  # fmt: skip
