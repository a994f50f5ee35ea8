"""Firing alerts survive a restart through the store: no second firing, a resolution while down resolves."""

from __future__ import annotations

from pathlib import Path

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.testing import ManualClock, RicecoderCapture

RULE = {"name": "deep-queue", "metric": "queue.depth", "threshold": 10, "severity": "critical"}


def lifetime(store: Path, depth: float) -> list[str]:
    """One process: record the gauge, evaluate once, return the alert states it published."""
    config = MonitoringConfig.model_validate(
        {"alerting": {"rules": [RULE], "evaluation_interval": "1d"}, "store": {"location": str(store)}}
    )
    cap = RicecoderCapture(config, clock=ManualClock())
    try:
        cap.pipeline.meter_provider.get_meter("shop").create_gauge("queue.depth").set(depth, {"queue": "mail"})
        capability = cap.pipeline.capability("alerting")
        assert isinstance(capability, AlertingCapability)
        capability.evaluate_now()
        return [e.log_record.attributes["ricecoder.alert.state"] for e in cap.events("ricecoder.alert")]
    finally:
        cap.close()


def test_a_firing_alert_is_not_announced_again_after_a_restart_and_resolves_after_the_next(tmp_path: Path) -> None:
    store = tmp_path / "telemetry.db"
    assert lifetime(store, 20) == ["firing"]
    assert lifetime(store, 25) == []  # still firing: restored from the store, not a new alert
    assert lifetime(store, 0) == ["resolved"]  # the condition ended while the process was down
    assert lifetime(store, 0) == []
    assert lifetime(store, 30) == ["firing"]


def test_state_of_a_removed_rule_is_forgotten(tmp_path: Path) -> None:
    store = tmp_path / "telemetry.db"
    assert lifetime(store, 20) == ["firing"]
    config = MonitoringConfig.model_validate({"store": {"location": str(store)}})
    RicecoderCapture(config, clock=ManualClock()).close()  # no rules: the row of deep-queue goes
    assert lifetime(store, 20) == ["firing"]
