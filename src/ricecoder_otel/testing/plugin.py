"""pytest plugin: the ``ricecoder_capture`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ricecoder_otel.testing.capture import Capture


@pytest.fixture
def ricecoder_capture() -> Iterator[Capture]:
    """In-memory span, metric and log capture for asserting on telemetry."""
    capture = Capture()
    yield capture
    capture.shutdown()
