"""Group events on the hub and as a metric an alert rule pages on: a spike fires a rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.errors import ErrorEvent, track_error
from ricecoder_otel.errors.otel import GROUP_EVENTS_METRIC
from ricecoder_otel.testing import ManualClock
from tests.unit.errors.conftest import ErrorsCapture

SPIKE_RULE = {
    "name": "error-spike",
    "metric": GROUP_EVENTS_METRIC,
    "match": {"ricecoder.error.group.kind": "spike"},
    "aggregation": "increase",
    "window": "5m",
    "operator": ">",
    "threshold": 0,
    "severity": "warning",
    "annotations": {"summary": "{{ $value }} error groups spiked in 5 minutes"},
}


def capture(tmp_path: Path) -> ErrorsCapture:
    config = MonitoringConfig.model_validate({
        "store": {"location": str(tmp_path / "telemetry.db")},
        "alerting": {"rules": [SPIKE_RULE], "evaluation_interval": "1d"},
    })  # fmt: skip
    return ErrorsCapture(config, clock=ManualClock())


def fail(cap: ErrorsCapture, times: int) -> None:
    for n in range(times):
        at = datetime.fromtimestamp(cap.clock(), UTC)
        track_error(ErrorEvent(message=f"stock for sku {n} went negative", error_type="StockError", timestamp=at))
    cap.drain()


def spike_alerts(cap: ErrorsCapture) -> list[tuple[str, str]]:
    alerting = cap.pipeline.capability("alerting")
    assert isinstance(alerting, AlertingCapability)
    alerting.evaluate_now()
    cap.pipeline.hub.flush()
    return [(a["ricecoder.alert.state"], a["ricecoder.alert.annotation.summary"])
            for a in (e.log_record.attributes or {} for e in cap.events("ricecoder.alert"))
            if a["ricecoder.alert.name"] == "error-spike"]  # fmt: skip


def kinds(cap: ErrorsCapture) -> list[str]:
    events = cap.events("ricecoder.error.group")
    return [str((e.log_record.attributes or {})["ricecoder.error.group.kind"]) for e in events]


def test_a_spike_is_a_hub_event_and_a_metric_an_alert_rule_fires_on(tmp_path: Path) -> None:
    cap = capture(tmp_path)
    try:
        for _ in range(6):  # a steady two errors a minute: a new group, no spike, no alert
            fail(cap, 2)
            cap.advance(60)
            assert spike_alerts(cap) == []
        assert kinds(cap) == ["new"]
        fail(cap, 12)  # twelve in one minute: 10 or more, and over five times the usual rate
        [spike] = [e for e in cap.events("ricecoder.error.group")
                   if (e.log_record.attributes or {})["ricecoder.error.group.kind"] == "spike"]  # fmt: skip
        assert (spike.log_record.attributes or {})["ricecoder.error.window_count"] == 10
        assert kinds(cap) == ["new", "spike"]  # once per window, not once per error after the tenth
        points = {attrs["ricecoder.error.group.kind"]: p.value for attrs, p in cap.metric(GROUP_EVENTS_METRIC)}
        assert points == {"new": 1, "regression": 0, "spike": 1}  # one label, three series
        cap.advance(1)
        firing = ("firing", "1 error groups spiked in 5 minutes")
        assert spike_alerts(cap) == [firing]
        cap.advance(6 * 60)  # the spike leaves the rule's window
        fail(cap, 1)
        assert spike_alerts(cap) == [firing, ("resolved", "1 error groups spiked in 5 minutes")]
    finally:
        cap.close()
