"""Process-wide state every test starts from: nothing reported yet, no self-telemetry counts.

``report_once`` remembers what it logged for the life of the process, and the
self-telemetry tallies are global too; without this reset a test's outcome would
depend on which tests ran before it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ricecoder_otel.kernel.guard import reset_reports
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    reset_reports()
    SELF_TELEMETRY.reset()
    yield
    reset_reports()
    SELF_TELEMETRY.reset()
