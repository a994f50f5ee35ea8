"""``ricecoder_otel.configure()`` for apps that do not start under ``opentelemetry-instrument``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ricecoder_otel.store import open_store

SCRIPT = """
import logging, sys
import ricecoder_otel
from opentelemetry import trace
from opentelemetry.trace import SpanKind

pipeline = ricecoder_otel.configure(service_name="worker")
assert ricecoder_otel.configure() is pipeline  # idempotent
metrics = ricecoder_otel.MetricsCollector().start()
with ricecoder_otel.PerformanceTimer("batch.run"):
    with trace.get_tracer("job").start_as_current_span("GET /jobs", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.route", "/jobs")
        span.set_attribute("http.response.status_code", 200)
        logging.getLogger("job").warning("job finished")
metrics.increment("jobs.done", 1, {"queue": "default"})
metrics.record_metric("jobs.done", "not a number")  # bad input is dropped, never raised
print("ok")
"""


def test_configure_builds_the_same_pipeline_without_opentelemetry_instrument(tmp_path: Path) -> None:
    store = tmp_path / "telemetry.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env["RICECODER_STORE_PATH"] = str(store)
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

    with open_store(str(store)) as opened:
        spans = opened.query_spans()
        names = {p.name for p in opened.query_metrics(limit=10_000)}
        logs = opened.query_logs()
    assert {s.name for s in spans} == {"batch.run", "GET /jobs"}
    assert all(s.service_name == "worker" for s in spans)
    assert {"jobs.done", "http.server.request.duration", "ricecoder.operation.duration"} <= names
    assert any(n.startswith("system.") for n in names)
    # ricecoder's own warnings travel with the app's logs.
    assert any("dropped a value for metric 'jobs.done'" in log.body for log in logs)
    finished = [log for log in logs if log.body == "job finished"]
    assert finished and finished[0].trace_id == next(s.trace_id for s in spans if s.name == "GET /jobs")
