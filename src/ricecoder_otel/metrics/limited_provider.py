"""A MeterProvider whose every instrument obeys the cardinality limit.

The SDK (1.45.1) keeps one series per distinct attribute set, without bound: 100,000 user ids
on a raw API counter made 100,001 series and ~300 MB. :class:`CardinalityLimitedMeterProvider`
is the SDK provider with one change, through the public API rather than a patch: ``get_meter``
returns a :class:`LimitedMeter`, whose instruments pass every attribute set through
:meth:`CardinalityLimiter.admit` (the limiter ``MetricsCollector`` and the RED metrics use, so
``metrics.cardinality_limit`` and its live changes apply everywhere). A series past the limit
is recorded on the ``otel.metric.overflow=true`` series, so totals stay right.

Observable instruments are limited too: each callback's observations are admitted, and those
past the limit are folded into one overflow observation per collection (summed for counters
and up-down counters, whose overflow is the sum of the folded series; the last one for gauges).

Hot path: one limiter lookup (a frozenset of the attributes and a set membership test) in
front of the SDK instrument's own call. A synchronous instrument that every matching view drops
(a framework's own ``http.server.request.duration``, which the RED metrics replace) is the API's
no-op instrument instead: the SDK would otherwise admit, copy and hash each measurement in every
reader's storage only to discard it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import (
    CallbackOptions,
    CallbackT,
    Counter,
    Histogram,
    Meter,
    NoOpCounter,
    NoOpHistogram,
    NoOpUpDownCounter,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    Observation,
    UpDownCounter,
    _Gauge,
    _NoOpGauge,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import DropAggregation, View
from opentelemetry.util.types import Attributes

from ricecoder_otel.metrics.cardinality import OVERFLOW_ATTRIBUTES, CardinalityLimiter

__all__ = ["CardinalityLimitedMeterProvider", "LimitedMeter"]


class CardinalityLimitedMeterProvider(MeterProvider):
    """The SDK MeterProvider, with ``limiter`` applied to every instrument its meters create.

    Takes the SDK provider's keyword arguments (``resource``, ``metric_readers``, ``views``, ...).
    """

    def __init__(self, limiter: CardinalityLimiter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limiter = limiter
        self._limited: dict[int, LimitedMeter] = {}
        self._views: tuple[View, ...] = tuple(kwargs.get("views") or ())

    def dropped(self, instrument: object) -> bool:
        """True when views match ``instrument`` and every one of them drops it (the SDK's own rule).

        Reads the SDK's private ``View._match``/``_aggregation``; if they change, nothing is dropped
        early (the views still drop it, only later)."""
        try:
            matching = [view for view in self._views if view._match(instrument)]  # type: ignore[arg-type]
            return bool(matching) and all(isinstance(view._aggregation, DropAggregation) for view in matching)
        except AttributeError:
            return False

    def get_meter(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> Meter:
        meter = super().get_meter(name, version, schema_url, attributes)
        if not _is_sdk_meter(meter):  # a no-op meter (disabled, shut down, no name) needs no limit
            return meter
        limited = self._limited.get(id(meter))
        if limited is None:
            # The SDK caches meters per scope and never frees them, so ids are stable; a race
            # here builds two equivalent wrappers, one of which wins.
            limited = self._limited.setdefault(id(meter), LimitedMeter(meter, self.limiter, self.dropped))
        return limited


def _is_sdk_meter(meter: Meter) -> bool:
    from opentelemetry.sdk.metrics import Meter as SdkMeter

    return isinstance(meter, SdkMeter)


class LimitedMeter(Meter):
    """Wraps a meter: the instruments it creates admit their attributes through ``limiter``."""

    def __init__(
        self, inner: Meter, limiter: CardinalityLimiter, dropped: Callable[[object], bool] = lambda _: False
    ) -> None:
        super().__init__(inner.name, inner.version, inner.schema_url)
        self._inner = inner
        self._limiter = limiter
        self._dropped = dropped

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    def create_counter(self, name: str, unit: str = "", description: str = "") -> Counter:
        inner = self._inner.create_counter(name, unit, description)
        if self._dropped(inner):
            return NoOpCounter(name, unit, description)
        return _LimitedCounter(inner, self._limiter, _metric(inner, name))

    def create_up_down_counter(self, name: str, unit: str = "", description: str = "") -> UpDownCounter:
        inner = self._inner.create_up_down_counter(name, unit, description)
        if self._dropped(inner):
            return NoOpUpDownCounter(name, unit, description)
        return _LimitedUpDownCounter(inner, self._limiter, _metric(inner, name))

    def create_histogram(
        self,
        name: str,
        unit: str = "",
        description: str = "",
        *,
        explicit_bucket_boundaries_advisory: Sequence[float] | None = None,
    ) -> Histogram:
        inner = self._inner.create_histogram(
            name, unit, description, explicit_bucket_boundaries_advisory=explicit_bucket_boundaries_advisory
        )
        if self._dropped(inner):
            return NoOpHistogram(name, unit, description)
        return _LimitedHistogram(inner, self._limiter, _metric(inner, name))

    def create_gauge(self, name: str, unit: str = "", description: str = "") -> _Gauge:
        inner = self._inner.create_gauge(name, unit, description)
        if self._dropped(inner):
            return _NoOpGauge(name, unit, description)
        return _LimitedGauge(inner, self._limiter, _metric(inner, name))

    def create_observable_counter(
        self, name: str, callbacks: Sequence[CallbackT] | None = None, unit: str = "", description: str = ""
    ) -> ObservableCounter:
        limited = self._callbacks(name, callbacks, fold=_sum)
        return self._inner.create_observable_counter(name, limited, unit, description)

    def create_observable_up_down_counter(
        self, name: str, callbacks: Sequence[CallbackT] | None = None, unit: str = "", description: str = ""
    ) -> ObservableUpDownCounter:
        limited = self._callbacks(name, callbacks, fold=_sum)
        return self._inner.create_observable_up_down_counter(name, limited, unit, description)

    def create_observable_gauge(
        self, name: str, callbacks: Sequence[CallbackT] | None = None, unit: str = "", description: str = ""
    ) -> ObservableGauge:
        limited = self._callbacks(name, callbacks, fold=_last)
        return self._inner.create_observable_gauge(name, limited, unit, description)

    def _callbacks(
        self, name: str, callbacks: Sequence[CallbackT] | None, fold: Callable[[float, float], float]
    ) -> list[CallbackT] | None:
        if callbacks is None:
            return None
        metric = name.lower()  # the SDK's instrument name, as the sync wrappers use
        return [_limited_callback(callback, self._limiter, metric, fold) for callback in callbacks]


def _metric(instrument: object, name: str) -> str:
    """The limiter's key: the SDK instrument's name (lower-cased, as the SDK identifies it)."""
    sdk_name = getattr(instrument, "name", None)
    return sdk_name if isinstance(sdk_name, str) else name.lower()


# synchronous instruments ---------------------------------------------------------------
# Each is an instance of the API class instrumentations expect, and forwards anything else
# (name, unit, description, ...) to the SDK instrument it wraps.
class _Forwarding:
    _inner: Any

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)


class _LimitedCounter(_Forwarding, Counter):
    def __init__(self, inner: Counter, limiter: CardinalityLimiter, metric: str) -> None:
        self._inner = inner
        self._admit = limiter.admit
        self._metric = metric

    def add(self, amount: float, attributes: Attributes = None, context: Context | None = None) -> None:
        self._inner.add(amount, self._admit(self._metric, attributes), context)


class _LimitedUpDownCounter(_Forwarding, UpDownCounter):
    def __init__(self, inner: UpDownCounter, limiter: CardinalityLimiter, metric: str) -> None:
        self._inner = inner
        self._admit = limiter.admit
        self._metric = metric

    def add(self, amount: float, attributes: Attributes = None, context: Context | None = None) -> None:
        self._inner.add(amount, self._admit(self._metric, attributes), context)


class _LimitedHistogram(_Forwarding, Histogram):
    def __init__(self, inner: Histogram, limiter: CardinalityLimiter, metric: str) -> None:
        self._inner = inner
        self._admit = limiter.admit
        self._metric = metric

    def record(self, amount: float, attributes: Attributes = None, context: Context | None = None) -> None:
        self._inner.record(amount, self._admit(self._metric, attributes), context)


class _LimitedGauge(_Forwarding, _Gauge):
    def __init__(self, inner: _Gauge, limiter: CardinalityLimiter, metric: str) -> None:
        self._inner = inner
        self._admit = limiter.admit
        self._metric = metric

    def set(self, amount: float, attributes: Attributes = None, context: Context | None = None) -> None:
        self._inner.set(amount, self._admit(self._metric, attributes), context)


# observable instruments ----------------------------------------------------------------
def _sum(total: float, value: float) -> float:
    return total + value


def _last(_previous: float, value: float) -> float:
    return value


def _limited_callback(
    callback: CallbackT, limiter: CardinalityLimiter, metric: str, fold: Callable[[float, float], float]
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    """``callback`` with its observations admitted; the overflowed ones folded into one."""
    source = _as_function(callback)

    def limited(options: CallbackOptions) -> Iterable[Observation]:
        admitted: list[Observation] = []
        overflow: float | None = None
        context: Context | None = None
        for observation in source(options):
            attributes = limiter.admit(metric, observation.attributes)
            if attributes is OVERFLOW_ATTRIBUTES:
                value = observation.value
                overflow = value if overflow is None else fold(overflow, value)
                context = observation.context
            elif attributes is observation.attributes:
                admitted.append(observation)
            else:
                admitted.append(Observation(observation.value, attributes, observation.context))
        if overflow is not None:
            admitted.append(Observation(overflow, OVERFLOW_ATTRIBUTES, context))
        return admitted

    return limited


def _as_function(callback: CallbackT) -> Callable[[CallbackOptions], Iterable[Observation]]:
    """A generator callback as the SDK drives it (primed, then ``send(options)`` per collection)."""
    if not isinstance(callback, Generator):
        return callback
    generator = callback
    next(generator)

    def drive(options: CallbackOptions) -> Iterable[Observation]:
        try:
            return generator.send(options)
        except StopIteration:
            return []

    return drive
