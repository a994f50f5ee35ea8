"""Shutdown against a dead OTLP endpoint ends within the configured budget and says what was not sent."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.harness.ports import free_port

APP = """
import atexit, logging, sys, time
import ricecoder_otel
from opentelemetry import trace

pipeline = ricecoder_otel.configure(sys.argv[1], service_name="exit-test")
tracer = trace.get_tracer("exit-test")
for n in range(200):
    with tracer.start_as_current_span(f"job {n}"):
        logging.getLogger("exit-test").warning("job %d", n)
# Process exit runs the pipeline's shutdown (atexit), as SIGTERM handling in servers does; this hook,
# registered later, runs first and marks when shutdown begins (CLOCK_MONOTONIC is system-wide).
atexit.register(lambda: print(f"exit-begins {time.monotonic()}", flush=True))
"""


def _run(tmp_path: Path, budget: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Seconds from the start of the process's exit to its end, and the finished process."""
    config = tmp_path / "ricecoder.yaml"
    config.write_text(f"shutdown_timeout: {budget}\n")
    (tmp_path / "app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    # Nothing listens there: every export is refused and the OTLP exporters retry with backoff.
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "app.py", str(config)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    ended = time.monotonic()
    [mark] = [line for line in done.stdout.splitlines() if line.startswith("exit-begins ")]
    return ended - float(mark.split()[1]), done


def test_exit_with_a_dead_endpoint_stays_within_the_budget_and_counts_what_was_lost(tmp_path: Path) -> None:
    elapsed, done = _run(tmp_path, "2s")
    assert done.returncode == 0, done.stderr[-3000:]
    # The exporters alone would retry for 10 s per signal; the budget is 2 s (interpreter teardown is the rest).
    assert elapsed < 5, (elapsed, done.stderr[-3000:])
    assert "shutdown budget of 2.0s exhausted" in done.stderr
    assert "not sent:" in done.stderr and "spans.OTLPSpanExporter=" in done.stderr
