import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.kernel import defaults
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY


@pytest.fixture
def clean_env(tmp_path: Path) -> Iterator[Path]:
    """The pipeline applies OTEL_* defaults to os.environ: restore it afterwards."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("OTEL_", "RICECODER_")):
            del os.environ[key]
    store = tmp_path / "telemetry.db"
    os.environ["RICECODER_STORE_PATH"] = str(store)
    SELF_TELEMETRY.reset()
    defaults._APPLIED_TO_PROCESS.clear()  # a fresh process: nothing filled in by the distro yet
    yield store
    os.environ.clear()
    os.environ.update(saved)
    defaults._APPLIED_TO_PROCESS.clear()
    SELF_TELEMETRY.reset()
