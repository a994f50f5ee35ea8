"""Publish :mod:`ricecoder_otel.kernel.selftelemetry` as ``ricecoder.self.*`` metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from ricecoder_otel._version import __version__
from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.names import (
    SELF_DROPPED,
    SELF_ERRORS,
    SELF_PROCESSOR_TIME,
    SELF_QUEUE_DEPTH,
    unit_and_description,
)
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY, SelfTelemetry
from ricecoder_otel.store.exporters import dropped_totals


def install_self_metrics(
    meter: Meter, source: SelfTelemetry = SELF_TELEMETRY, *, enabled: Callable[[], bool] = lambda: True
) -> None:
    """Create the ``ricecoder.self.*`` instruments; they observe nothing while ``enabled()`` is false."""

    def queue_depth(_: CallbackOptions) -> Iterable[Observation]:
        if not enabled():
            return []
        return [Observation(v, {"queue": k}) for k, v in source.snapshot().queue_depth.items()]

    def dropped(_: CallbackOptions) -> Iterable[Observation]:
        if not enabled():
            return []
        counts = dict(source.snapshot().dropped)
        counts.update({f"store.{signal}": n for signal, n in dropped_totals().items()})
        return [Observation(v, {"component": k}) for k, v in counts.items()]

    def errors(_: CallbackOptions) -> Iterable[Observation]:
        if not enabled():
            return []
        return [Observation(v, {"component": k}) for k, v in source.snapshot().errors.items()]

    def processor_time(_: CallbackOptions) -> Iterable[Observation]:
        if not enabled():
            return []
        return [Observation(v / 1e9, {"component": k}) for k, v in source.snapshot().processor_time_ns.items()]

    meter.create_observable_gauge(
        SELF_QUEUE_DEPTH,
        [queue_depth],
        **unit_and_description(SELF_QUEUE_DEPTH),
    )
    meter.create_observable_counter(
        SELF_DROPPED, [dropped], **unit_and_description(SELF_DROPPED)
    )
    meter.create_observable_counter(
        SELF_ERRORS, [errors], **unit_and_description(SELF_ERRORS)
    )
    meter.create_observable_counter(
        SELF_PROCESSOR_TIME,
        [processor_time],
        **unit_and_description(SELF_PROCESSOR_TIME),
    )


class SelfTelemetryCapability(Capability):
    """ricecoder's own drops, errors, time and queue depths as metrics; on with the master switch."""

    name = "self_telemetry"

    def __init__(self) -> None:
        self.running = False

    def install(self, context: InstallContext) -> None:
        meter = context.meter_provider.get_meter("ricecoder_otel.self", __version__)
        install_self_metrics(meter, context.self_telemetry, enabled=lambda: self.running)

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False
