"""Application ``logging`` records reach the log exporters exactly once under opentelemetry-instrument,
whether or not OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED is set (most tutorials set it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ricecoder_otel.store import open_store

BIN = Path(sys.executable).parent

APP = """
import logging
log = logging.getLogger("billing")
log.setLevel(logging.INFO)
for n in range(5):
    log.warning("invoice %d overdue", n)
log.info("batch done")
"""


@pytest.mark.parametrize("auto_instrumentation", [None, "true", "false"])
def test_each_log_record_is_exported_exactly_once(tmp_path: Path, auto_instrumentation: str | None) -> None:
    store = tmp_path / "telemetry.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env.update(RICECODER_STORE_PATH=str(store), OTEL_SERVICE_NAME="billing", OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="")
    if auto_instrumentation is not None:
        env["OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"] = auto_instrumentation
    (tmp_path / "app.py").write_text(APP)
    done = subprocess.run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, "app.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with open_store(str(store)) as opened:
        bodies = [log.body for log in opened.query_logs(limit=1000) if not log.event_name]
    expected = [f"invoice {n} overdue" for n in range(5)] + ["batch done"]
    # Other records (OpenTelemetry's own start-up warnings) may be there too; ours are there once each.
    assert {body: bodies.count(body) for body in expected} == dict.fromkeys(expected, 1), done.stderr[-3000:]
