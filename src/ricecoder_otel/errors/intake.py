"""The hand-off from the application's threads to the error worker.

Every source (span processor, log processor, excepthooks, the explicit API) builds a
:class:`RawError` and calls :meth:`ErrorIntake.submit`: O(1), never blocks, never raises. A full
queue drops the error and counts it (``ricecoder.self.dropped{component="errors"}``). One worker
thread turns raw errors into bounded :class:`~ricecoder_otel.errors.engine.Occurrence` objects
(formatting tracebacks, calling ``__str__``, trimming huge or non-UTF-8 text) and hands batches
to the processing function, so none of that work runs on a request thread.

Plain Python: no OpenTelemetry imports.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ricecoder_otel.errors.engine import (
    MAX_MESSAGE_CHARS,
    MAX_STACK_CHARS,
    Occurrence,
    clean_context,
    clean_optional,
    clean_text,
)
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY, SelfTelemetry

COMPONENT = "errors"
DEFAULT_QUEUE_SIZE = 10_000
BATCH_SIZE = 500


@dataclass(slots=True)
class RawError:
    """An error as a source saw it; text fields may be huge or unclean, ``exception`` unformatted."""

    source: str
    timestamp: float
    error_type: str | None = None
    message: str | None = None
    stack_trace: str | None = None
    exception: BaseException | None = None
    severity: str = "error"
    trace_id: str | None = None
    span_id: str | None = None
    user_id: object = None
    session_id: object = None
    context: Mapping[str, object] | None = None
    fingerprint: Sequence[str] | None = None
    event_id: str | None = None


def type_name(error_type: type[BaseException]) -> str:
    """``module.Qualname`` as OpenTelemetry's ``record_exception`` writes it (bare for builtins)."""
    module = getattr(error_type, "__module__", None)
    qualname = getattr(error_type, "__qualname__", None) or getattr(error_type, "__name__", "Exception")
    return f"{module}.{qualname}" if module and module != "builtins" else str(qualname)


def safe_str(exception: BaseException) -> str:
    """``str(exception)``, or a description of why it could not be had (``__str__`` raised)."""
    try:
        text = str(exception)
    except BaseException as error:  # a user's __str__ may raise anything, even SystemExit
        return f"<unprintable {type(exception).__name__}: str() raised {type(error).__name__}>"
    return text if isinstance(text, str) else repr(text)


def format_stack(exception: BaseException) -> str:
    """The traceback text (with its chain; cycles are cut by ``traceback``), or a note why not."""
    try:
        return "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
    except BaseException as error:
        return f"<traceback unavailable: {type(error).__name__}>"


def to_occurrence(raw: RawError) -> Occurrence:
    """Bounded, UTF-8-clean text for one raw error; runs on the worker thread."""
    error_type, message, stack = raw.error_type, raw.message, raw.stack_trace
    if raw.exception is not None:
        error_type = error_type or type_name(type(raw.exception))
        message = message if message is not None else safe_str(raw.exception)
        stack = stack or format_stack(raw.exception)
    fingerprint = tuple(clean_text(str(p), MAX_MESSAGE_CHARS) for p in raw.fingerprint) if raw.fingerprint else None
    return Occurrence(
        event_id=raw.event_id or str(uuid.uuid4()),
        error_type=clean_text(error_type or "Error", 256),
        message=clean_text(message or "", MAX_MESSAGE_CHARS),
        stack_trace=clean_text(stack or "", MAX_STACK_CHARS),
        timestamp=raw.timestamp,
        severity=raw.severity,
        source=raw.source,
        trace_id=raw.trace_id,
        span_id=raw.span_id,
        user_id=clean_optional(raw.user_id),
        session_id=clean_optional(raw.session_id),
        context=clean_context(raw.context),
        fingerprint=fingerprint,
    )


Process = Callable[[list[RawError]], None]


class ErrorIntake:
    """A bounded queue and one worker thread that hands batches of raw errors to ``process``."""

    def __init__(
        self,
        process: Process,
        *,
        max_queue: int = DEFAULT_QUEUE_SIZE,
        batch_size: int = BATCH_SIZE,
        self_telemetry: SelfTelemetry = SELF_TELEMETRY,
    ) -> None:
        self._process = process
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._telemetry = self_telemetry
        self._queue: deque[RawError] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._running = False
        self._worker: threading.Thread | None = None
        self._pid = os.getpid()
        self._telemetry.register_queue(COMPONENT, lambda: len(self._queue))
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self.after_fork)
            os.register_at_fork(after_in_child=lambda: (m := ref()) and m())

    def submit(self, raw: RawError) -> bool:
        """Queue ``raw``; O(1), never blocks or raises. False (and counted) when dropped."""
        try:
            with self._lock:
                if not self._running or len(self._queue) >= self._max_queue:
                    self._telemetry.count_drop(COMPONENT)
                    return False
                self._queue.append(raw)
                self._wake.notify()
            return True
        except Exception:  # pragma: no cover - defensive: a source must never hurt its caller
            self._telemetry.count_error(f"{COMPONENT}.submit")
            return False

    def start(self) -> None:
        with self._lock:
            self._running = True
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="ricecoder-errors", daemon=True)
                self._worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Process what is queued (within ``timeout``), then stop the worker; the rest is counted as dropped."""
        self.flush(timeout)
        with self._lock:
            self._running = False
            left = len(self._queue)
            self._queue.clear()
            self._wake.notify_all()
        if left:
            self._telemetry.count_drop(COMPONENT, left)
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
        self._worker = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is processed; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._worker is None or not self._worker.is_alive():
                    return not (self._queue or self._busy)
                self._idle.wait(remaining)
        return True

    def after_fork(self) -> None:
        """The worker does not survive ``fork()``: fresh locks, and a new worker if it was running.

        Idempotent in each process: both its own fork hook and the pipeline's (through the
        capability) call it, and the second call must not start a second worker."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._queue.clear()
        self._worker = None
        if self._running:
            self.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and self._running:
                    self._busy = False
                    self._idle.notify_all()
                    self._wake.wait()
                if not self._queue:
                    self._busy = False
                    self._idle.notify_all()
                    return
                batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
                self._busy = True
            try:
                self._process(batch)
            except Exception as error:  # the worker must survive any bug in processing
                self._telemetry.count_error(COMPONENT)
                report_once(COMPONENT, "processing a batch of errors failed: %s", type(error).__name__)
