"""Keep ricecoder's failures away from the host application.

Every hook the SDK calls on the application's thread goes through
:func:`shielded`: an exception is counted in self-telemetry and logged once per
component, never raised into the request that happened to end a span.

ricecoder's own warnings (the store is broken, a config reload was rejected) go to the
``ricecoder_otel`` logger. They propagate to the root logger, where OpenTelemetry's
LoggingHandler sends them down the log pipeline, and the pipeline may be the broken
part. So the ``ricecoder_otel`` logger also has one handler of its own,
:data:`STDERR_HANDLER`, that prints warnings and errors to ``sys.stderr`` (as
``ricecoder-otel: WARNING ...``) unless a handler above it already prints them to the
console, so each appears there once. Remove it to silence the console copy::

    logging.getLogger("ricecoder_otel").removeHandler(guard.STDERR_HANDLER)
"""

from __future__ import annotations

import functools
import itertools
import logging
import sys
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

_logger = logging.getLogger("ricecoder_otel")
_reported: set[str] = set()
_MAX_REPORTED = 1000  # bounded: past this, problems are only counted

STDERR_FORMAT = "ricecoder-otel: %(levelname)s %(message)s"
_CONSOLE_STREAMS = ("stderr", "stdout")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Prints to whatever ``sys.stderr`` is when the record comes (tests and daemons swap it).

    Records another handler on the way to the root logger already prints to the console
    are skipped, so an application that set up console logging sees each warning once.
    """

    ricecoder_stderr = True  # how install_stderr_handler recognises an earlier copy

    def __init__(self) -> None:
        super().__init__()
        self.setLevel(logging.WARNING)
        self.setFormatter(logging.Formatter(STDERR_FORMAT))

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:  # StreamHandler.__init__ assigns it; always stderr
        pass

    def filter(self, record: logging.LogRecord) -> bool:
        return super().filter(record) and not _printed_elsewhere(record)


def _is_console(handler: logging.Handler) -> bool:
    if getattr(handler, "ricecoder_stderr", False) or not isinstance(handler, logging.StreamHandler):
        return False
    if isinstance(handler, logging.FileHandler):
        return False
    stream = handler.stream
    return any(stream is getattr(sys, name) or stream is getattr(sys, f"__{name}__") for name in _CONSOLE_STREAMS)


def _printed_elsewhere(record: logging.LogRecord) -> bool:
    """True if a console handler between the record's logger and the root will print it."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        if any(_is_console(h) and record.levelno >= h.level for h in logger.handlers):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


def install_stderr_handler() -> logging.Handler:
    """Attach the stderr handler to the ``ricecoder_otel`` logger once; return the one attached."""
    for handler in _logger.handlers:
        if getattr(handler, "ricecoder_stderr", False):
            return handler
    handler = _StderrHandler()
    _logger.addHandler(handler)
    return handler


STDERR_HANDLER = install_stderr_handler()

P = ParamSpec("P")
R = TypeVar("R")


def report_once(component: str, message: str, *args: object) -> None:
    """Log a warning the first time a component hits a given problem (same message and arguments)."""
    key = f"{component}:{message}:{args!r}"
    if key in _reported or len(_reported) >= _MAX_REPORTED:
        return
    _reported.add(key)
    _logger.warning("ricecoder-otel %s: " + message, component, *args)


def reset_reports() -> None:
    """Forget which problems were reported, so the next occurrence is logged again (tests)."""
    _reported.clear()


TIMING_SAMPLE = 16  # time one call in this many and scale: timing every call costs more than some hooks


def shielded(component: str, default: R) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the wrapped hook; on error count it, log once, return ``default``.

    The time spent is sampled (one call in ``TIMING_SAMPLE``) and scaled up.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        calls = itertools.count()

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            timed = next(calls) % TIMING_SAMPLE == 0
            started = time.perf_counter_ns() if timed else 0
            try:
                return func(*args, **kwargs)
            except Exception as error:
                SELF_TELEMETRY.count_error(component)
                report_once(
                    component, "internal error %s (further errors are counted, not logged)", type(error).__name__
                )
                return default
            finally:
                if timed:
                    SELF_TELEMETRY.add_time(component, (time.perf_counter_ns() - started) * TIMING_SAMPLE)

        return wrapper

    return decorate
