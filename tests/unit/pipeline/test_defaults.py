from pathlib import Path

from ricecoder_otel.kernel.defaults import (
    DEFAULT_PROTOCOL,
    LOCAL_EXPORTER,
    OTLP_PORTS,
    apply_env_defaults,
    defaults_markdown,
    effective_env,
    env_defaults,
    exporter_names,
)


def test_without_an_endpoint_every_signal_goes_to_the_embedded_store() -> None:
    defaults = env_defaults({})
    assert defaults["OTEL_TRACES_EXPORTER"] == LOCAL_EXPORTER
    assert defaults["OTEL_METRICS_EXPORTER"] == LOCAL_EXPORTER
    assert defaults["OTEL_LOGS_EXPORTER"] == LOCAL_EXPORTER
    assert defaults["OTEL_SEMCONV_STABILITY_OPT_IN"] == "http"
    assert defaults["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"


def test_an_endpoint_switches_to_otlp_per_signal() -> None:
    assert set(env_defaults({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}).values()) >= {"otlp"}
    only_traces = env_defaults({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    assert only_traces["OTEL_TRACES_EXPORTER"] == "otlp"
    assert only_traces["OTEL_LOGS_EXPORTER"] == LOCAL_EXPORTER


def test_user_settings_always_win() -> None:
    env = {"OTEL_TRACES_EXPORTER": "otlp,ricecoder_local", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    applied = apply_env_defaults(env)
    assert env["OTEL_TRACES_EXPORTER"] == "otlp,ricecoder_local"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert "OTEL_TRACES_EXPORTER" not in applied and applied["OTEL_LOGS_EXPORTER"] == LOCAL_EXPORTER


# One source of truth: the docs state what kernel/defaults.py sets.

REPO = Path(__file__).resolve().parents[3]


def test_effective_env_is_what_the_sdk_sees_and_leaves_the_input_alone() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://agent:4318", "OTEL_LOGS_EXPORTER": "console"}
    resolved = effective_env(env)
    assert resolved["OTEL_EXPORTER_OTLP_PROTOCOL"] == DEFAULT_PROTOCOL == "http/protobuf"
    assert resolved["OTEL_TRACES_EXPORTER"] == "otlp"
    assert resolved["OTEL_LOGS_EXPORTER"] == "console"
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" not in env


def test_exporter_names_split_like_the_sdk() -> None:
    assert exporter_names("traces", {}) == [LOCAL_EXPORTER]
    assert exporter_names("metrics", {"OTEL_METRICS_EXPORTER": "otlp, prometheus"}) == ["otlp", "prometheus"]
    assert exporter_names("logs", {"OTEL_LOGS_EXPORTER": "none"}) == []


def test_the_default_protocol_port_is_the_specifications() -> None:
    assert OTLP_PORTS[DEFAULT_PROTOCOL] == 4318
    assert OTLP_PORTS["grpc"] == 4317


def test_pipeline_doc_carries_the_generated_defaults_table() -> None:
    page = (REPO / "docs" / "pipeline.md").read_text()
    assert defaults_markdown() in page, "regenerate with: python -m ricecoder_otel.kernel.defaults"


def test_deployment_doc_states_the_same_default_protocol_and_exporters() -> None:
    page = (REPO / "docs" / "deployment.md").read_text()
    port = OTLP_PORTS[DEFAULT_PROTOCOL]
    assert f"default protocol is `{DEFAULT_PROTOCOL}` (the agent's port {port})" in page
    assert f"OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:{port}    # {DEFAULT_PROTOCOL}, the default" in page
    assert f"exporter `{LOCAL_EXPORTER}`" in page
    # No page may call another protocol the default.
    for doc in ("deployment.md", "pipeline.md"):
        text = (REPO / "docs" / doc).read_text()
        for other in set(OTLP_PORTS) - {DEFAULT_PROTOCOL}:
            assert f"{other} (the Python default)" not in text
            assert f"`{other}` is the default" not in text
        assert "4317    # gRPC (the Python default)" not in text
