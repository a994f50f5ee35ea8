"""The example shop under opentelemetry-instrument exports all three signals to the real collector."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.collector import (
    CollectorHandle,
    attributes,
    gateway_env,
    iter_logs,
    iter_spans,
    read_requests,
    shipped,
    start_collector,
    wait_until,
)
from tests.harness.shop import drive, start_shop


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorHandle]:
    workdir = tmp_path_factory.mktemp("shop-gateway")
    handle = start_collector(
        shipped("gateway.yaml"), gateway_env(workdir, sampling_percentage=100, decision_wait_s=1), workdir, "gateway"
    )
    try:
        yield handle
    finally:
        handle.stop()


def _metric_names(path: Path) -> set[str]:
    return {
        metric["name"]
        for request in read_requests(path)
        for rm in request.get("resourceMetrics", [])
        for sm in rm.get("scopeMetrics", [])
        for metric in sm.get("metrics", [])
    }


def _service(resource: dict[str, object]) -> object:
    return attributes(resource).get("service.name")


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_shop_spans_metrics_and_logs_reach_the_collector_files(
    gateway: CollectorHandle, tmp_path: Path, protocol: str
) -> None:
    port = gateway.env["GATEWAY_OTLP_GRPC_ENDPOINT" if protocol == "grpc" else "GATEWAY_OTLP_HTTP_ENDPOINT"]
    service = f"shop-{protocol.replace('/', '-')}"
    shop = start_shop(
        tmp_path,
        {
            "OTEL_SERVICE_NAME": service,
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
        },
    )
    try:
        stats = drive(shop, 3)
    finally:
        shop.stop()
    assert stats.requests > 0
    out = Path(gateway.env["GATEWAY_FILE_DIR"])

    def routes() -> set[object]:
        return {
            attributes(span).get("http.route")
            for resource, span in iter_spans(out / "traces.jsonl")
            if _service(resource) == service and span.get("kind") == 2  # SPAN_KIND_SERVER
        }

    requested = set(stats.by_route)  # the traffic mix is random: expect the routes that were requested
    assert "/products" in requested, stats
    wait_until(lambda: requested <= routes(), f"{service} server spans with http.route", 60)
    wait_until(lambda: "http.server.request.duration" in _metric_names(out / "metrics.jsonl"), "the RED histogram")
    wait_until(
        lambda: any(
            _service(resource) == service and "order placed" in json.dumps(record.get("body"))
            for resource, record in iter_logs(out / "logs.jsonl")
        ),
        f"{service} log records",
    )

    def server_spans() -> list[tuple[dict[str, object], dict[str, object]]]:
        return [
            (resource, span)
            for resource, span in iter_spans(out / "traces.jsonl")
            if _service(resource) == service and span.get("kind") == 2
            and attributes(span).get("http.route") != "/health"
        ]

    # Every request arrives exactly once, from our distribution, with the custom and system metrics.
    wait_until(lambda: len(server_spans()) >= stats.requests, f"all {stats.requests} {service} server spans")
    spans = server_spans()
    assert len(spans) == stats.requests
    assert all(attributes(resource)["telemetry.distro.name"] == "ricecoder-otel" for resource, _ in spans)
    names = _metric_names(out / "metrics.jsonl")
    assert {"shop.orders", "shop.cart.size"} <= names
    assert ("ricecoder.http.server.errors" in names) == (stats.by_status[500] > 0)  # only failures count
    assert any(name.startswith("system.") for name in names)
