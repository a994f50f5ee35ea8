"""The alert reader collects only the streams the rules read: same values as a full collection,
no other observable callback runs, and a full collection when the SDK's internals are unknown."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import View

from ricecoder_otel.alerting.otel import AlertReader, snapshot

WANTED = {"orders.count", "queue.depth", "latency", "temp.celsius", "bytes.out", "renamed.level", "level.delta"}


def provider() -> tuple[MeterProvider, AlertReader, list[str]]:
    reader = AlertReader(())
    views = [View(instrument_name="level", name="renamed.level")]
    mp = MeterProvider(metric_readers=[reader], views=views)
    meter = mp.get_meter("shop")
    calls: list[str] = []

    def observe(name: str, value: float) -> object:
        def callback(options: CallbackOptions) -> Iterable[Observation]:
            calls.append(name)
            return [Observation(value, {"host": "a"})]

        return callback

    meter.create_counter("orders.count").add(3, {"route": "/orders"})
    meter.create_up_down_counter("queue.depth").add(-2, {"queue": "mail"})
    latency = meter.create_histogram("latency", unit="s")
    for v in (0.01, 0.2, 3.0):
        latency.record(v, {"route": "/orders"})
    meter.create_gauge("level").set(7.5, {"trial": "t1"})
    meter.create_observable_gauge("temp.celsius", [observe("temp.celsius", 21.5)])  # type: ignore[list-item]
    meter.create_observable_counter("bytes.out", [observe("bytes.out", 4096)])  # type: ignore[list-item]
    meter.create_observable_up_down_counter("level.delta", [observe("level.delta", -1)])  # type: ignore[list-item]
    meter.create_observable_gauge("system.network.connections", [observe("unwanted", 1)])  # type: ignore[list-item]
    meter.create_counter("other.count").add(1)
    return mp, reader, calls


def test_a_targeted_read_has_the_values_of_a_full_collection_and_runs_only_wanted_callbacks() -> None:
    mp, reader, calls = provider()
    try:
        full = snapshot(reader.read(None), WANTED)
        assert "unwanted" in calls
        calls.clear()
        targeted = snapshot(reader.read(WANTED), WANTED)
        assert sorted(calls) == ["bytes.out", "level.delta", "temp.celsius"]  # not the unwanted callback
        assert targeted == full
        assert set(targeted) == WANTED  # the view's name, not the instrument's
        assert targeted["orders.count"].kind == "counter" and targeted["queue.depth"].kind == "gauge"
        assert targeted["bytes.out"].kind == "counter" and targeted["level.delta"].kind == "gauge"
        assert targeted["renamed.level"].series == {(("trial", "t1"),): 7.5}
        hist = targeted["latency"].series[(("route", "/orders"),)]
        assert not isinstance(hist, float) and hist.count == 3.0
        assert snapshot(reader.read({"orders.count"}), WANTED).keys() == {"orders.count"}
        assert reader.read({"no.such.metric"}) is None
    finally:
        mp.shutdown()


def test_cumulative_values_keep_growing_across_targeted_reads() -> None:
    mp, reader, _ = provider()
    try:
        reader.read({"orders.count"})
        mp.get_meter("shop").create_counter("orders.count").add(2, {"route": "/orders"})
        assert snapshot(reader.read({"orders.count"}), WANTED)["orders.count"].series == {(("route", "/orders"),): 5.0}
    finally:
        mp.shutdown()


def test_a_reader_the_sdk_does_not_drive_the_known_way_falls_back_to_a_full_collection() -> None:
    mp, reader, _ = provider()
    try:
        reader._collect = lambda reader, timeout_millis=10_000: None  # type: ignore[assignment]
        assert reader.read({"orders.count"}) is None  # the replacement collects nothing, but it was used
        assert reader._full
    finally:
        mp.shutdown()
