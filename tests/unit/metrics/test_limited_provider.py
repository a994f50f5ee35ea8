"""Every instrument made through ricecoder's MeterProvider obeys the cardinality limit.

Overhead of the limit on the hot path (one ``Counter.add`` with two attributes, the series
already known), measured with::

    python - <<'EOF'
    import timeit
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from ricecoder_otel.metrics.cardinality import CardinalityLimiter
    from ricecoder_otel.metrics.limited_provider import CardinalityLimitedMeterProvider
    attrs = {"http.route": "/checkout", "http.response.status_code": 200}
    bare = MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("b").create_counter("c")
    limited = CardinalityLimitedMeterProvider(CardinalityLimiter(2000), metric_readers=[InMemoryMetricReader()])
    wrapped = limited.get_meter("w").create_counter("c")
    for name, counter in (("bare", bare), ("limited", wrapped)):
        n = 200_000
        print(name, min(timeit.repeat(lambda: counter.add(1, attrs), number=n, repeat=5)) / n * 1e9, "ns")
    EOF

Measured on the shared 2-core machine under a load average of 7-10 (so absolute numbers are
inflated several-fold; best of 15 runs of 20,000 adds, Python 3.11, SDK 1.45.1): bare SDK
21-33 us per add, limited 24-35 us; ``limiter.admit`` alone 0.95-1.7 us, i.e. the limit costs
one admit, about 5-8% of the SDK's own ``add``.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Generator, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
from opentelemetry.metrics import (
    CallbackOptions,
    Counter,
    Histogram,
    NoOpCounter,
    NoOpHistogram,
    NoOpMeter,
    NoOpUpDownCounter,
    ObservableCounter,
    Observation,
    UpDownCounter,
    _Gauge,
)
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Metric, NumberDataPoint
from opentelemetry.sdk.metrics.view import DropAggregation, View

from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.collector import MetricsCollector
from ricecoder_otel.metrics.limited_provider import CardinalityLimitedMeterProvider, LimitedMeter

OVERFLOW = {"otel.metric.overflow": True}


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


def _provider(limiter: CardinalityLimiter, reader: InMemoryMetricReader) -> CardinalityLimitedMeterProvider:
    return CardinalityLimitedMeterProvider(limiter, metric_readers=[reader])


@pytest.fixture
def provider(reader: InMemoryMetricReader) -> Iterator[CardinalityLimitedMeterProvider]:
    made = _provider(CardinalityLimiter(100), reader)
    yield made
    made.shutdown()


def _metrics(reader: InMemoryMetricReader) -> dict[str, Metric]:
    data = reader.get_metrics_data()
    assert data is not None
    return {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


def _points(reader: InMemoryMetricReader, name: str) -> list[NumberDataPoint]:
    points = list(_metrics(reader)[name].data.data_points)
    assert all(isinstance(p, NumberDataPoint) for p in points)
    return points  # type: ignore[return-value]


def _overflow(points: Iterable[NumberDataPoint]) -> list[NumberDataPoint]:
    return [p for p in points if dict(p.attributes or {}) == OVERFLOW]


def test_a_raw_api_counter_with_100k_distinct_values_keeps_limit_plus_one_series(
    provider: CardinalityLimitedMeterProvider, reader: InMemoryMetricReader
) -> None:
    counter = provider.get_meter("shop").create_counter("logins", unit="{login}")
    for user in range(100_000):
        counter.add(2, {"user.id": str(user)})

    points = _points(reader, "logins")
    assert len(points) == 101
    (overflow,) = _overflow(points)
    assert overflow.value == 2 * (100_000 - 100)
    assert sum(p.value for p in points) == 200_000  # nothing lost, only folded
    assert {p.attributes["user.id"] for p in points if p is not overflow} == {  # type: ignore[index]
        str(user) for user in range(100)
    }


def _growth(distinct: int) -> int:
    """Bytes still allocated after ``distinct`` label values went through a limited counter."""
    reader = InMemoryMetricReader()
    provider = _provider(CardinalityLimiter(1000), reader)
    counter = provider.get_meter("growth").create_counter("requests")
    counter.add(1, {"user.id": "warm-up"})
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for user in range(distinct):
            counter.add(1, {"user.id": f"user-{user}"})
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        provider.shutdown()
    return after - before


def test_memory_does_not_grow_with_the_number_of_distinct_values() -> None:
    small, large = _growth(10_000), _growth(100_000)
    # 1000 series of bookkeeping either way; 10x the values must not cost 10x the memory.
    assert large < small * 1.5 + 64 * 1024, (small, large)
    assert large < 8 * 1024 * 1024, large


def test_a_live_limit_change_applies_to_existing_instruments(reader: InMemoryMetricReader) -> None:
    limiter = CardinalityLimiter(2)
    provider = _provider(limiter, reader)
    counter = provider.get_meter("shop").create_counter("orders")
    for shop in ("a", "b", "c"):
        counter.add(1, {"shop": shop})
    limiter.set_limit(4)
    for shop in ("c", "d", "e"):
        counter.add(1, {"shop": shop})

    values = {p.attributes.get("shop", "overflow"): p.value for p in _points(reader, "orders")}  # type: ignore[union-attr]
    # "c" overflowed before the change and has its own series after; "e" is past the new limit.
    assert values == {"a": 1, "b": 1, "c": 1, "d": 1, "overflow": 2}
    provider.shutdown()


def test_every_synchronous_kind_is_limited_and_is_the_api_type(
    provider: CardinalityLimitedMeterProvider, reader: InMemoryMetricReader
) -> None:
    provider.limiter.set_limit(1)
    meter = provider.get_meter("kinds")
    assert isinstance(meter, LimitedMeter) and provider.get_meter("kinds") is meter
    counter, updown = meter.create_counter("c"), meter.create_up_down_counter("u")
    histogram, gauge = (
        meter.create_histogram("h", explicit_bucket_boundaries_advisory=[1.0, 10.0]),
        meter.create_gauge("g"),
    )
    assert isinstance(counter, Counter) and isinstance(updown, UpDownCounter)
    assert isinstance(histogram, Histogram) and isinstance(gauge, _Gauge)
    assert counter.name == "c" and histogram.unit == ""  # type: ignore[attr-defined]
    for value, key in ((1, "x"), (2, "y"), (3, "z")):
        counter.add(value, {"k": key})
        updown.add(-value, {"k": key})
        histogram.record(value, {"k": key})
        gauge.set(value, {"k": key})

    metrics = _metrics(reader)
    assert {p.value for p in _overflow(metrics["c"].data.data_points)} == {5}  # type: ignore[arg-type]
    assert {p.value for p in _overflow(metrics["u"].data.data_points)} == {-5}  # type: ignore[arg-type]
    assert {p.value for p in _overflow(metrics["g"].data.data_points)} == {3}  # type: ignore[arg-type]
    (hist_overflow,) = [p for p in metrics["h"].data.data_points if dict(p.attributes or {}) == OVERFLOW]
    assert (hist_overflow.count, hist_overflow.sum) == (2, 5)  # type: ignore[union-attr]
    assert list(hist_overflow.explicit_bounds) == [1.0, 10.0]  # type: ignore[union-attr]
    for name in ("c", "u", "h", "g"):
        assert len(metrics[name].data.data_points) == 2


def test_observable_instruments_fold_observations_past_the_limit(
    provider: CardinalityLimitedMeterProvider, reader: InMemoryMetricReader
) -> None:
    provider.limiter.set_limit(3)
    meter = provider.get_meter("queues")

    def queues(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(10 * i, {"queue": f"q{i}"}) for i in range(10)]

    def generator() -> Generator[Iterable[Observation], CallbackOptions, None]:
        while True:
            yield [Observation(i, {"worker": f"w{i}"}) for i in range(10)]

    observable = meter.create_observable_counter("processed", callbacks=[queues])
    assert isinstance(observable, ObservableCounter)
    meter.create_observable_up_down_counter("waiting", callbacks=[generator()])
    meter.create_observable_gauge("depth", callbacks=[queues])

    for _ in range(2):  # the second collection sees the same folding
        metrics = _metrics(reader)
        processed = {p.attributes.get("queue", "overflow"): p.value for p in metrics["processed"].data.data_points}  # type: ignore[union-attr]
        assert processed == {"q0": 0, "q1": 10, "q2": 20, "overflow": sum(10 * i for i in range(3, 10))}
        waiting = _overflow(metrics["waiting"].data.data_points)  # type: ignore[arg-type]
        assert [p.value for p in waiting] == [sum(range(3, 10))]
        assert len(metrics["waiting"].data.data_points) == 4
        assert [p.value for p in _overflow(metrics["depth"].data.data_points)] == [90]  # type: ignore[arg-type]


def test_the_metrics_collector_on_top_admits_each_series_once(reader: InMemoryMetricReader) -> None:
    limiter = CardinalityLimiter(2)
    provider = _provider(limiter, reader)
    collector = MetricsCollector(provider, limiter=limiter).start()
    for user in range(5):
        collector.increment("jobs.done", labels={"user": str(user)})

    points = _points(reader, "jobs.done")
    assert len(points) == 3
    assert [p.value for p in _overflow(points)] == [3]
    assert limiter.overflow_count == 3  # not 6: the provider let the collector's overflow through
    assert limiter.series_count("jobs.done") == 2
    provider.shutdown()


def test_unhashable_attribute_values_are_limited_without_raising(
    provider: CardinalityLimitedMeterProvider, reader: InMemoryMetricReader
) -> None:
    provider.limiter.set_limit(2)
    counter = provider.get_meter("tags").create_counter("tagged")
    for i in range(4):
        counter.add(1, {"tags": [f"t{i}", "shared"]})

    points = _points(reader, "tagged")
    assert len(points) == 3
    assert [p.value for p in _overflow(points)] == [2]


def test_system_metrics_instrumentation_runs_on_the_limited_provider(reader: InMemoryMetricReader) -> None:
    limiter = CardinalityLimiter(2)
    provider = _provider(limiter, reader)
    instrumentor = SystemMetricsInstrumentor(config={"system.cpu.time": ["idle", "user", "system", "irq"]})
    instrumentor.instrument(meter_provider=provider)
    try:
        points = list(_metrics(reader)["system.cpu.time"].data.data_points)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    # 4 states x N cpus observed; 2 series kept, the rest summed into the overflow series.
    assert len(points) == 3
    assert len(_overflow(points)) == 1  # type: ignore[arg-type]


def test_flask_instrumentation_records_through_the_limited_provider(reader: InMemoryMetricReader) -> None:
    limiter = CardinalityLimiter(2)
    provider = _provider(limiter, reader)
    app = Flask(__name__)

    @app.get("/items/<item>")
    def item(item: str) -> str:
        return item

    @app.get("/a")
    def route_a() -> str:
        return "a"

    @app.get("/b")
    def route_b() -> str:
        return "b"

    FlaskInstrumentor().instrument_app(app, meter_provider=provider)  # type: ignore[no-untyped-call]
    try:
        client = app.test_client()
        for path in ("/items/1", "/items/2", "/a", "/b", "/b"):
            assert client.get(path).status_code == 200
        metrics = _metrics(reader)
        # The stable name when OTEL_SEMCONV_STABILITY_OPT_IN=http was set first in this process.
        duration = metrics.get("http.server.request.duration") or metrics["http.server.duration"]
        points: list[Any] = list(duration.data.data_points)
    finally:
        FlaskInstrumentor().uninstrument_app(app)  # type: ignore[no-untyped-call]
        provider.shutdown()
    # The stable conventions name the route http.route, the old ones http.target.
    routes = {
        (p.attributes or {}).get("http.route") or (p.attributes or {}).get("http.target", "overflow"): p.count
        for p in points
    }
    assert routes == {"/items/<item>": 2, "/a": 1, "overflow": 2}


def test_a_shut_down_provider_hands_out_the_sdk_no_op_meter(reader: InMemoryMetricReader) -> None:
    provider = _provider(CardinalityLimiter(10), reader)
    provider.shutdown()
    assert isinstance(provider.get_meter("late"), NoOpMeter)


def test_an_instrument_every_matching_view_drops_is_a_no_op_and_the_rest_still_record(
    reader: InMemoryMetricReader,
) -> None:
    flask = "opentelemetry.instrumentation.flask"
    views = [
        View(instrument_name="http.server.request.duration", meter_name=flask, aggregation=DropAggregation()),
        View(instrument_name="kept.*", aggregation=DropAggregation()),
        View(instrument_name="kept.twice", name="kept.copy"),
    ]
    provider = CardinalityLimitedMeterProvider(CardinalityLimiter(10), metric_readers=[reader], views=views)
    try:
        framework = provider.get_meter(flask)
        dropped = framework.create_histogram("http.server.request.duration", unit="s")
        active = framework.create_up_down_counter("http.server.active_requests")
        other_scope = provider.get_meter("app").create_histogram("http.server.request.duration", unit="s")
        kept = provider.get_meter("app").create_counter("kept.twice")  # one view drops it, another keeps it
        # Dropped by every view that matches: the API's no-op, so the SDK never sees the measurements.
        assert isinstance(dropped, NoOpHistogram) and isinstance(dropped, Histogram)
        assert not isinstance(active, NoOpUpDownCounter) and not isinstance(other_scope, NoOpHistogram)
        assert not isinstance(kept, NoOpCounter)
        dropped.record(0.5, {"http.route": "/a"})
        active.add(1, {"http.request.method": "GET"})
        other_scope.record(0.25, {"http.route": "/a"})
        kept.add(3)
        metrics = _metrics(reader)
    finally:
        provider.shutdown()
    assert "kept.copy" in metrics and "http.server.active_requests" in metrics
    assert [p.count for p in metrics["http.server.request.duration"].data.data_points] == [1]  # the app's only
