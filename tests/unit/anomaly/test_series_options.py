"""Per-series detector options (``anomaly.series``): matching, validation, live changes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind

from ricecoder_otel.anomaly import AnomalyMonitor, Detector, DetectorOptions, SeriesRule
from ricecoder_otel.anomaly.capability import AnomalyCapability
from ricecoder_otel.anomaly.feed import series_key
from ricecoder_otel.anomaly.series import options_for, split_key
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.config.errors import ConfigError
from ricecoder_otel.config.loader import load_config
from ricecoder_otel.config.model import ANOMALY_BUILTIN_SERIES
from ricecoder_otel.testing import RicecoderCapture

from .conftest import START

LATENCY = "http.server.request.duration"
CHECKOUT = f"{LATENCY}{{http.route=/checkout}}"
ORDERS = f"{LATENCY}{{http.route=/orders}}"


def test_series_keys_split_back_into_name_and_attributes() -> None:
    attributes = {"http.route": "/a,b", "code": "200"}
    assert split_key(series_key("m", attributes)) == ("m", attributes)
    assert split_key("process.cpu.utilization") == ("process.cpu.utilization", {})


def test_the_first_matching_rule_sets_the_options_and_others_keep_the_defaults() -> None:
    base = DetectorOptions()
    rules = [
        SeriesRule(LATENCY, (("http.route", "/api/*"),), sensitivity=2.0, transform="log"),
        SeriesRule(LATENCY, sensitivity=0.5, seasonal=False),
    ]
    api = options_for(f"{LATENCY}{{http.route=/api/pay}}", base, rules)
    assert (api.threshold, api.cusum_h, api.variance_ratio, api.trend_sigmas) == (3.0, 6.0, 2.0, 3.0)
    assert api.transform == "log" and api.seasonal
    other = options_for(ORDERS, base, rules)
    assert (other.threshold, other.seasonal, other.transform) == (12.0, False, None)
    assert options_for("http.server.error_rate{http.route=/api/pay}", base, rules) is base
    assert options_for("process.cpu.utilization", base, rules) is base


def test_a_rule_rejects_a_sensitivity_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="sensitivity: must be > 0"):
        SeriesRule(LATENCY, sensitivity=0.0)


def _latencies(rng: random.Random, factor: float = 1.0) -> list[float]:
    return [factor * rng.lognormvariate(-3.0, 0.2) for _ in range(8)]


def _feed(monitor: AnomalyMonitor, t: float, window: list[float]) -> None:
    mean = sum(window) / len(window)
    monitor.observe(CHECKOUT, mean, t)
    monitor.observe(ORDERS, mean, t)


def _opened(monitor: AnomalyMonitor) -> list[tuple[str, str]]:
    return [(ep.key, ep.kind) for ep in monitor.drain_episodes() if ep.is_open]


def test_an_override_for_one_series_does_not_apply_to_another_fed_the_same_values() -> None:
    monitor = AnomalyMonitor(rules=[SeriesRule(LATENCY, (("http.route", "/checkout"),), sensitivity=0.5)])
    rng = random.Random(3)
    t = START
    for _ in range(200):
        t += 10
        _feed(monitor, t, _latencies(rng))
    t += 10
    _feed(monitor, t, _latencies(rng, 1.5))  # the same 1.5x spike on both routes
    for _ in range(20):
        t += 10
        _feed(monitor, t, _latencies(rng))
    assert _opened(monitor) == [(ORDERS, "spike")]
    assert monitor.options(ORDERS) == DetectorOptions()
    checkout = monitor.options(CHECKOUT)
    assert checkout is not None and checkout.threshold == 12.0


def test_configure_retunes_live_series_without_a_new_warm_up() -> None:
    monitor = AnomalyMonitor()
    rng = random.Random(3)
    t = START
    for _ in range(200):
        t += 10
        _feed(monitor, t, _latencies(rng))
    assert monitor.configure(rules=[SeriesRule(LATENCY, (("http.route", "/checkout"),), sensitivity=1.5)]) == 1
    assert monitor.expected(CHECKOUT) is not None  # learned level and scale kept
    checkout = monitor.options(CHECKOUT)
    assert checkout is not None and checkout.threshold == 4.0
    assert monitor.options(ORDERS) == DetectorOptions()
    t += 10
    _feed(monitor, t, _latencies(rng, 1.15))  # a spike the default does not call
    for _ in range(20):
        t += 10
        _feed(monitor, t, _latencies(rng))
    assert _opened(monitor) == [(CHECKOUT, "spike")]
    assert monitor.configure(rules=[SeriesRule(LATENCY, (("http.route", "/checkout"),), sensitivity=1.5)]) == 0


def test_a_new_transform_restarts_only_that_series() -> None:
    monitor = AnomalyMonitor()
    rng = random.Random(5)
    for i in range(100):
        _feed(monitor, START + 10 * i, _latencies(rng))
    assert monitor.configure(rules=[SeriesRule(LATENCY, (("http.route", "/checkout"),), transform="count")]) == 1
    assert monitor.expected(CHECKOUT) is None  # warming up again on the count scale
    assert monitor.expected(ORDERS) is not None


def test_retune_switches_seasonality_off_and_on_in_place() -> None:
    detector = Detector()
    for i in range(100):
        detector.update(START + 600 * i, 10.0 + (i % 7))
    assert detector.retune(DetectorOptions(seasonal=False))
    assert detector.expected() is not None and detector._day is None
    assert detector.retune(DetectorOptions())
    assert detector._day is not None and not any(detector._day)
    assert detector.points == 100


def test_the_built_in_series_names_are_the_ones_the_feed_produces() -> None:
    from ricecoder_otel.anomaly.feed import DURATION_METRIC, ERROR_RATE_SERIES, PROCESS_SERIES

    assert set(ANOMALY_BUILTIN_SERIES) == {DURATION_METRIC, ERROR_RATE_SERIES, *PROCESS_SERIES.values()}


def test_bad_series_options_are_located_errors(tmp_path: Path) -> None:
    path = tmp_path / "ricecoder.yaml"
    path.write_text(
        "anomaly:\n"
        "  metrics: [queue.depth]\n"
        "  series:\n"
        "    - metric: queue.depth\n"
        "      sensitivity: 0\n"
        "      transform: sqrt\n"
        "      match: {queue: [a]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    problems = {p.path: (p.source, p.message) for p in caught.value.problems}
    assert problems["anomaly.series[0].sensitivity"][0] == f"{path}:5"
    assert "greater than 0" in problems["anomaly.series[0].sensitivity"][1]
    assert problems["anomaly.series[0].transform"][0] == f"{path}:6"
    assert "'auto', 'none', 'log', 'count'" in problems["anomaly.series[0].transform"][1]
    assert "anomaly.series[0].match.queue" in problems


def test_options_for_a_series_nobody_watches_name_it_and_the_likely_one(tmp_path: Path) -> None:
    path = tmp_path / "ricecoder.yaml"
    path.write_text("anomaly:\n  series:\n    - metric: http.server.request.durations\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    [problem] = caught.value.problems
    assert problem.path == "anomaly"
    assert "series[0].metric: 'http.server.request.durations' is not watched" in problem.message
    assert "did you mean 'http.server.request.duration'?" in problem.message


# -- through the real pipeline ------------------------------------------------------------------


def _window(capture: RicecoderCapture, latencies: list[float]) -> None:
    """One 10-second window: the same requests on /checkout and /orders, then a collection."""
    capture.advance(10)
    start_ns = int(capture.clock() * 1e9)
    tracer = capture.pipeline.tracer_provider.get_tracer("test")
    for route in ("/checkout", "/orders"):
        for latency in latencies:
            span = tracer.start_span(f"GET {route}", kind=SpanKind.SERVER, start_time=start_ns)
            span.set_attribute("http.route", route)
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("http.response.status_code", 200)
            span.end(end_time=start_ns + int(latency * 1e9))
    capture.collect()


def _latency_episodes(capture: RicecoderCapture) -> list[str]:
    return [
        str(r.log_record.attributes["ricecoder.anomaly.series"])
        for r in capture.events("ricecoder.anomaly")
        if r.log_record.attributes is not None
        and r.log_record.attributes["ricecoder.anomaly.phase"] == "start"
        and str(r.log_record.attributes["ricecoder.anomaly.series"]).startswith(LATENCY)
    ]


QUIET_CHECKOUT = {
    "anomaly": {"series": [{"metric": LATENCY, "match": {"http.route": "/checkout"}, "sensitivity": 0.5}]}
}


@pytest.mark.ricecoder_config(QUIET_CHECKOUT)
def test_config_options_reach_one_route_and_change_live_through_the_pipeline(
    ricecoder_capture: RicecoderCapture,
) -> None:
    capture = ricecoder_capture
    anomaly = capture.pipeline.capability("anomaly")
    assert isinstance(anomaly, AnomalyCapability) and anomaly.monitor is not None
    rng = random.Random(3)
    for _ in range(200):
        _window(capture, _latencies(rng))
    _window(capture, _latencies(rng, 1.5))  # the same spike on both routes
    for _ in range(20):
        _window(capture, _latencies(rng))
    assert _latency_episodes(capture) == [ORDERS]  # /checkout's override does not reach /orders

    # A config change makes /checkout more sensitive than the default, live, keeping what it learned.
    old = capture.pipeline.config
    series = [{"metric": LATENCY, "match": {"http.route": "/checkout"}, "sensitivity": 2}]
    new = old.model_copy(update={"anomaly": MonitoringConfig.model_validate({"anomaly": {"series": series}}).anomaly})
    capture.pipeline.apply(old, new)
    checkout = anomaly.monitor.options(CHECKOUT)
    assert checkout is not None and checkout.threshold == 3.0
    assert anomaly.monitor.options(ORDERS) == DetectorOptions()
    assert anomaly.monitor.expected(CHECKOUT) is not None
    _window(capture, _latencies(rng, 1.25))  # a spike the default does not call
    for _ in range(20):
        _window(capture, _latencies(rng))
    assert _latency_episodes(capture) == [ORDERS, CHECKOUT]
