"""``MetricsCollector``: custom metrics with a small, forgiving API.

A thin facade over the OpenTelemetry metrics API: instruments are created once
per name and kind and cached, every label set passes the cardinality limiter,
and bad input (a non-numeric value, a name the SDK rejects) is counted and
logged once per metric instead of raising into the application.

Like the seed, it takes its config section: ``MetricsCollector(config.metrics).start()``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

from opentelemetry import metrics as metrics_api

from ricecoder_otel.config.model import MetricsConfig
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.metrics.cardinality import CardinalityLimiter

MetricKind = Literal["counter", "histogram", "gauge", "updowncounter"]
Labels = Mapping[str, str | bool | int | float]

_COMPONENT = "metrics_collector"
_DEFAULT_LIMIT = 2000
_MAX_REPORTED = 1000  # metric names whose bad values were logged; past this, only counted
_logger = logging.getLogger("ricecoder_otel")


def _own_limiter(limit: int) -> CardinalityLimiter:
    return CardinalityLimiter(
        limit,
        on_first_overflow=lambda metric, cap: report_once(
            _COMPONENT, "metric %s exceeded its cardinality limit of %d series", metric, cap
        ),
    )


class MetricsCollector:
    """Record custom metrics: ``MetricsCollector(config.metrics).start().record_metric("queue.size", 12)``.

    Recording never raises; after :meth:`shutdown` (or with ``metrics.enabled: false``) every call
    is a no-op.
    """

    def __init__(
        self,
        config: MetricsConfig | metrics_api.MeterProvider | None = None,
        *,
        meter_provider: metrics_api.MeterProvider | None = None,
        limiter: CardinalityLimiter | None = None,
        cardinality_limit: int | None = None,
        scope: str = "ricecoder_otel.custom",
    ) -> None:
        """``config`` is the ``metrics`` section; a meter provider in its place is still accepted
        (the earlier signature). The cardinality limit is, first match: ``limiter``,
        ``cardinality_limit``, the running pipeline's limiter (which follows live config changes),
        then ``config.cardinality_limit`` (2000 without a config)."""
        if config is not None and not isinstance(config, MetricsConfig):
            if not hasattr(config, "get_meter"):
                raise TypeError("MetricsCollector takes the metrics section (config.metrics) or a MeterProvider")
            meter_provider, config = meter_provider or config, None
        self._config = config
        self._meter_provider = meter_provider
        if limiter is None and cardinality_limit is not None:
            limiter = _own_limiter(cardinality_limit)
        self._limiter = limiter
        self._scope = scope
        self._meter: metrics_api.Meter | None = None
        self._instruments: dict[tuple[str, MetricKind], Any] = {}
        self._lock = threading.Lock()
        self._stopped = config is not None and not config.enabled
        self._reported: set[str] = set()  # metrics whose bad values were logged, for this collector only

    @property
    def recording(self) -> bool:
        """False after :meth:`shutdown`, or when the section says ``enabled: false``."""
        return not self._stopped

    def start(self) -> MetricsCollector:
        """Bind to the meter provider (the global one unless one was given) and the cardinality limiter."""
        with self._lock:
            self._start_locked()
        return self

    def _start_locked(self) -> None:
        if self._stopped or self._meter is not None:
            return
        provider = self._meter_provider or metrics_api.get_meter_provider()
        self._meter = provider.get_meter(self._scope)
        if self._limiter is None:
            from ricecoder_otel.pipeline import active_pipeline

            pipeline = active_pipeline()
            if pipeline is not None:
                self._limiter = pipeline.limiter
            else:
                limit = self._config.cardinality_limit if self._config is not None else _DEFAULT_LIMIT
                self._limiter = _own_limiter(limit)

    def _instrument(self, name: str, kind: MetricKind, unit: str, description: str) -> Any:
        key = (name, kind)
        instrument = self._instruments.get(key)
        if instrument is not None:
            return instrument
        with self._lock:
            instrument = self._instruments.get(key)
            if instrument is None:
                self._start_locked()
                meter = self._meter
                if meter is None:  # shut down meanwhile
                    return None
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
        if self._stopped:
            return
        try:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError("value must be finite")
            if kind == "counter" and number < 0:
                raise ValueError("a counter cannot decrease")
            instrument = self._instrument(name, kind, unit, description)
            limiter = self._limiter
            if instrument is None or limiter is None:  # shut down while this call ran
                return
            attributes = limiter.admit(name, labels)
            if kind in ("counter", "updowncounter"):
                instrument.add(number, attributes)
            elif kind == "histogram":
                instrument.record(number, attributes)
            else:
                instrument.set(number, attributes)
        except Exception as error:
            SELF_TELEMETRY.count_drop(_COMPONENT)
            self._report_bad_value(name, error)

    def _report_bad_value(self, name: object, error: Exception) -> None:
        """Log the first bad value of each metric (docs/metrics.md); later ones are only counted.

        Keyed by metric alone: keying by the error text too would log again for each new kind of
        bad value. The set is this collector's own, bounded, and never raises.
        """
        try:
            key = name if isinstance(name, str) else repr(name)
            with self._lock:
                if key in self._reported or len(self._reported) >= _MAX_REPORTED:
                    return
                self._reported.add(key)
            _logger.warning(
                "ricecoder-otel %s: dropped a value for metric %r: %s (further bad values for this metric "
                "are counted in ricecoder.self.dropped, not logged)",
                _COMPONENT,
                key,
                error,
            )
        except Exception:  # a name whose repr fails: counting already happened
            return

    def increment(self, name: str, amount: float = 1, labels: Labels | None = None, *, unit: str = "") -> None:
        self.record_metric(name, amount, labels, kind="counter", unit=unit)

    def observe(self, name: str, value: float, labels: Labels | None = None, *, unit: str = "") -> None:
        self.record_metric(name, value, labels, kind="histogram", unit=unit)

    def add(self, name: str, delta: float, labels: Labels | None = None, *, unit: str = "") -> None:
        self.record_metric(name, delta, labels, kind="updowncounter", unit=unit)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the meter provider; after shutdown a no-op that reports success."""
        if self._stopped:
            return True
        provider = self._meter_provider or metrics_api.get_meter_provider()
        flush = getattr(provider, "force_flush", None)
        return bool(flush(timeout_millis)) if flush is not None else True

    def shutdown(self) -> None:
        """Stop recording for good: later calls are no-ops. The provider belongs to the pipeline."""
        with self._lock:
            self._stopped = True
            self._instruments.clear()
            self._meter = None
