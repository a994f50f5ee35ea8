"""Flap detection end to end: a rule whose condition keeps changing is notified until it is marked
flapping; while it flaps no firing notification goes out (the resolution of the alert receivers
hold as firing does); once it settles its current state is sent."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.alerting.notify.capability import NotificationCapability
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.testing import RicecoderCapture


def test_notifications_are_held_while_an_alert_flaps_and_its_settled_state_is_sent(tmp_path: Path) -> None:
    sent = tmp_path / "notifications.jsonl"
    config = MonitoringConfig.model_validate({
        "store": {"location": str(tmp_path / "store.db")},
        "alerting": {
            "evaluation_interval": "1h",  # the test evaluates
            "rules": [{"name": "queue-high", "metric": "queue.level", "threshold": 10}],
            "flapping": {"history": 6, "high": 0.5, "low": 0.2},
            "channels": [{"name": "log", "type": "file", "path": str(sent)}],
            "route": {"group_wait": "0s", "group_interval": "1s"},
            "incidents": {"enabled": False},
        },
    })  # fmt: skip
    capture = RicecoderCapture(config)
    try:
        alerting = capture.pipeline.capability("alerting")
        notify = capture.pipeline.capability("notifications")
        assert isinstance(alerting, AlertingCapability) and isinstance(notify, NotificationCapability)
        level = capture.pipeline.meter_provider.get_meter("app").create_gauge("queue.level")

        def evaluate(value: float) -> list[tuple[str, bool]]:
            """One evaluation 2 s after the previous; what it published and, once delivered, what was sent."""
            level.set(value)
            capture.advance(2)
            seen = len(capture.events("ricecoder.alert"))
            alerting.evaluate_now()
            capture.pipeline.hub.flush()
            events = capture.events("ricecoder.alert")[seen:]
            service = notify.service
            assert service is not None
            passes, deadline = service.passes, time.monotonic() + 60
            while time.monotonic() < deadline:  # two dispatch passes after the hub delivered, outbox drained
                pending = NotifyTables(service.tables.store).rows(("pending",))
                if service.passes >= passes + 2 and not pending:
                    break
                time.sleep(0.02)
            attrs = [e.log_record.attributes or {} for e in events]
            return [(str(a["ricecoder.alert.state"]), bool(a.get("ricecoder.alert.flapping"))) for a in attrs]

        def statuses() -> list[str]:
            return [json.loads(line)["status"] for line in sent.read_text().splitlines()] if sent.exists() else []

        published, delivered = [], []
        for value in (20, 0, 20, 0, 20, 0, 20, 0, 20, 20, 20, 20, 20, 20, 20, 20, 20, 0):
            published.append(evaluate(value))
            delivered.append(len(statuses()))
        firing, resolved = ("firing", False), ("resolved", False)
        assert published == [[firing], [resolved], [firing], [resolved], [firing],
                             [("resolved", True)], [("firing", True)], [("resolved", True)], [("firing", True)],
                             [], [], [], [firing],  # settled while firing: its state restated
                             [], [], [], [], [resolved]]  # fmt: skip
        # Sent: each change until it flaps; while it flaps, only the resolution that ends the firing
        # alert the receivers hold (none is left stale), no firing; the settled state; later changes.
        assert delivered == [1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 8]
        assert statuses() == ["firing", "resolved", "firing", "resolved", "firing", "resolved", "firing", "resolved"]
    finally:
        capture.close()
