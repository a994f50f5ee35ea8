"""Debian's Prometheus scrapes the shop's OpenTelemetry Prometheus endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.ports import free_port
from tests.harness.prometheus import PrometheusServer, start_prometheus
from tests.harness.shop import ShopProcess, drive, start_shop


@pytest.fixture
def scraped_shop(tmp_path: Path) -> Iterator[tuple[ShopProcess, PrometheusServer]]:
    metrics_port = free_port()
    shop = start_shop(
        tmp_path,
        {
            "OTEL_METRICS_EXPORTER": "prometheus",
            "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(metrics_port),
            "RICECODER_STORE_PATH": str(tmp_path / "telemetry.db"),
        },
    )
    prometheus = start_prometheus(tmp_path, [f"127.0.0.1:{metrics_port}"])
    try:
        yield shop, prometheus
    finally:
        prometheus.stop()
        shop.stop()


def test_red_system_and_custom_metrics_reach_prometheus(scraped_shop: tuple[ShopProcess, PrometheusServer]) -> None:
    shop, prometheus = scraped_shop
    stats = drive(shop, 2)
    up = prometheus.wait_for('up{job="app"} == 1')
    assert up

    # RED: the histogram in seconds with our bucket boundaries, counts by status class.
    buckets = prometheus.wait_for('http_server_request_duration_seconds_bucket{http_route="/products"}')
    bounds = {b["metric"]["le"] for b in buckets}
    assert {"0.005", "0.25", "10.0", "+Inf"} <= bounds, bounds
    errors = prometheus.wait_for('ricecoder_http_server_errors_total{http_route="/payments/flaky"}')
    assert int(float(errors[0]["value"][1])) == stats.by_route["/payments/flaky"]
    classes = prometheus.wait_for("sum by (http_response_status_class) (http_server_request_duration_seconds_count)")
    assert {c["metric"]["http_response_status_class"] for c in classes} >= {"2xx", "4xx", "5xx"}

    # System metrics from the system-metrics instrumentation.
    assert prometheus.wait_for("system_cpu_time_seconds_total")
    assert prometheus.wait_for("system_memory_usage_bytes")
    assert prometheus.wait_for("process_cpu_time_seconds_total")

    # Custom metrics recorded through MetricsCollector.
    assert prometheus.wait_for("shop_orders_total")
    assert prometheus.wait_for("shop_cart_size")
    # Exactly one request-duration series family per route: the framework's copy is dropped.
    scopes = prometheus.query("count by (otel_scope_name) (http_server_request_duration_seconds_count)")
    assert [s["metric"]["otel_scope_name"] for s in scopes] == ["ricecoder_otel.red"]
