"""Keep ricecoder's failures away from the host application.

Every hook the SDK calls on the application's thread goes through
:func:`shielded`: an exception is counted in self-telemetry and logged once per
component, never raised into the request that happened to end a span.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

_logger = logging.getLogger("ricecoder_otel")
_reported: set[str] = set()
_MAX_REPORTED = 1000  # bounded: past this, problems are only counted

P = ParamSpec("P")
R = TypeVar("R")


def report_once(component: str, message: str, *args: object) -> None:
    """Log a warning the first time a component hits a given problem (same message and arguments)."""
    key = f"{component}:{message}:{args!r}"
    if key in _reported or len(_reported) >= _MAX_REPORTED:
        return
    _reported.add(key)
    _logger.warning("ricecoder-otel %s: " + message, component, *args)


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
                report_once(component, "internal error %s (further errors are counted, not logged)",
                            type(error).__name__)
                return default
            finally:
                if timed:
                    SELF_TELEMETRY.add_time(component, (time.perf_counter_ns() - started) * TIMING_SAMPLE)

        return wrapper

    return decorate
