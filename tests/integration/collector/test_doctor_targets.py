"""How doctor reads the standard OTLP exporter variables, the way the SDK exporters do."""

from __future__ import annotations

import pytest

from ricecoder_otel.collector.probe import EndpointError, target_for


def test_defaults_are_the_sdk_defaults() -> None:
    grpc = target_for("traces", {})
    assert (grpc.protocol, grpc.host, grpc.port, grpc.tls) == ("grpc", "localhost", 4317, False)
    http = target_for("logs", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    assert (http.protocol, http.port, http.tls) == ("http/protobuf", 4318, False)


def test_signal_variables_override_the_general_ones() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://agent:4317",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://metrics.example:9443/v1/metrics",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
    }
    assert target_for("traces", env).address == "agent:4317"
    metrics = target_for("metrics", env)
    assert (metrics.address, metrics.protocol, metrics.tls) == ("metrics.example:9443", "http/protobuf", True)


@pytest.mark.parametrize(("insecure", "tls"), [("true", False), ("false", True), (None, True)])
def test_a_bare_grpc_endpoint_follows_the_insecure_flag(insecure: str | None, tls: bool) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}
    if insecure is not None:
        env["OTEL_EXPORTER_OTLP_INSECURE"] = insecure
    assert target_for("logs", env).tls is tls


def test_bad_protocol_and_endpoint_are_named() -> None:
    with pytest.raises(EndpointError, match="OTEL_EXPORTER_OTLP_PROTOCOL='thrift'"):
        target_for("traces", {"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"})
    with pytest.raises(EndpointError, match="has no host"):
        target_for("traces", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://:4317"})
    with pytest.raises(EndpointError, match="'http://agent:notaport'"):
        target_for("traces", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://agent:notaport"})
