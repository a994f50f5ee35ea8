"""The shop under ``opentelemetry-instrument`` exports OTLP (gRPC and HTTP) to our real collector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.cli._util import free_port
from tests.harness.collector import attributes, iter_logs, iter_spans, read_requests, start_collector, wait_until
from tests.harness.shop import drive, start_shop

CONFIG = Path(__file__).with_name("collector-file.yaml")


def _metric_names(path: Path) -> set[str]:
    names: set[str] = set()
    for request in read_requests(path):
        for rm in request.get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                names.update(m["name"] for m in sm.get("metrics", []))
    return names


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_metrics_and_logs_arrive_in_the_collector(tmp_path: Path, protocol: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    grpc_port, http_port = free_port(), free_port()
    env = {
        "E2E_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{grpc_port}",
        "E2E_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{http_port}",
        "E2E_OUT": str(out),
    }
    collector = start_collector(CONFIG, env, tmp_path / "collector")
    try:
        port = grpc_port if protocol == "grpc" else http_port
        shop = start_shop(
            tmp_path,
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            },
        )
        try:
            stats = drive(shop, 2)
        finally:
            shop.stop()

        def server_spans() -> list[tuple[dict[str, Any], dict[str, Any]]]:
            return [
                (resource, span) for resource, span in iter_spans(out / "traces.json")
                if span.get("kind") == 2 and attributes(span).get("http.route") != "/health"
            ]

        wait_until(lambda: len(server_spans()) >= stats.requests, "all server spans in the collector's file")
        wait_until(lambda: "http.server.request.duration" in _metric_names(out / "metrics.json"), "RED metrics")
        wait_until(lambda: any(True for _ in iter_logs(out / "logs.json")), "log records")
    finally:
        collector.stop()

    spans = server_spans()
    assert len(spans) == stats.requests
    assert {attributes(span)["http.route"] for _, span in spans} >= {"/products", "/checkout/<user_id>"}
    assert all(attributes(resource)["telemetry.distro.name"] == "ricecoder-otel" for resource, _ in spans)
    metric_names = _metric_names(out / "metrics.json")
    assert {"http.server.request.duration", "ricecoder.http.server.errors", "shop.orders"} <= metric_names
    assert any(name.startswith("system.") for name in metric_names)
    bodies = [record.get("body", {}).get("stringValue", "") for _, record in iter_logs(out / "logs.json")]
    assert any("order placed by" in body for body in bodies)
