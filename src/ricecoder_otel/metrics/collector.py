"""``MetricsCollector``: custom metrics with a small, forgiving API.

A thin facade over the OpenTelemetry metrics API: instruments are created once
per name and kind and cached, every label set passes the cardinality limiter,
and bad input (a non-numeric value, a name the SDK rejects) is counted and
reported once instead of raising into the application.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

from opentelemetry import metrics as metrics_api

from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.metrics.cardinality import CardinalityLimiter

MetricKind = Literal["counter", "histogram", "gauge", "updowncounter"]
Labels = Mapping[str, str | bool | int | float]

_COMPONENT = "metrics_collector"


def _own_limiter(limit: int) -> CardinalityLimiter:
    return CardinalityLimiter(
        limit,
        on_first_overflow=lambda metric, cap: report_once(
            _COMPONENT, "metric %s exceeded its cardinality limit of %d series", metric, cap
        ),
    )


class MetricsCollector:
    """Record custom metrics: ``collector.record_metric("queue.size", 12, {"queue": "mail"})``."""

    def __init__(
        self,
        meter_provider: metrics_api.MeterProvider | None = None,
        *,
        limiter: CardinalityLimiter | None = None,
        cardinality_limit: int | None = None,
        scope: str = "ricecoder_otel.custom",
    ) -> None:
        """Without ``limiter`` or ``cardinality_limit``, the running pipeline's limiter is used, so
        ``metrics.cardinality_limit`` (and its live changes) applies; with no pipeline, 2000."""
        self._meter_provider = meter_provider
        if limiter is None and cardinality_limit is not None:
            limiter = _own_limiter(cardinality_limit)
        self._limiter = limiter
        self._scope = scope
        self._meter: metrics_api.Meter | None = None
        self._instruments: dict[tuple[str, MetricKind], Any] = {}
        self._lock = threading.Lock()

    def start(self) -> MetricsCollector:
        """Bind to the meter provider (the global one unless one was given) and the cardinality limiter."""
        provider = self._meter_provider or metrics_api.get_meter_provider()
        self._meter = provider.get_meter(self._scope)
        if self._limiter is None:
            from ricecoder_otel.pipeline import active_pipeline

            pipeline = active_pipeline()
            self._limiter = pipeline.limiter if pipeline is not None else _own_limiter(2000)
        return self

    def _instrument(self, name: str, kind: MetricKind, unit: str, description: str) -> Any:
        key = (name, kind)
        instrument = self._instruments.get(key)
        if instrument is not None:
            return instrument
        with self._lock:
            instrument = self._instruments.get(key)
            if instrument is None:
                if self._meter is None:
                    self.start()
                meter = self._meter
                assert meter is not None
                factories: dict[str, Callable[..., Any]] = {
                    "counter": meter.create_counter,
                    "histogram": meter.create_histogram,
                    "gauge": meter.create_gauge,
                    "updowncounter": meter.create_up_down_counter,
                }
                create = factories[kind]
                instrument = create(name, unit=unit, description=description)
                self._instruments[key] = instrument
        return instrument

    def record_metric(
        self,
        name: str,
        value: float,
        labels: Labels | None = None,
        *,
        kind: MetricKind = "gauge",
        unit: str = "",
        description: str = "",
    ) -> None:
        """Record ``value`` for metric ``name``; never raises.

        ``kind`` picks the instrument: ``gauge`` (last value, the default),
        ``counter`` (monotonic sum), ``updowncounter`` (sum that may go down) or
        ``histogram`` (distribution).
        """
        try:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError("value must be finite")
            if kind == "counter" and number < 0:
                raise ValueError("a counter cannot decrease")
            instrument = self._instrument(name, kind, unit, description)
            assert self._limiter is not None  # bound by start(), which _instrument ensures
            attributes = self._limiter.admit(name, labels)
            if kind in ("counter", "updowncounter"):
                instrument.add(number, attributes)
            elif kind == "histogram":
                instrument.record(number, attributes)
            else:
                instrument.set(number, attributes)
        except Exception as error:
            SELF_TELEMETRY.count_drop(_COMPONENT)
            report_once(_COMPONENT, "dropped a value for metric %r: %s", name, error)

    def increment(self, name: str, amount: float = 1, labels: Labels | None = None, *, unit: str = "") -> None:
        self.record_metric(name, amount, labels, kind="counter", unit=unit)

    def observe(self, name: str, value: float, labels: Labels | None = None, *, unit: str = "") -> None:
        self.record_metric(name, value, labels, kind="histogram", unit=unit)

    def add(self, name: str, delta: float, labels: Labels | None = None, *, unit: str = "") -> None:
        self.record_metric(name, delta, labels, kind="updowncounter", unit=unit)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        provider = self._meter_provider or metrics_api.get_meter_provider()
        flush = getattr(provider, "force_flush", None)
        return bool(flush(timeout_millis)) if flush is not None else True

    def shutdown(self) -> None:
        """Stop recording; the provider itself belongs to the pipeline."""
        self._instruments.clear()
        self._meter = None
