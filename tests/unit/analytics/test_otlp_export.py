"""Raw analytics events leave over OTLP for a warehouse: the standard OTEL_* variables, the real
OTLP/HTTP log exporter, a loopback endpoint that decodes the protobuf."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from ricecoder_otel.analytics import AnalyticsEngine
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.testing.memory import ManualClock
from tests.harness.http_receiver import Receiver
from tests.unit.analytics.scenario import at

KEY = "otlp-test-key-0123456789"


@pytest.fixture
def environment() -> Iterator[None]:
    """The pipeline applies its OTEL_* defaults to os.environ: give them back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def value(any_value: AnyValue) -> object:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def test_analytics_events_are_exported_as_otlp_log_records_with_event_names(environment: None, tmp_path: Path) -> None:
    receiver = Receiver()
    os.environ.update(
        {
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"{receiver.url}/v1/logs",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        }
    )
    config = MonitoringConfig.model_validate(
        {
            "analytics": {"pseudonym_key": KEY, "allowed_properties": ["plan"], "tracking_id": "web"},
            "store": {"location": str(tmp_path / "t.db")},
        }
    )
    pipeline = build_pipeline(
        config, set_global=False, span_exporters=[], metric_readers=[], clock=ManualClock(start=at(0, 9)),
        watch_config=False,
    )  # fmt: skip
    try:
        analytics = pipeline.capability("analytics")
        assert isinstance(analytics, AnalyticsCapability) and analytics.core is not None
        engine = AnalyticsEngine().start()
        assert engine.track_action("alice", "export", {"plan": "pro"})
        assert engine.identify("alice", {"plan": "pro"})
        assert analytics.process() == 2
        assert pipeline.force_flush()
        pseudonym = analytics.core.pseudonymise("alice")
    finally:
        pipeline.shutdown()
        receiver.close()
    records = [
        record
        for request in receiver.received()
        if request.path == "/v1/logs"
        for resource in ExportLogsServiceRequest.FromString(request.body).resource_logs
        for scope in resource.scope_logs
        for record in scope.log_records
    ]
    by_name = {record.event_name: record for record in records}
    assert {"ricecoder.analytics.action", "session.start", "ricecoder.analytics.identify"} <= set(by_name)
    action = {kv.key: value(kv.value) for kv in by_name["ricecoder.analytics.action"].attributes}
    assert action["user.id"] == pseudonym and action["ricecoder.analytics.feature"] == "export"
    assert action["ricecoder.analytics.property.plan"] == "pro" and action["ricecoder.analytics.tracking_id"] == "web"
    assert by_name["ricecoder.analytics.action"].time_unix_nano == int(at(0, 9) * 1e9)
    assert "alice" not in repr(records)
