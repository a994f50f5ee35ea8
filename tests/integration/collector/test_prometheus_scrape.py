"""Debian's Prometheus scraping the running agent: service metrics arrive, and our rules name real series."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml

from ricecoder_otel.collector.layout import config_dir
from tests.harness.collector import Topology
from tests.harness.prometheus import start_prometheus

# Counters the exporter helper registers only once a sending queue overflows.
ONLY_AFTER_OVERFLOW = {"otelcol_exporter_enqueue_failed_spans", "otelcol_exporter_enqueue_failed_log_records"}


def _rule_metric_names() -> set[str]:
    names: set[str] = set()
    for path in (config_dir() / "prometheus" / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                names |= set(re.findall(r"\b(otelcol_[a-z_]+)", rule["expr"]))
    return names


def test_prometheus_scrapes_agent_metrics_and_the_series_our_rules_use(
    topology_factory: Callable[..., Topology], tmp_path: Path
) -> None:
    topology = topology_factory(samplers=1)
    topology.front.stop()  # the audit queue fills, so queue metrics have something to report
    topology.send("--healthy-traces=3", "--audit=5")
    agent = topology.agent.env
    prometheus = start_prometheus(
        tmp_path, [f"127.0.0.1:{agent['AGENT_TELEMETRY_PORT']}", agent["AGENT_PROMETHEUS_ENDPOINT"]]
    )
    try:
        prometheus.wait_for("ricecoder_e2e_requests_total")
        queued = prometheus.wait_for('otelcol_exporter_queue_size{exporter="otlp_grpc/audit"} > 0')
        assert queued
        for name in sorted(_rule_metric_names() - ONLY_AFTER_OVERFLOW):
            assert prometheus.wait_for(name), name
    finally:
        prometheus.stop()
