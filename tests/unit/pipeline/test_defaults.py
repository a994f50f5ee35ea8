from ricecoder_otel.kernel.defaults import LOCAL_EXPORTER, apply_env_defaults, env_defaults


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
