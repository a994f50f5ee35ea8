"""``track_action`` on the calling thread against the bare SDK's log emit, in one run.

Three measurements per round, alternating: (1) ``AnalyticsEngine.track_action`` with the real
pipeline running (consent check, a bounded-queue append; the worker is held so the queue is
drained between batches, off the clock); (2) the worker's cost per queued call (engine update,
pseudonym, sketch update, the log record emitted to an in-memory exporter); (3) the bare SDK:
``Logger.emit`` of an event record through a ``BatchLogRecordProcessor`` to an exporter that
drops it. Medians of the rounds are compared.

Run: ``PYTHONPATH=src:. python -m benchmarks.analytics.cost --out benchmarks/results``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult

from ricecoder_otel.analytics import AnalyticsEngine
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import build_pipeline

COMMAND = "PYTHONPATH=src:. python -m benchmarks.analytics.cost --out benchmarks/results"
BATCH = 2000


class _Drop(LogRecordExporter):
    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    config = MonitoringConfig.model_validate(
        {
            "analytics": {
                "pseudonym_key": "benchmark-key-0123456789",
                "event_buffer_size": BATCH * 2,
                "allowed_properties": ["plan"],
                "flush_interval": "1d",
            },
            "metrics": {"enabled": False},
        }
    )
    pipeline = build_pipeline(
        config, set_global=False, span_exporters=[], metric_readers=[], log_exporters=[_Drop()], watch_config=False
    )
    analytics = pipeline.capability("analytics")
    assert isinstance(analytics, AnalyticsCapability)
    worker = analytics._thread
    analytics._stop.set()  # hold the worker: this process drains the queue itself, off the clock
    analytics._wake.set()
    if worker is not None:
        worker.join()
    engine = AnalyticsEngine().start()
    bare = LoggerProvider()
    bare.add_log_record_processor(BatchLogRecordProcessor(_Drop(), max_queue_size=BATCH * 4))
    logger = bare.get_logger("bench")
    track, work, emit = [], [], []
    for r in range(args.rounds):
        users = [f"user-{r}-{n % 500}" for n in range(BATCH)]
        props = {"plan": "pro"}
        t0 = time.perf_counter_ns()
        for user in users:
            engine.track_action(user, "search", props)
        track.append((time.perf_counter_ns() - t0) / BATCH)
        t0 = time.perf_counter_ns()
        analytics.process()
        work.append((time.perf_counter_ns() - t0) / BATCH)
        t0 = time.perf_counter_ns()
        for user in users:
            logger.emit(
                severity_number=SeverityNumber.INFO,
                body="search",
                event_name="app.search",
                attributes={"user.id": user, "plan": "pro"},
            )
        emit.append((time.perf_counter_ns() - t0) / BATCH)
        bare.force_flush()
    result = {
        "command": COMMAND,
        "python": sys.version.split()[0],
        "calls_per_round": BATCH,
        "rounds": args.rounds,
        "track_action_ns_median": statistics.median(track),
        "worker_ns_per_call_median": statistics.median(work),
        "bare_sdk_emit_ns_median": statistics.median(emit),
        "track_action_over_bare_emit": statistics.median(track) / statistics.median(emit),
        "track_action_plus_worker_over_bare_emit": (statistics.median(track) + statistics.median(work))
        / statistics.median(emit),
    }
    pipeline.shutdown()
    bare.shutdown()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "analytics-cost.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
