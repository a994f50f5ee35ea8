"""Every registered capability switches off and on again live, from a config file change.

`test_switching.py` covers RED metrics, anomaly detection, alert rules, self-telemetry and the
master switch; this module covers every other capability of the registry, and
:func:`test_every_registered_capability_has_a_live_switching_test` fails when a capability is
registered without one. Each test switches the capability's section off in the watched config
file, checks its work stops and its threads are gone, then switches it back on and checks both
come back, with no restart.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ricecoder_otel.analytics.api import AnalyticsEngine
from ricecoder_otel.compliance.audit.api import audit
from ricecoder_otel.compliance.redaction import active_redactor
from ricecoder_otel.config import load_config
from ricecoder_otel.errors.tracker import ErrorEvent, track_error
from ricecoder_otel.kernel.events import AlertTransition
from ricecoder_otel.kernel.registry import load_capabilities
from ricecoder_otel.performance import PerformanceMonitor
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.pipeline import Pipeline, build_pipeline
from ricecoder_otel.testing import InMemoryMetricExporter, ManualClock
from tests.harness.ports import free_port

COVERED_ELSEWHERE = {
    "metrics": "test_switching.py::test_metrics_off_stops_red_metrics_and_frees_the_reader_thread_then_on_resumes",
    "anomaly": "test_switching.py::test_anomaly_off_stops_feeding_the_detectors_then_on_resumes",
    "alerting": "test_switching.py::test_alerting_off_ignores_scores_then_on_evaluates_again",
    "self_telemetry": "test_switching.py::test_self_telemetry_follows_the_master_switch",
}
COVERED_HERE = {
    "error_tracking": "test_error_tracking_off_unbinds_and_frees_its_worker_then_on_tracks_again",
    "performance": "test_performance_off_measures_nothing_and_frees_its_worker_then_on_resumes",
    "analytics": "test_analytics_off_refuses_calls_and_frees_its_thread_then_on_accepts_again",
    "notifications": "test_notifications_off_sends_nothing_and_frees_its_threads_then_on_delivers",
    "redaction": "test_redaction_off_exports_plain_text_then_on_redacts_again",
    "audit": "test_audit_off_records_nothing_and_frees_its_thread_then_on_records_again",
    "retention": "test_compliance_off_stops_retention_and_reports_then_on_restarts_them",
    "compliance-reports": "test_compliance_off_stops_retention_and_reports_then_on_restarts_them",
    "dashboards": "test_dashboards_off_closes_the_port_then_on_serves_again",
}


class Harness:
    """A pipeline built from a watched config file; ``switch`` edits the file and applies it live."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.path = tmp_path / "ricecoder.yaml"
        self.port = free_port()
        self.alerts_file = tmp_path / "alerts.jsonl"
        self.spans = InMemorySpanExporter()
        self.logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.clock = ManualClock()
        self.write({})
        self.pipeline: Pipeline = build_pipeline(
            load_config(self.path),
            config_path=self.path,
            set_global=False,
            span_exporters=[self.spans],
            metric_readers=[InMemoryMetricExporter()],
            log_exporters=[self.logs],
            clock=self.clock,
        )

    def document(self) -> dict[str, Any]:
        return {
            "store": {"location": str(self.tmp / "telemetry.db")},
            "metrics": {"export_interval": "1h", "system_metrics": False},
            "alerting": {
                "channels": [{"name": "file", "type": "file", "path": str(self.alerts_file)}],
                "route": {"group_wait": "0s"},
            },
            "dashboards": {"port": self.port},
            "compliance": {"audit": {"path": str(self.tmp / "audit")}},
        }

    def write(self, overrides: dict[str, dict[str, Any]]) -> None:
        document = self.document()
        for section, values in overrides.items():
            document[section] = {**document.get(section, {}), **values}
        self.path.write_text(yaml.safe_dump(document))

    def switch(self, overrides: dict[str, dict[str, Any]]) -> None:
        self.write(overrides)
        assert self.pipeline.watcher is not None and self.pipeline.watcher.check()

    def log_records(self) -> list[Any]:
        self.pipeline.force_flush()
        return list(self.logs.get_finished_logs())

    def log_bodies(self) -> list[str]:
        return [str(r.log_record.body) for r in self.log_records()]


@pytest.fixture
def harness(tmp_path: Path, clean_env: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.pipeline.shutdown()


def _threads(*prefixes: str) -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith(prefixes)}


def _eventually(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_every_registered_capability_has_a_live_switching_test() -> None:
    registered = {capability.name for capability in load_capabilities()}
    assert registered == set(COVERED_ELSEWHERE) | set(COVERED_HERE)
    for test in COVERED_HERE.values():
        assert callable(globals()[test])


def test_error_tracking_off_unbinds_and_frees_its_worker_then_on_tracks_again(harness: Harness) -> None:
    hooked = sys.excepthook  # on: the capability hooks uncaught exceptions
    assert track_error(ErrorEvent(message="first", error_type="Boom"))
    assert _eventually(lambda: bool(_threads("ricecoder-errors")))

    harness.switch({"error_tracking": {"enabled": False}})
    assert "error_tracking" not in harness.pipeline.running
    restored = sys.excepthook
    assert restored is not hooked
    assert not track_error(ErrorEvent(message="while off", error_type="Boom"))
    assert _eventually(lambda: not _threads("ricecoder-errors"))

    harness.switch({"error_tracking": {"enabled": True}})
    assert sys.excepthook is not restored
    assert track_error(ErrorEvent(message="after", error_type="Boom"))
    capability = harness.pipeline.capability("error_tracking")
    assert capability.flush(10)  # type: ignore[attr-defined]
    exceptions = [r for r in harness.log_records() if r.log_record.event_name == "exception"]
    assert sorted(str(r.log_record.body) for r in exceptions) == ["Boom: after", "Boom: first"]  # nothing while off


def _serve(harness: Harness, route: str) -> None:
    tracer = harness.pipeline.tracer_provider.get_tracer("test")
    attributes: dict[str, str | int] = {
        "http.route": route,
        "http.request.method": "GET",
        "http.response.status_code": 200,
    }
    with tracer.start_as_current_span(f"GET {route}", kind=SpanKind.SERVER, attributes=attributes):
        pass


def test_performance_off_measures_nothing_and_frees_its_worker_then_on_resumes(harness: Harness) -> None:
    capability = harness.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability)
    monitor = PerformanceMonitor().start()
    _serve(harness, "/orders")
    capability.process_now()
    assert monitor.percentiles("GET /orders").count == 1
    assert _threads("ricecoder-performance")

    harness.switch({"performance": {"enabled": False}})
    assert "performance" not in harness.pipeline.running
    assert _eventually(lambda: not _threads("ricecoder-performance"))
    assert monitor.operations() == []  # nothing to read while off
    _serve(harness, "/orders")  # not measured

    harness.switch({"performance": {"enabled": True}})
    assert _threads("ricecoder-performance")
    _serve(harness, "/orders")
    capability.process_now()
    assert monitor.percentiles("GET /orders").count == 2  # before and after; not the one served while off


def test_analytics_off_refuses_calls_and_frees_its_thread_then_on_accepts_again(harness: Harness) -> None:
    engine = AnalyticsEngine()
    assert engine.track_action("u1", "checkout")
    assert _threads("ricecoder-analytics")
    harness.switch({"analytics": {"enabled": False}})
    assert not engine.track_action("u1", "checkout")
    assert not _threads("ricecoder-analytics")
    harness.switch({"analytics": {"enabled": True}})
    assert engine.track_action("u1", "checkout")
    assert _threads("ricecoder-analytics")


def _notified(harness: Harness) -> list[str]:
    """Alert names in the file channel's notifications, in delivery order."""
    if not harness.alerts_file.exists():
        return []
    lines = [json.loads(line) for line in harness.alerts_file.read_text().splitlines() if line.strip()]
    return [alert["labels"]["alertname"] for line in lines for alert in line["alerts"]]


def _alert(harness: Harness, rule: str) -> None:
    harness.pipeline.hub.publish(AlertTransition(
        at=harness.clock(), rule=rule, series=f"queue.depth{{queue={rule}}}", state="firing", value=2.0,
        threshold=1.0, severity="critical", active_since=harness.clock(),
    ))  # fmt: skip
    harness.pipeline.hub.flush()


def test_notifications_off_sends_nothing_and_frees_its_threads_then_on_delivers(harness: Harness) -> None:
    notify_threads = ("ricecoder-notify-dispatch", "ricecoder-notify-delivery")
    assert _threads(*notify_threads)
    _alert(harness, "before")
    assert _eventually(lambda: _notified(harness) == ["before"])

    harness.switch({"alerting": {"enabled": False}})
    assert {"alerting", "notifications"}.isdisjoint(harness.pipeline.running)
    assert _eventually(lambda: not _threads(*notify_threads))
    _alert(harness, "while_off")

    harness.switch({"alerting": {"enabled": True}})
    assert _threads(*notify_threads)
    _alert(harness, "after")
    assert _eventually(lambda: "after" in _notified(harness))
    assert _notified(harness) == ["before", "after"]  # what was published while off was never taken


def test_redaction_off_exports_plain_text_then_on_redacts_again(harness: Harness) -> None:
    logger = harness.pipeline.logger_provider.get_logger("shop")
    logger.emit(body="refund to ana@example.com")
    harness.pipeline.force_flush()  # redaction runs on the export path: export before switching
    harness.switch({"compliance": {"redaction": {"enabled": False}}})
    assert "redaction" not in harness.pipeline.running and active_redactor() is None
    logger.emit(body="refund to bo@example.com")
    harness.pipeline.force_flush()
    harness.switch({"compliance": {"redaction": {"enabled": True}}})
    assert active_redactor() is not None
    logger.emit(body="refund to cy@example.com")
    assert [b for b in harness.log_bodies() if b.startswith("refund")] == [
        "refund to [REDACTED:email]",
        "refund to bo@example.com",
        "refund to [REDACTED:email]",
    ]


def test_audit_off_records_nothing_and_frees_its_thread_then_on_records_again(harness: Harness) -> None:
    first = audit("export", "orders")
    assert first is not None
    assert _threads("ricecoder-audit-checkpoints")
    harness.switch({"compliance": {"audit_enabled": False}})
    assert "audit" not in harness.pipeline.running
    assert audit("export", "orders") is None
    assert not _threads("ricecoder-audit-checkpoints")
    harness.switch({"compliance": {"audit_enabled": True}})
    record = audit("export", "orders")
    assert record is not None and record.seq > first.seq  # the same journal goes on
    assert _threads("ricecoder-audit-checkpoints")


def test_compliance_off_stops_retention_and_reports_then_on_restarts_them(harness: Harness) -> None:
    compliance = {"redaction", "audit", "retention", "compliance-reports"}
    workers = ("ricecoder-retention", "ricecoder-compliance-reports", "ricecoder-audit-checkpoints")
    assert compliance <= harness.pipeline.running
    assert _threads(*workers) == set(workers)
    harness.switch({"compliance": {"enabled": False}})
    assert compliance.isdisjoint(harness.pipeline.running)
    assert _eventually(lambda: not _threads(*workers))
    harness.switch({"compliance": {"enabled": True}})
    assert compliance <= harness.pipeline.running
    assert _threads(*workers) == set(workers)


def _dashboards(port: int) -> list[Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/dashboards", timeout=10) as response:
        listing: list[Any] = json.loads(response.read())
    return listing


def test_dashboards_off_closes_the_port_then_on_serves_again(harness: Harness) -> None:
    assert _dashboards(harness.port)
    harness.switch({"dashboards": {"enabled": False}})
    assert "dashboards" not in harness.pipeline.running
    with pytest.raises(OSError):
        _dashboards(harness.port)
    assert not _threads("ricecoder-dashboards")
    harness.switch({"dashboards": {"enabled": True}})
    assert _dashboards(harness.port)
    assert _threads("ricecoder-dashboards")


def test_the_master_switch_off_leaves_no_capability_thread_and_on_brings_them_back(harness: Harness) -> None:
    kernel = {"ricecoder-events", "ricecoder-config-watcher"}  # the hub, and the watcher that switches back on
    before = _threads("ricecoder-") - kernel - {"ricecoder-errors"}  # the errors worker starts on first use
    assert {
        "ricecoder-metrics-InMemoryMetricExporter", "ricecoder-alerting", "ricecoder-notify-dispatch",
        "ricecoder-notify-delivery", "ricecoder-analytics", "ricecoder-performance", "ricecoder-dashboards",
        "ricecoder-audit-checkpoints", "ricecoder-retention", "ricecoder-compliance-reports",
    } <= before  # fmt: skip
    harness.path.write_text(yaml.safe_dump({**harness.document(), "enabled": False}))
    assert harness.pipeline.watcher is not None and harness.pipeline.watcher.check()
    assert harness.pipeline.running == set()
    assert _eventually(lambda: _threads("ricecoder-") <= kernel), _threads("ricecoder-")
    harness.switch({})
    assert harness.pipeline.running == {capability.name for capability in harness.pipeline.capabilities}
    assert _eventually(lambda: before <= _threads("ricecoder-")), before - _threads("ricecoder-")
