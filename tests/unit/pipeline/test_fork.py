"""A fork while a metric collection is running leaves the child with a working pipeline."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Observation

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.testing import InMemoryMetricExporter, points_in

CHILD_OK, CHILD_DEADLOCKED, CHILD_LOST_METRICS = 0, 3, 4


def test_the_child_of_a_fork_during_collection_exports_normally(clean_env: object) -> None:
    exporter = InMemoryMetricExporter()
    config = MonitoringConfig.model_validate({"metrics": {"export_interval": "1s"}})
    pipeline = build_pipeline(config, set_global=False, span_exporters=[], metric_readers=[exporter],
                              log_exporters=[], watch_config=False)
    meter = pipeline.meter_provider.get_meter("test")
    collecting = threading.Event()
    release = threading.Event()

    def slow_callback(_: CallbackOptions) -> Iterable[Observation]:
        # Holds the SDK's collection locks while the main thread forks.
        if threading.current_thread() is not threading.main_thread() and not release.is_set():
            collecting.set()
            release.wait(0.5)
        return [Observation(1.0)]

    meter.create_observable_gauge("slow.gauge", [slow_callback])
    counter = meter.create_counter("child.work")
    try:
        assert collecting.wait(10), "the 1 s reader never collected"
        pid = os.fork()
        if pid == 0:  # the child: record, flush within a deadline, report through the exit code
            code = CHILD_DEADLOCKED
            try:
                release.set()
                counter.add(7)
                done = threading.Event()
                threading.Thread(target=lambda: (pipeline.meter_provider.force_flush(5000), done.set()),
                                 daemon=True).start()
                if done.wait(8):
                    values = [p.value for c in exporter.collections for _, p in points_in(c, "child.work")]
                    code = CHILD_OK if 7 in values else CHILD_LOST_METRICS
            finally:
                os._exit(code)
        release.set()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == CHILD_OK
    finally:
        release.set()
        pipeline.shutdown()


CHILD_DUPLICATE_WORKERS = 5


def test_the_child_of_a_fork_runs_each_background_worker_once(clean_env: object) -> None:
    """Every capability restarts its workers in the child, and only once (a worker restarted by
    both the pipeline's fork hook and its own would double the threads of every gunicorn worker)."""
    pipeline = build_pipeline(MonitoringConfig(), set_global=False, span_exporters=[], metric_readers=[],
                              log_exporters=[], watch_config=False)
    try:
        before = sorted(t.name for t in threading.enumerate() if t.name.startswith("ricecoder-"))
        assert "ricecoder-errors" in before and len(before) == len(set(before)), before
        pid = os.fork()
        if pid == 0:
            code = CHILD_DUPLICATE_WORKERS
            try:
                after = sorted(t.name for t in threading.enumerate() if t.name.startswith("ricecoder-"))
                code = CHILD_OK if after == before else CHILD_DUPLICATE_WORKERS
                if code != CHILD_OK:
                    os.write(2, f"parent {before}\nchild {after}\n".encode())
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == CHILD_OK
    finally:
        pipeline.shutdown()
