"""OTEL_EXPORTER_OTLP_ENDPOINT is shared by every signal: it switches all three to OTLP."""

from __future__ import annotations

import pytest

from ricecoder_otel.kernel.defaults import LOCAL_EXPORTER, apply_env_defaults, env_defaults

EXPORTER_VARIABLES = ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER")


def test_a_shared_endpoint_sends_traces_metrics_and_logs_over_otlp() -> None:
    defaults = env_defaults({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert {name: defaults[name] for name in EXPORTER_VARIABLES} == dict.fromkeys(EXPORTER_VARIABLES, "otlp")


def test_applying_the_shared_endpoint_sets_every_signal() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    apply_env_defaults(env)
    assert [env[name] for name in EXPORTER_VARIABLES] == ["otlp", "otlp", "otlp"]


@pytest.mark.parametrize(
    ("endpoint_variable", "remote"),
    [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER"),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_METRICS_EXPORTER"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_LOGS_EXPORTER"),
    ],
)
def test_a_per_signal_endpoint_switches_only_its_signal(endpoint_variable: str, remote: str) -> None:
    defaults = env_defaults({endpoint_variable: "http://collector:4318/v1/x"})
    assert {name: defaults[name] for name in EXPORTER_VARIABLES} == {
        name: "otlp" if name == remote else LOCAL_EXPORTER for name in EXPORTER_VARIABLES
    }


def test_an_empty_shared_endpoint_is_no_endpoint() -> None:
    defaults = env_defaults({"OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    assert [defaults[name] for name in EXPORTER_VARIABLES] == [LOCAL_EXPORTER] * 3
