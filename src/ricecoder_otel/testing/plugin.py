"""pytest plugin: the ``ricecoder_capture`` fixture (see :class:`~ricecoder_otel.testing.RicecoderCapture`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ricecoder_otel.testing.capture import RicecoderCapture


@pytest.fixture
def ricecoder_capture(request: pytest.FixtureRequest) -> Iterator[RicecoderCapture]:
    """The real ricecoder pipeline with in-memory exporters and a manual clock.

    Telemetry recorded through the global OpenTelemetry API during the test is captured.
    Mark a test ``@pytest.mark.ricecoder_config({...})`` to build the pipeline from that config.
    """
    from ricecoder_otel.config import MonitoringConfig

    marker = request.node.get_closest_marker("ricecoder_config")
    config = MonitoringConfig.model_validate(marker.args[0]) if marker is not None else None
    capture = RicecoderCapture(config)
    yield capture
    capture.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ricecoder_config(dict): the MonitoringConfig for ricecoder_capture")
