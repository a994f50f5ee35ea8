"""Which metric exporters run: the user's OTEL_METRICS_EXPORTER, else metrics.exporters, else the default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.defaults import apply_env_defaults
from ricecoder_otel.metrics.capability import MetricsCapability
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.store.exporters import LocalMetricExporter


def _exporters(config: MonitoringConfig) -> list[type]:
    pipeline = build_pipeline(config, set_global=False, span_exporters=[], log_exporters=[], watch_config=False)
    try:
        metrics = pipeline.capability("metrics")
        assert isinstance(metrics, MetricsCapability)
        return [type(reader.exporter) for reader in metrics.readers]
    finally:
        pipeline.shutdown()


@pytest.mark.parametrize("distro_ran_first", [False, True])
def test_metrics_exporters_from_the_config_replace_the_default(clean_env: Path, distro_ran_first: bool) -> None:
    if distro_ran_first:  # under opentelemetry-instrument the distro fills in OTEL_* defaults first
        apply_env_defaults(os.environ)
        assert os.environ["OTEL_METRICS_EXPORTER"] == "ricecoder_local"
    config = MonitoringConfig.model_validate({"metrics": {"exporters": ["console"]}})
    assert _exporters(config) == [ConsoleMetricExporter]


def test_the_users_variable_wins_over_the_config(clean_env: Path) -> None:
    os.environ["OTEL_METRICS_EXPORTER"] = "ricecoder_local"
    config = MonitoringConfig.model_validate({"metrics": {"exporters": ["console"]}})
    assert _exporters(config) == [LocalMetricExporter]


def test_none_exports_metrics_nowhere_and_unset_keeps_the_default(clean_env: Path) -> None:
    assert _exporters(MonitoringConfig.model_validate({"metrics": {"exporters": ["none"]}})) == []
    assert _exporters(MonitoringConfig()) == [LocalMetricExporter]
