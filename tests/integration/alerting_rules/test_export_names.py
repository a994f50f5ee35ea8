"""`rules export` names what the real exporters store: Prometheus evaluates the exported rule files.

One process records a unit-``1`` gauge, a unit-``1`` UpDownCounter, a counter, a histogram in
seconds and a gauge in bytes through the SDK, exposed two ways: the SDK's Prometheus exporter
(``--via scrape``) and OTLP to the collector we build, whose ``prometheus`` exporter is scraped
(``--via collector``). Each exported rule file is loaded into Debian's Prometheus: every metric
name in every expression must be stored for its path, and every rule fires. A naming drift
(the collector's ``_ratio`` on unit-``1`` gauges, a unit or ``_total`` suffix) fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ricecoder_otel.cli import main
from tests.harness.collector import start_collector
from tests.harness.ports import free_port
from tests.integration.alerting_rules.prometheus_rules import metric_names, rule_groups, start_prometheus_with_rules

RULES = """\
rules:
  - name: saturated
    metric: shop.saturation
    threshold: 0.5
  - name: busy-workers
    metric: shop.workers.busy
    threshold: 2
  - name: payment-failures
    kind: error_ratio
    metric: shop.payments.failed
    total_metric: http.server.request.duration
    window: 30s
    threshold: 0.1
  - name: orders-p95
    metric: http.server.request.duration
    match: {http.route: /orders}
    group_by: [http.route]
    aggregation: quantile
    quantile: 0.95
    window: 30s
    threshold: 0.2
  - name: memory
    metric: process.memory.usage
    threshold: 1000
"""
METRICS = ["shop.saturation=gauge:1", "shop.workers.busy=updowncounter:1", "shop.payments.failed=counter:{payment}"]

APP = """
import sys, time
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from prometheus_client import start_http_server

start_http_server(int(sys.argv[1]), addr="127.0.0.1")
otlp = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=sys.argv[2], insecure=True), 500)
meter = MeterProvider(metric_readers=[PrometheusMetricReader(), otlp]).get_meter("shop")
meter.create_gauge("shop.saturation", unit="1").set(0.9, {"queue": "mail"})
meter.create_up_down_counter("shop.workers.busy", unit="1").add(3)
meter.create_gauge("process.memory.usage", unit="By").set(1e9)
failed = meter.create_counter("shop.payments.failed", unit="{payment}")
duration = meter.create_histogram("http.server.request.duration", unit="s")
while True:
    for _ in range(4):
        duration.record(0.3, {"http.route": "/orders"})
    failed.add(1)
    time.sleep(0.2)
"""


@pytest.fixture
def exposed(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The app and the collector; returns the target to scrape per path."""
    app_port = free_port()
    config = tmp_path / "collector.yaml"
    config.write_text(  # addresses from variables, so the harness can move a port another process took
        "receivers:\n  otlp:\n    protocols:\n      grpc: {endpoint: '${env:NAMES_OTLP_GRPC_ENDPOINT}'}\n"
        "exporters:\n  prometheus:\n    endpoint: '${env:NAMES_PROMETHEUS_ENDPOINT}'\n"
        "service:\n  telemetry: {metrics: {level: none}}\n"
        "  pipelines:\n    metrics: {receivers: [otlp], exporters: [prometheus]}\n"
    )
    env = {
        "NAMES_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}",
        "NAMES_PROMETHEUS_ENDPOINT": f"127.0.0.1:{free_port()}",
    }
    collector = start_collector(config, env, tmp_path / "collector")
    grpc, prom = env["NAMES_OTLP_GRPC_ENDPOINT"], env["NAMES_PROMETHEUS_ENDPOINT"]  # where it really listens
    app = subprocess.Popen([sys.executable, "-c", APP, str(app_port), grpc],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        yield {"scrape": f"127.0.0.1:{app_port}", "collector": prom}
    finally:
        app.kill()
        app.wait()
        collector.stop()


def exported(tmp_path: Path, via: str) -> Path:
    source, out = tmp_path / "rules.yaml", tmp_path / f"{via}.rules.yml"
    source.write_text(RULES)
    options = [f"--metric={m}" for m in METRICS]
    assert main(["rules", "export", "--format", "prometheus", "--via", via, *options, str(source), "-o", str(out)]) == 0
    return out


def names_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers outside matchers, ranges and ``by``, not called."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^]]*\]|\b(?:by|without)\s*\([^)]*\)", " ", bare)
    found = re.findall(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", bare)
    return set(found) - {"and", "or", "unless"}


def wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {check()!r}")
        time.sleep(0.2)


def test_exported_rules_use_the_names_each_path_stores_and_fire_in_prometheus(
    tmp_path: Path, exposed: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    files = {via: exported(tmp_path, via) for via in exposed}
    assert capsys.readouterr().err == ""  # nothing skipped: every metric's kind and unit is known
    scrape_rules = yaml.safe_load(files["scrape"].read_text())["groups"][0]["rules"]
    collector_rules = yaml.safe_load(files["collector"].read_text())["groups"][0]["rules"]
    expressions = {via: {r["alert"]: r["expr"] for r in rules}
                   for via, rules in (("scrape", scrape_rules), ("collector", collector_rules))}  # fmt: skip
    # The one naming difference between the paths: a unit-1 Gauge (not an UpDownCounter) gets _ratio.
    assert expressions["scrape"]["saturated"] == "shop_saturation > 0.5"
    assert expressions["collector"]["saturated"] == "shop_saturation_ratio > 0.5"
    busy = "shop_workers_busy > 2.0"
    assert expressions["scrape"]["busy-workers"] == expressions["collector"]["busy-workers"] == busy

    for via, target in exposed.items():
        workdir = tmp_path / f"prometheus-{via}"
        prometheus = start_prometheus_with_rules(workdir, {via: [target]}, [files[via]])
        try:
            wanted = set().union(*(names_in(e) for e in expressions[via].values()))
            stored = wait_for(lambda: wanted <= metric_names(prometheus, via) and metric_names(prometheus, via),  # noqa: B023
                              30, f"{sorted(wanted)} stored via {via}")  # fmt: skip
            assert wanted <= stored, (via, sorted(wanted - stored))

            def states() -> dict[str, str]:
                return {r["name"]: r["state"] for g in rule_groups(prometheus) for r in g["rules"]}  # noqa: B023

            fired = wait_for(lambda: set(states().values()) == {"firing"}, 60, f"every rule firing via {via}")
            assert fired and set(states()) == {"saturated", "busy-workers", "payment-failures", "orders-p95", "memory"}
        finally:
            prometheus.stop()
