"""The real pipeline with error tracking writing to a throw-away store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.errors.capability import ErrorsCapability
from ricecoder_otel.testing import RicecoderCapture

settings.register_profile("ricecoder-errors", database=None)
settings.load_profile("ricecoder-errors")


class ErrorsCapture(RicecoderCapture):
    """A capture whose error worker is drained before every assertion."""

    @property
    def errors(self) -> ErrorsCapability:
        capability = self.pipeline.capability("error_tracking")
        assert isinstance(capability, ErrorsCapability)
        return capability

    def drain(self) -> None:
        assert self.errors.flush(10)
        self.pipeline.hub.flush()

    def exception_records(self) -> list[Any]:
        self.drain()
        return [r for r in self.logs() if r.log_record.event_name == "exception"]


def errors_config(tmp_path: Path, **section: object) -> MonitoringConfig:
    return MonitoringConfig.model_validate(
        {"store": {"location": str(tmp_path / "telemetry.db")}, "error_tracking": section}
    )


@pytest.fixture
def errors_capture(tmp_path: Path) -> Iterator[ErrorsCapture]:
    capture = ErrorsCapture(errors_config(tmp_path, release="shop@1.0", environment="test"))
    yield capture
    capture.close()
