"""The default route (``group_wait`` 0s): a burst from one evaluation goes out at once, as one group notification."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.capability import NotificationCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import AlertTransition, EventHub
from ricecoder_otel.testing import ManualClock, RicecoderCapture
from tests.harness.http_receiver import Receiver

RULE = {"name": "deep-queue", "metric": "queue.depth", "group_by": ["queue"], "threshold": 10, "severity": "critical"}


def test_alerts_firing_in_one_evaluation_reach_the_webhook_at_once_in_one_notification(tmp_path: Path) -> None:
    receiver = Receiver()
    config = MonitoringConfig.model_validate({
        "store": {"location": str(tmp_path / "store.db")},
        "alerting": {"rules": [RULE], "evaluation_interval": "1d",
                     "channels": [{"name": "hook", "type": "webhook", "url": receiver.url + "/hook"}]},
    })  # fmt: skip
    cap = RicecoderCapture(config, clock=ManualClock())
    try:
        gauge = cap.pipeline.meter_provider.get_meter("shop").create_gauge("queue.depth")
        for queue in ("mail", "orders", "billing"):
            gauge.set(20, {"queue": queue})
        alerting = cap.pipeline.capability("alerting")
        notify = cap.pipeline.capability("notifications")
        assert isinstance(alerting, AlertingCapability) and isinstance(notify, NotificationCapability)
        assert alerting.evaluate_now() == 3
        # The manual clock never moves: nothing waits for a group_wait.
        [request] = receiver.wait_for(1)
        body = request.json()
        assert body["status"] == "firing" and body["groupLabels"] == {"alertname": "deep-queue"}
        assert sorted(a["labels"]["queue"] for a in body["alerts"]) == ["billing", "mail", "orders"]
        assert notify.service is not None
        deadline = time.monotonic() + 60
        while (rows := notify.service.tables.rows()) and rows[0].state != "delivered" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [(r.channel, r.state, len(r.notification.alerts)) for r in rows] == [("hook", "delivered", 3)]
    finally:
        cap.close()
        receiver.close()


class Recorder:
    """Stands in for the notification service: records what the capability hands over, and how."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def submit(self, alert: Alert) -> bool:
        self.calls.append(("one", [alert.labels["queue"]]))
        return True

    def submit_many(self, alerts: list[Alert]) -> int:
        self.calls.append(("batch", [a.labels["queue"] for a in alerts]))
        return len(alerts)


def transition(queue: str, at: float = 100.0, **extra: Any) -> AlertTransition:
    return AlertTransition(at=at, rule="deep-queue", series=f"queue.depth{{queue={queue}}}", state="firing",
                           value=20.0, threshold=10.0, active_since=at, **extra)  # fmt: skip


def test_a_batch_is_handed_over_at_once_and_single_transitions_from_other_publishers_still_arrive() -> None:
    hub = EventHub(background=False)
    capability = NotificationCapability()
    recorder = Recorder()
    capability.service = recorder  # type: ignore[assignment]
    capability._hub = hub
    capability._config = MonitoringConfig.model_validate({"alerting": {"channels": [{"name": "c", "type": "console"}]}})
    capability.start()
    burst = (transition("mail"), transition("orders"))
    hub.publish_batch(burst)  # what the rule engine publishes for one evaluation
    hub.publish(transition("billing", at=101.0))  # e.g. the performance capability: no batch
    hub.publish(transition("spam", at=101.0, flapping=True))  # held while flapping
    hub.flush()
    assert recorder.calls == [("batch", ["mail", "orders"]), ("one", ["billing"])]
    capability.stop()
