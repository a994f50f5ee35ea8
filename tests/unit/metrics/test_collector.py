import logging

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from ricecoder_otel import MetricsCollector
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.metrics.cardinality import OVERFLOW_ATTRIBUTES
from ricecoder_otel.testing import metric_points


def test_each_kind_records_through_the_sdk(meter_provider: MeterProvider, metric_reader: InMemoryMetricReader) -> None:
    collector = MetricsCollector(meter_provider).start()
    collector.record_metric("queue.size", 12, {"queue": "mail"})
    collector.record_metric("queue.size", 7, {"queue": "mail"})
    collector.increment("orders", 2, {"payment": "card"})
    collector.increment("orders", 3, {"payment": "card"})
    collector.observe("order.value", 40.0)
    collector.add("in_flight", 5)
    collector.add("in_flight", -2)

    def values(name: str) -> list[tuple[dict[str, object], object]]:
        found = metric_points(metric_reader, name)
        return [(a, getattr(p, "value", None) if hasattr(p, "value") else p.sum) for a, p in found]

    assert values("queue.size") == [({"queue": "mail"}, 7)]
    assert values("orders") == [({"payment": "card"}, 5)]
    assert values("order.value") == [({}, 40.0)]
    assert values("in_flight") == [({}, 3)]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("twelve", "gauge"), (float("nan"), "gauge"), (float("inf"), "histogram"), (-1, "counter")],
)
def test_bad_values_are_dropped_counted_and_never_raised(
    meter_provider: MeterProvider, metric_reader: InMemoryMetricReader, value: object, kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    collector = MetricsCollector(meter_provider).start()
    with caplog.at_level(logging.WARNING, logger="ricecoder_otel"):
        collector.record_metric(f"bad.{kind}", value, kind=kind)  # type: ignore[arg-type]
    assert metric_points(metric_reader, f"bad.{kind}") == []
    assert SELF_TELEMETRY.snapshot().dropped["metrics_collector"] == 1
    assert "dropped a value" in caplog.text


def test_cardinality_limit_applies_to_custom_metrics(
    meter_provider: MeterProvider, metric_reader: InMemoryMetricReader
) -> None:
    collector = MetricsCollector(meter_provider, cardinality_limit=2).start()
    for user in range(5):
        collector.increment("logins", 1, {"user": str(user)})
    points = {tuple(sorted(a.items())): p.value for a, p in metric_points(metric_reader, "logins")}
    assert points[tuple(OVERFLOW_ATTRIBUTES.items())] == 3
    assert len(points) == 3


def test_without_an_explicit_limit_the_running_pipelines_limit_applies(
    meter_provider: MeterProvider, metric_reader: InMemoryMetricReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    from ricecoder_otel import pipeline
    from ricecoder_otel.metrics.cardinality import CardinalityLimiter

    shared = CardinalityLimiter(1)
    monkeypatch.setattr(pipeline, "_ACTIVE", types.SimpleNamespace(limiter=shared))
    collector = MetricsCollector(meter_provider).start()
    collector.increment("logins", 1, {"user": "a"})
    collector.increment("logins", 1, {"user": "b"})
    shared.set_limit(3)  # a live config change reaches custom metrics too
    collector.increment("logins", 1, {"user": "c"})
    points = {tuple(sorted(a.items())): p.value for a, p in metric_points(metric_reader, "logins")}
    assert points == {(("user", "a"),): 1, tuple(OVERFLOW_ATTRIBUTES.items()): 1, (("user", "c"),): 1}


def test_takes_its_config_section_like_the_seed(
    meter_provider: MeterProvider, metric_reader: InMemoryMetricReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ricecoder_otel import pipeline
    from ricecoder_otel.config import MetricsConfig

    monkeypatch.setattr(pipeline, "_ACTIVE", None)  # no pipeline: the section's limit applies
    config = MetricsConfig(cardinality_limit=1)
    collector = MetricsCollector(config, meter_provider=meter_provider).start()
    collector.increment("logins", 1, {"user": "a"})
    collector.increment("logins", 1, {"user": "b"})
    points = {tuple(sorted(a.items())): p.value for a, p in metric_points(metric_reader, "logins")}
    assert points == {(("user", "a"),): 1, tuple(OVERFLOW_ATTRIBUTES.items()): 1}


def test_a_disabled_section_records_nothing(meter_provider: MeterProvider, metric_reader: InMemoryMetricReader) -> None:
    from ricecoder_otel.config import MetricsConfig

    collector = MetricsCollector(MetricsConfig(enabled=False), meter_provider=meter_provider).start()
    collector.increment("orders", 1)
    assert not collector.recording
    assert metric_points(metric_reader, "orders") == []


def test_calls_after_shutdown_are_no_ops(
    meter_provider: MeterProvider, metric_reader: InMemoryMetricReader, caplog: pytest.LogCaptureFixture
) -> None:
    collector = MetricsCollector(meter_provider).start()
    collector.increment("orders", 1)
    collector.shutdown()
    with caplog.at_level(logging.WARNING, logger="ricecoder_otel"):
        collector.increment("orders", 5)
        collector.record_metric("queue.size", 3)
        collector.observe("order.value", 1.0)
        collector.add("in_flight", 1)
        collector.record_metric("bad", "x")  # type: ignore[arg-type]
        assert collector.start() is collector  # start after shutdown does not bring it back
        collector.increment("orders", 5)
        assert collector.force_flush() is True
        collector.shutdown()  # twice is fine
    assert not collector.recording
    assert [p.value for _, p in metric_points(metric_reader, "orders")] == [1]
    assert metric_points(metric_reader, "queue.size") == []
    assert "metrics_collector" not in SELF_TELEMETRY.snapshot().dropped
    assert caplog.text == ""


def test_a_bad_value_is_logged_once_per_metric(
    meter_provider: MeterProvider, metric_reader: InMemoryMetricReader, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/metrics.md: once per metric, whatever the error; every drop is still counted."""
    collector = MetricsCollector(meter_provider).start()
    with caplog.at_level(logging.WARNING, logger="ricecoder_otel"):
        collector.record_metric("queue.size", "twelve")  # type: ignore[arg-type]
        collector.record_metric("queue.size", float("nan"))  # another error text, same metric
        collector.increment("queue.size", -1)
        collector.record_metric("other", float("inf"))
    warnings = [r.getMessage() for r in caplog.records if "dropped a value" in r.getMessage()]
    assert len(warnings) == 2
    assert "'queue.size'" in warnings[0] and "'other'" in warnings[1]
    assert SELF_TELEMETRY.snapshot().dropped["metrics_collector"] == 4


def test_the_logged_once_state_belongs_to_the_collector(
    meter_provider: MeterProvider, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ricecoder_otel"):
        MetricsCollector(meter_provider).start().record_metric("queue.size", float("nan"))
        MetricsCollector(meter_provider).start().record_metric("queue.size", float("nan"))
    assert sum("dropped a value" in r.getMessage() for r in caplog.records) == 2


def test_an_unhashable_metric_name_is_dropped_without_raising(
    meter_provider: MeterProvider, caplog: pytest.LogCaptureFixture
) -> None:
    collector = MetricsCollector(meter_provider).start()
    with caplog.at_level(logging.WARNING, logger="ricecoder_otel"):
        collector.record_metric(["not", "a", "name"], 1)  # type: ignore[arg-type]
        collector.record_metric(["not", "a", "name"], 1)  # type: ignore[arg-type]
    assert SELF_TELEMETRY.snapshot().dropped["metrics_collector"] == 2
    assert sum("dropped a value" in r.getMessage() for r in caplog.records) == 1


def test_something_else_in_place_of_the_section_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"config\.metrics"):
        MetricsCollector({"enabled": True})  # type: ignore[arg-type]
