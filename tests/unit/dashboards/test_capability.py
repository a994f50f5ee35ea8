"""The in-application dashboard server: on with a port, reconfigured live, never in the way of the application."""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path

import pytest

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.capability import DashboardsCapability
from ricecoder_otel.pipeline import build_pipeline
from tests.harness.ports import free_port


def _config(tmp_path: Path, **dashboards: object) -> MonitoringConfig:
    store = {"location": str(tmp_path / "telemetry.db")}
    return MonitoringConfig.model_validate(
        {"store": store, "metrics": {"system_metrics": False}, "dashboards": dashboards}
    )


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_serves_inside_the_application_when_a_port_is_set_and_follows_config_changes(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, port=port)
    pipeline = build_pipeline(config, set_global=False, store=str(tmp_path / "telemetry.db"), span_exporters=[],
                              log_exporters=[], watch_config=False)  # fmt: skip
    try:
        capability = pipeline.capability("dashboards")
        assert isinstance(capability, DashboardsCapability) and capability.server is not None
        listing = _get(f"http://127.0.0.1:{port}/api/dashboards")
        assert [d["uid"] for d in listing] == list(builtin_dashboards())  # type: ignore[union-attr]
        pipeline.apply(config, _config(tmp_path, port=0))
        assert capability.server is None
        with pytest.raises(OSError):
            _get(f"http://127.0.0.1:{port}/api/dashboards")
        pipeline.apply(_config(tmp_path, port=0), config)
        assert _get(f"http://127.0.0.1:{port}/api/dashboards")
    finally:
        pipeline.shutdown()
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/api/dashboards")


def test_no_port_no_server_and_a_public_interface_without_token_is_refused_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for settings in ({}, {"port": free_port(), "host": "0.0.0.0"}):
        with caplog.at_level(logging.WARNING, logger="ricecoder_otel"):
            pipeline = build_pipeline(_config(tmp_path, **settings), set_global=False, span_exporters=[],
                                      log_exporters=[], watch_config=False)  # fmt: skip
        try:
            capability = pipeline.capability("dashboards")
            assert isinstance(capability, DashboardsCapability) and capability.server is None
        finally:
            pipeline.shutdown()
    assert "the dashboard server did not start: listening on 0.0.0.0 exposes telemetry" in caplog.text
