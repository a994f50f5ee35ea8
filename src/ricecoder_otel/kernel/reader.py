"""A periodic metric reader the pipeline controls: pausable, fork-safe, with a shutdown budget.

The SDK's ``PeriodicExportingMetricReader`` starts its thread in ``__init__`` and can only be
shut down for good, and a fork while it collects leaves the child with locks held by a
thread that no longer exists. This reader:

- starts and stops its thread on demand (a capability switched off frees its thread, and
  switched on again gets a new one), while the reader stays registered with the provider;
- holds its collection lock across ``fork()`` so the child never inherits a half-finished
  collection (the SDK's storage locks are only held inside that lock), and re-creates its
  own locks and thread in the child;
- merges the data of every registered producer (RED metrics) into each collection;
- exports with instrumentation suppressed, so the exporter's own HTTP calls are not traced.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader, MetricsData

from ricecoder_otel.kernel.capability import MetricProducer
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.transform import MetricsTransform, transform_metrics

DEFAULT_EXPORT_TIMEOUT_MS = 10_000.0


def merge_producers(
    metrics_data: MetricsData | None, reader: MetricReader, producers: Sequence[MetricProducer]
) -> MetricsData | None:
    """Collection data with every producer's data added; a failing producer is skipped and counted."""
    for producer in producers:
        try:
            metrics_data = producer.inject(metrics_data, reader) or metrics_data
        except Exception as error:  # the SDK's own metrics must still flow
            SELF_TELEMETRY.count_error("metrics.producer")
            report_once("metrics", "a metric producer failed: %s", type(error).__name__)
    return metrics_data


def with_producers(
    metrics_data: MetricsData | None,
    reader: MetricReader,
    producers: Sequence[MetricProducer],
    transforms: Sequence[MetricsTransform],
) -> MetricsData | None:
    """What a reader exports from one collection: the SDK's data, the producers' added, then transformed."""
    return transform_metrics(merge_producers(metrics_data, reader, producers) or metrics_data, transforms)


class ControlledReader(MetricReader):
    """Collects every ``interval_ms`` on its own thread while running, and exports the result."""

    def __init__(
        self,
        exporter: MetricExporter,
        interval_ms: float,
        *,
        producers: Sequence[MetricProducer] = (),
        transforms: Sequence[MetricsTransform] = (),
        timeout_ms: float = DEFAULT_EXPORT_TIMEOUT_MS,
        name: str | None = None,
    ) -> None:
        super().__init__(
            preferred_temporality=exporter._preferred_temporality,
            preferred_aggregation=exporter._preferred_aggregation,
        )
        if not 0 < interval_ms < float("inf"):
            raise ValueError(f"export interval must be a positive number of milliseconds, got {interval_ms}")
        self.exporter = exporter
        self.interval_s = interval_ms / 1000
        self.timeout_ms = timeout_ms
        self.name = name or type(exporter).__name__
        self._producers = producers
        self._transforms = transforms
        self.taps: list[MetricExporter] = []
        """Also handed each collection this reader exports (the anomaly feed): no second reader needed."""
        self._collect_lock = threading.RLock()  # re-entrant: an observable callback may itself fork
        self._export_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._paused = True  # until start(): a stopped reader collects nothing, not even on force_flush
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(
                before=lambda: _call(ref, "_before_fork"),
                after_in_parent=lambda: _call(ref, "_after_fork_in_parent"),
                after_in_child=lambda: _call(ref, "_after_fork_in_child"),
            )

    # -- running ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start collecting on a background thread (no-op when running or shut down)."""
        with self._state_lock:
            if self._closed or self.running:
                return
            self._paused = False
            self._stop_event = threading.Event()
            self._thread = threading.Thread(
                target=self._tick, args=(self._stop_event,), name=f"ricecoder-metrics-{self.name}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread (after a final collection, so nothing recorded so far is lost)."""
        with self._state_lock:
            thread, self._thread = self._thread, None
            self._stop_event.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        self._paused = True

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            self._collect_safely()
        self._collect_safely()

    def _collect_safely(self) -> None:
        try:
            self.collect(timeout_millis=self.timeout_ms)
        except Exception as error:  # a failed collection must not end the thread
            SELF_TELEMETRY.count_error(f"metrics.{self.name}")
            report_once("metrics", "metric collection for %s failed: %s", self.name, type(error).__name__)

    # -- collection and export ----------------------------------------------------------------

    def collect(self, timeout_millis: float = 10_000) -> None:  # type: ignore[misc]  # final in the SDK
        """Collect under the fork lock, add the producers' data, export outside the lock."""
        collect = self._collect
        if collect is None or self._paused:
            return
        with self._collect_lock:
            data: MetricsData | None = collect(self, timeout_millis=timeout_millis)  # type: ignore[call-arg,assignment]
        data = with_producers(data, self, self._producers, self._transforms)
        if data is not None:
            self._receive_metrics(data, timeout_millis=timeout_millis)

    def _receive_metrics(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            with self._export_lock:
                try:
                    self.exporter.export(metrics_data, timeout_millis=timeout_millis)
                except Exception as error:
                    SELF_TELEMETRY.count_error(f"metrics.{self.name}")
                    report_once("metrics", "metric export to %s failed: %s", self.name, type(error).__name__)
                for tap in self.taps:
                    try:
                        tap.export(metrics_data, timeout_millis=timeout_millis)
                    except Exception as error:
                        SELF_TELEMETRY.count_error("metrics.tap")
                        report_once("metrics", "a metric tap failed: %s", type(error).__name__)
        finally:
            detach(token)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        super().force_flush(timeout_millis=timeout_millis)
        return bool(self.exporter.force_flush(timeout_millis=timeout_millis))

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        self.stop(timeout_millis / 1000)
        try:
            self.exporter.shutdown(timeout_millis=timeout_millis)
        except Exception as error:
            report_once("metrics", "metric exporter %s failed to shut down: %s", self.name, type(error).__name__)

    # -- fork safety ------------------------------------------------------------------------

    def _before_fork(self) -> None:
        self._collect_lock.acquire()

    def _after_fork_in_parent(self) -> None:
        self._collect_lock.release()

    def _after_fork_in_child(self) -> None:
        was_running = self._thread is not None
        self._collect_lock = threading.RLock()
        self._export_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._thread = None
        if was_running and not self._closed:
            self.start()


class PullGate(MetricReader):
    """Mixin for pull readers (Prometheus): producers' data in each scrape, and an off switch.

    Built by :func:`gated_pull_reader`; while ``gate_open`` is false a scrape collects nothing.
    """

    gate_open: bool = True
    _producers: Sequence[MetricProducer] = ()
    _transforms: Sequence[MetricsTransform] = ()
    _produced = False

    def collect(self, timeout_millis: float = 10_000) -> None:  # type: ignore[misc]  # final in the SDK
        if not self.gate_open:
            return
        self._produced = False
        super().collect(timeout_millis)
        if not self._produced:
            # The SDK had nothing of its own to report, so it skipped _receive_metrics.
            data = with_producers(None, self, self._producers, self._transforms)
            if data is not None:
                super()._receive_metrics(data, timeout_millis)  # type: ignore[safe-super]

    def _receive_metrics(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        self._produced = True
        merged = with_producers(metrics_data, self, self._producers, self._transforms)
        if merged is not None:
            super()._receive_metrics(merged, timeout_millis, **kwargs)  # type: ignore[safe-super]


def gated_pull_reader(
    reader_class: type[MetricReader],
    producers: Sequence[MetricProducer],
    transforms: Sequence[MetricsTransform] = (),
    **reader_kwargs: Any,
) -> PullGate:
    """An instance of ``reader_class`` (a pull reader registered as a metrics exporter) with a gate."""

    class Gated(PullGate, reader_class):  # type: ignore[valid-type,misc]
        _producers = producers
        _transforms = transforms

    Gated.__name__ = Gated.__qualname__ = f"Gated{reader_class.__name__}"
    return Gated(**reader_kwargs)


def attach_producers(
    reader: MetricReader, producers: Sequence[MetricProducer], transforms: Sequence[MetricsTransform] = ()
) -> MetricReader:
    """A reader the caller built (an ``InMemoryMetricReader``, a Prometheus reader) gets what the
    producers publish (RED metrics) and the transforms (redaction) in every collection, as the
    pipeline's own readers do. The reader's class is untouched; only this instance is."""
    if isinstance(reader, ControlledReader | PullGate):
        return reader
    receive = reader._receive_metrics
    collect = reader.collect
    produced = False

    def receive_merged(metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        nonlocal produced
        produced = True
        merged = with_producers(metrics_data, reader, producers, transforms)
        if merged is not None:
            receive(merged, timeout_millis, **kwargs)

    def collect_merged(timeout_millis: float = 10_000) -> None:
        nonlocal produced
        produced = False
        collect(timeout_millis)
        if not produced:  # the SDK had nothing of its own and skipped _receive_metrics
            data = with_producers(None, reader, producers, transforms)
            if data is not None:
                receive(data, timeout_millis)

    reader._receive_metrics = receive_merged  # type: ignore[method-assign]
    reader.collect = collect_merged  # type: ignore[method-assign,misc]
    return reader


def _call(ref: weakref.ref[ControlledReader], method: str) -> None:
    reader = ref()
    if reader is not None:
        getattr(reader, method)()


def controlled_reader_factory(
    producers: Sequence[MetricProducer], transforms: Sequence[MetricsTransform] = ()
) -> Callable[[MetricExporter, float], ControlledReader]:
    """The ``BuildContext.make_reader`` of one pipeline: every reader shares its producers and transforms."""

    def make(exporter: MetricExporter, interval_ms: float) -> ControlledReader:
        return ControlledReader(exporter, interval_ms, producers=producers, transforms=transforms)

    return make
