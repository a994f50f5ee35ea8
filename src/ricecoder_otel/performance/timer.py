"""``PerformanceTimer``: time a block or a function as a span and a histogram.

It works in threads and in asyncio tasks alike (``async with PerformanceTimer("x"):`` and on
``async def`` functions): running timings are kept in a context variable, so concurrent tasks on
one event loop each end their own timing.

It may be given the ``performance`` section (``PerformanceTimer("checkout", config=config.performance)``):
with ``enabled: false`` it still measures ``last_duration_s`` but emits nothing. After
:meth:`PerformanceTimer.shutdown` it keeps timing the code it wraps and emits nothing either, so a
decorated function never fails because monitoring stopped.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from opentelemetry import metrics as metrics_api
from opentelemetry import trace as trace_api

from ricecoder_otel.kernel import names

if TYPE_CHECKING:
    from ricecoder_otel.config.model import PerformanceConfig

P = ParamSpec("P")
R = TypeVar("R")

DURATION_METRIC = names.OPERATION_DURATION

_Running = tuple[tuple["PerformanceTimer", float, Any], ...]
_RUNNING: contextvars.ContextVar[_Running] = contextvars.ContextVar("ricecoder_running_timers", default=())
"""Timings in progress in this thread or task, innermost last (one variable for every timer)."""


class PerformanceTimer:
    """Times an operation: ``with PerformanceTimer("checkout"):`` or ``@PerformanceTimer("checkout")``.

    Each run becomes an INTERNAL span named after the operation (so bottleneck
    analysis sees it inside the request trace) and one sample of the
    ``ricecoder.operation.duration`` histogram (seconds) labelled ``operation``.
    """

    def __init__(
        self,
        name: str,
        labels: Mapping[str, str | int | float | bool] | None = None,
        *,
        config: PerformanceConfig | None = None,
        tracer_provider: trace_api.TracerProvider | None = None,
        meter_provider: metrics_api.MeterProvider | None = None,
    ) -> None:
        self.name = name
        self._emitting = config is None or config.enabled
        self._attributes = {"operation": name, **(labels or {})}
        tracer = (tracer_provider or trace_api.get_tracer_provider()).get_tracer("ricecoder_otel.performance")
        meter = (meter_provider or metrics_api.get_meter_provider()).get_meter("ricecoder_otel.performance")
        self._tracer = tracer
        known = names.known(DURATION_METRIC)
        self._histogram = meter.create_histogram(DURATION_METRIC, unit=known.unit, description=known.description)
        self.last_duration_s: float | None = None

    @property
    def recording(self) -> bool:
        """False after :meth:`shutdown`, or when the section says ``enabled: false``."""
        return self._emitting

    def start(self) -> PerformanceTimer:
        """Start timing (and a span, while recording); pair with :meth:`stop`."""
        span_cm = None
        if self._emitting:
            span_cm = self._tracer.start_as_current_span(self.name, attributes=self._attributes)
            span_cm.__enter__()
        _RUNNING.set((*_RUNNING.get(), (self, time.perf_counter(), span_cm)))
        return self

    def stop(self, error: BaseException | None = None) -> float:
        """Stop this timer's innermost timing in this thread or task; its seconds (0.0 if none is running)."""
        running = _RUNNING.get()
        for depth in range(len(running) - 1, -1, -1):
            if running[depth][0] is self:
                break
        else:
            return 0.0
        _, started, span_cm = running[depth]
        _RUNNING.set(running[:depth] + running[depth + 1 :])
        elapsed = time.perf_counter() - started
        attributes = dict(self._attributes)
        if error is not None:
            attributes["error.type"] = type(error).__qualname__
        if self._emitting:
            self._histogram.record(elapsed, attributes)
        if span_cm is not None:  # a span started before shutdown is still ended
            if error is not None:
                span_cm.__exit__(type(error), error, error.__traceback__)
            else:
                span_cm.__exit__(None, None, None)
        self.last_duration_s = elapsed
        return elapsed

    def __enter__(self) -> PerformanceTimer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(exc)

    async def __aenter__(self) -> PerformanceTimer:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(exc)

    @overload
    def __call__(self, func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...

    @overload
    def __call__(self, func: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, func: Callable[P, Any]) -> Callable[P, Any]:
        """Decorate a function; an ``async def`` function is timed from its first step to its return."""
        if inspect.iscoroutinefunction(func):
            coroutine_function: Callable[P, Awaitable[Any]] = func

            @functools.wraps(func)
            async def timed_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                async with self:
                    return await coroutine_function(*args, **kwargs)

            return timed_async

        @functools.wraps(func)
        def timed(*args: P.args, **kwargs: P.kwargs) -> Any:
            with self:
                return func(*args, **kwargs)

        return timed

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        """Stop emitting spans and samples; timed code keeps running and is still measured."""
        self._emitting = False
