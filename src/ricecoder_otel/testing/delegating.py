"""Global OpenTelemetry providers that forward to whichever pipeline a test is running.

The OpenTelemetry API lets a process set its global providers once. Applications take their
tracers, meters and loggers from the globals, often at import time, so a fresh pipeline per
test would miss them. These providers are installed as the globals once and forward every
call to the current target; tracers, meters, instruments and loggers handed out earlier
follow the target too. With no target, everything is a no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import _logs as logs_api
from opentelemetry import metrics as metrics_api
from opentelemetry import trace as trace_api
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider


class _Target:
    """The providers calls go to now, with a generation that bumps on every switch."""

    def __init__(self) -> None:
        self.tracer_provider: trace_api.TracerProvider = trace_api.NoOpTracerProvider()
        self.meter_provider: metrics_api.MeterProvider = metrics_api.NoOpMeterProvider()
        self.logger_provider: logs_api.LoggerProvider = logs_api.NoOpLoggerProvider()
        self.generation = 0
        self.lock = threading.Lock()


_TARGET = _Target()


class _Cached:
    """Re-resolves the real object when the target has switched since the last call."""

    def __init__(self, resolve: Callable[[], Any]) -> None:
        self._resolve = resolve
        self._generation = -1
        self._real: Any = None

    def get(self) -> Any:
        if self._generation != _TARGET.generation:
            self._real = self._resolve()
            self._generation = _TARGET.generation
        return self._real


class DelegatingTracer(trace_api.Tracer):
    def __init__(self, args: tuple[Any, ...]) -> None:
        self._real = _Cached(lambda: _TARGET.tracer_provider.get_tracer(*args))

    def start_span(self, *args: Any, **kwargs: Any) -> trace_api.Span:
        span: trace_api.Span = self._real.get().start_span(*args, **kwargs)
        return span

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.get().start_as_current_span(*args, **kwargs)


class DelegatingTracerProvider(trace_api.TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> trace_api.Tracer:
        name, version, schema_url, attributes = _positional(args, kwargs, "instrumenting_module_name",
                                                            "instrumenting_library_version")
        return DelegatingTracer((name, version, schema_url, attributes))


class _DelegatingInstrument:
    """A synchronous instrument whose every call goes to the same instrument on the current meter."""

    def __init__(self, meter: DelegatingMeter, factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._real = _Cached(lambda: getattr(meter.real(), factory)(*args, **kwargs))
        self.name: str = args[0] if args else kwargs["name"]

    def add(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().add(*args, **kwargs)

    def record(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().record(*args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().set(*args, **kwargs)


class DelegatingMeter(metrics_api.Meter):
    """Creates delegating instruments; observable ones are re-created on each new target."""

    def __init__(self, args: tuple[Any, ...]) -> None:
        super().__init__(args[0], args[1], args[2])
        self._args = args
        self._real = _Cached(lambda: _TARGET.meter_provider.get_meter(*args))
        self._observables: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._observed_generation = -1

    def real(self) -> metrics_api.Meter:
        meter: metrics_api.Meter = self._real.get()
        if self._observed_generation != _TARGET.generation:
            self._observed_generation = _TARGET.generation
            for factory, args, kwargs in self._observables:
                getattr(meter, factory)(*args, **kwargs)
        return meter

    def _sync(self, factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _DelegatingInstrument(self, factory, args, kwargs)

    def _observable(self, factory: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self._observables.append((factory, args, kwargs))
        return getattr(self.real(), factory)(*args, **kwargs)

    def create_counter(self, *args: Any, **kwargs: Any) -> Any:
        return self._sync("create_counter", args, kwargs)

    def create_up_down_counter(self, *args: Any, **kwargs: Any) -> Any:
        return self._sync("create_up_down_counter", args, kwargs)

    def create_histogram(self, *args: Any, **kwargs: Any) -> Any:
        return self._sync("create_histogram", args, kwargs)

    def create_gauge(self, *args: Any, **kwargs: Any) -> Any:
        return self._sync("create_gauge", args, kwargs)

    def create_observable_counter(self, *args: Any, **kwargs: Any) -> Any:
        return self._observable("create_observable_counter", args, kwargs)

    def create_observable_up_down_counter(self, *args: Any, **kwargs: Any) -> Any:
        return self._observable("create_observable_up_down_counter", args, kwargs)

    def create_observable_gauge(self, *args: Any, **kwargs: Any) -> Any:
        return self._observable("create_observable_gauge", args, kwargs)


class DelegatingMeterProvider(metrics_api.MeterProvider):
    def get_meter(self, *args: Any, **kwargs: Any) -> metrics_api.Meter:
        return DelegatingMeter(_positional(args, kwargs, "name", "version"))


class DelegatingLogger(logs_api.Logger):
    def __init__(self, args: tuple[Any, ...]) -> None:
        super().__init__(args[0], args[1], args[2], args[3])
        self._real = _Cached(lambda: _TARGET.logger_provider.get_logger(*args))

    def emit(self, *args: Any, **kwargs: Any) -> None:
        self._real.get().emit(*args, **kwargs)

    def enabled(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._real.get().enabled(*args, **kwargs))


class DelegatingLoggerProvider(logs_api.LoggerProvider):
    def get_logger(self, *args: Any, **kwargs: Any) -> logs_api.Logger:
        return DelegatingLogger(_positional(args, kwargs, "name", "version"))


def _positional(args: Sequence[Any], kwargs: dict[str, Any], name_key: str, version_key: str) -> tuple[Any, ...]:
    """``(name, version, schema_url, attributes)`` from either calling style."""
    padded = [*args, None, None, None, None][:4]
    return (
        kwargs.get(name_key, padded[0]),
        kwargs.get(version_key, padded[1]),
        kwargs.get("schema_url", padded[2]),
        kwargs.get("attributes", padded[3]),
    )


_INSTALLED = False


def install_globals() -> None:
    """Make the delegating providers the process's global ones (once); fail clearly if others are set."""
    global _INSTALLED
    with _TARGET.lock:
        if _INSTALLED:
            return
        taken = [
            kind
            for kind, current, proxy in (
                ("tracer", trace_api.get_tracer_provider(), trace_api.ProxyTracerProvider),
                ("meter", metrics_api.get_meter_provider(), metrics_api._internal._ProxyMeterProvider),
                ("logger", logs_api.get_logger_provider(), logs_api._internal.ProxyLoggerProvider),
            )
            if not isinstance(current, proxy)
        ]
        if taken:
            raise RuntimeError(
                f"ricecoder_capture: the global OpenTelemetry {', '.join(taken)} provider was already set in this "
                "test process (by configure() or opentelemetry-instrument at import?), so telemetry recorded "
                "through the global API cannot be captured; build the pipeline inside the test instead"
            )
        trace_api.set_tracer_provider(DelegatingTracerProvider())
        metrics_api.set_meter_provider(DelegatingMeterProvider())
        logs_api.set_logger_provider(DelegatingLoggerProvider())
        _INSTALLED = True


def route_to(
    tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None, logger_provider: LoggerProvider | None
) -> None:
    """Send everything recorded through the globals to these providers (None: back to no-ops)."""
    with _TARGET.lock:
        _TARGET.tracer_provider = tracer_provider or trace_api.NoOpTracerProvider()
        _TARGET.meter_provider = meter_provider or metrics_api.NoOpMeterProvider()
        _TARGET.logger_provider = logger_provider or logs_api.NoOpLoggerProvider()
        _TARGET.generation += 1
