"""RED, system, custom and self-telemetry metrics reach Debian's Prometheus 2.42 three ways.

1. ``app``: Prometheus scrapes the shop's own endpoint (``OTEL_METRICS_EXPORTER=prometheus``).
2. ``agent``: the same shop exports OTLP to the shipped agent, whose ``prometheus`` exporter
   Prometheus scrapes (the shipped metrics path).
3. remote write: a second shop exports OTLP to the shipped gateway, whose
   ``prometheus_remote_write`` exporter writes into Prometheus's remote-write receiver
   (``--web.enable-remote-write-receiver``; Prometheus 2.42 has no OTLP receiver).

The names queried are the ones docs/metrics.md lists and the ones ``rules export`` writes
(``ricecoder_otel.alerting.promexport``). One difference is asserted as such: through the
collector a gauge with unit ``1`` gets the suffix ``_ratio`` (``system_cpu_utilization_ratio``),
while the Python exporter and ``rules export`` name it without (``system_cpu_utilization``).
"""

from __future__ import annotations

from pathlib import Path

from ricecoder_otel.alerting.promexport import KNOWN_METRICS, prometheus_name
from ricecoder_otel.cli._util import free_port
from tests.harness.collector import telemetry_value, wait_until
from tests.harness.prometheus import PrometheusServer
from tests.harness.shop import drive, start_shop
from tests.integration.backends.conftest import (
    Stoppable,
    http_status,
    path_env,
    start_path,
    start_prometheus_receiving,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"
REMOTE_SERVICE = "shop-remote-write"

# Queried on every path: RED (named in docs/metrics.md), system, custom (the shop's MetricsCollector), self.
RED = ["http_server_request_duration_seconds_bucket", "ricecoder_http_server_errors_total"]
SYSTEM = ["system_cpu_time_seconds_total", "system_memory_usage_bytes", "process_cpu_time_seconds_total"]
CUSTOM = ["shop_orders_total", "shop_cart_size", "shop_order_value_USD_count"]
SELF = ["ricecoder_self_queue_depth", "ricecoder_self_processor_time_seconds_total"]


def _ratio(name: str, kind: str, unit: str) -> str:
    """The name the collector's Prometheus translation gives (unit ``1`` gauges end in ``_ratio``)."""
    return f"{name}_ratio" if kind == "gauge" and unit == "1" else name


def _has(prometheus: PrometheusServer, selector: str) -> bool:
    return bool(prometheus.query(selector))


def test_metrics_reach_prometheus_by_scrape_through_the_agent_and_by_remote_write(
    tmp_path: Path, stack: list[Stoppable]
) -> None:
    docs = DOCS.read_text()
    for name in ("http_server_request_duration_seconds_{bucket,sum,count}", "ricecoder_http_server_errors_total"):
        assert f"`{name}`" in docs, f"docs/metrics.md no longer names {name}"

    app_port = free_port()
    prometheus_port = free_port()
    agent_env, gateway_env = path_env(tmp_path, remote_write=f"http://127.0.0.1:{prometheus_port}/api/v1/write")
    prometheus = start_prometheus_receiving(
        tmp_path / "prometheus",
        {
            "app": [f"127.0.0.1:{app_port}"],
            "agent": [agent_env["AGENT_PROMETHEUS_ENDPOINT"]],
            "agent-self": [f"127.0.0.1:{agent_env['AGENT_TELEMETRY_PORT']}"],
        },
        port=prometheus_port,
    )
    stack.append(prometheus)
    path = start_path(tmp_path, agent_env, gateway_env)
    stack.append(path)
    scraped = start_shop(
        tmp_path,
        {
            "OTEL_METRICS_EXPORTER": "otlp,prometheus",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_ENDPOINT": path.agent_grpc,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(app_port),
            "RICECODER_STORE_PATH": str(tmp_path / "scraped.db"),
        },
    )
    stack.append(scraped)
    written = start_shop(
        tmp_path,
        {
            "OTEL_SERVICE_NAME": REMOTE_SERVICE,
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_ENDPOINT": path.gateway_grpc,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "RICECODER_STORE_PATH": str(tmp_path / "written.db"),
        },
    )
    stack.append(written)
    for shop, seed in ((scraped, 7), (written, 11)):
        drive(shop, 3, seed=seed)
        assert http_status(f"{shop.base_url}/payments/flaky") == 500  # always fails: RED errors on every path
        assert http_status(f"{shop.base_url}/products/6") == 404  # a 4xx however few visits a slow host made

    paths = {"app": 'job="app"', "agent": 'job="agent"', "remote write": f'job="{REMOTE_SERVICE}"'}
    for via, selector in paths.items():
        for name in RED + SYSTEM + CUSTOM + SELF:
            assert prometheus.wait_for(f"{name}{{{selector}}}"), f"{name} via {via}"
        # RED carries its attributes as labels and our bucket boundaries on every path.
        buckets = prometheus.wait_for(
            f'http_server_request_duration_seconds_bucket{{{selector},http_route="/products"}}'
        )
        assert {"0.005", "0.25", "10", "+Inf"} <= {b["metric"]["le"].removesuffix(".0") for b in buckets}, via
        classes = prometheus.wait_for(
            f"sum by (http_response_status_class) (http_server_request_duration_seconds_count{{{selector}}})"
        )
        assert {c["metric"]["http_response_status_class"] for c in classes} >= {"2xx", "4xx", "5xx"}, via

    # The names `rules export` writes for the metrics the shop records (docs/alerting.md).
    recorded = [
        "http.server.request.duration", "ricecoder.http.server.errors", "ricecoder.anomaly.score",
        "ricecoder.self.queue.depth", "ricecoder.self.processor.time", "system.cpu.utilization",
        "system.memory.utilization", "process.cpu.utilization", "process.memory.usage",
    ]  # fmt: skip
    for metric in sorted(recorded):
        kind, unit = KNOWN_METRICS[metric]
        name = prometheus_name(metric, kind, unit) + ("_count" if kind == "histogram" else "")
        assert prometheus.wait_for(f'{name}{{job="app"}}'), f"rules export name {name} not stored by scrape"
        collector_name = _ratio(name, kind, unit)
        for via, selector in paths.items():
            if via != "app":
                assert prometheus.wait_for(f"{collector_name}{{{selector}}}"), f"{collector_name} via {via}"
                if collector_name != name:
                    assert not _has(prometheus, f"{name}{{{selector}}}"), f"{name} via {via}"

    # Remote-written series are labelled with the service (job) and instance, scraped ones keep theirs.
    [written_series] = prometheus.wait_for(f'target_info{{job="{REMOTE_SERVICE}"}}')
    assert written_series["metric"]["instance"]
    assert prometheus.wait_for('shop_orders_total{job="agent",exported_job="shop"}')

    # The collectors' own telemetry: the agent scraped, the gateway's remote-write exporter counting what it sent.
    assert prometheus.wait_for('{__name__=~"otelcol_receiver_accepted_metric_points(_total)?",job="agent-self"}')
    wait_until(
        lambda: (
            telemetry_value(path.gateway, "otelcol_exporter_sent_metric_points", exporter="prometheus_remote_write") > 0
        ),
        "the gateway's remote-write exporter to report points sent",
        30,
    )
