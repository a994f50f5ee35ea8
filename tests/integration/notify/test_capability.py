"""The notifications capability in the real pipeline: hub transitions in, webhook and incident events out."""

from __future__ import annotations

import time
from pathlib import Path

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import AlertTransition
from ricecoder_otel.testing.capture import RicecoderCapture
from tests.harness.http_receiver import Receiver, Request


def _advance_until_delivered(capture: RicecoderCapture, receiver: Receiver, count: int, step: float) -> list[Request]:
    """Advance the manual clock by ``step`` until ``count`` requests arrived: the notifier's worker may
    take the transition after the first advance, and then counts its wait from the later time."""
    for _ in range(20):
        capture.advance(step)
        try:
            return receiver.wait_for(count, timeout=3.0)
        except AssertionError:
            continue
    return receiver.wait_for(count, timeout=1.0)


def test_transitions_on_the_hub_reach_a_webhook_and_open_an_incident(tmp_path: Path) -> None:
    receiver = Receiver()
    config = MonitoringConfig.model_validate({
        "store": {"location": str(tmp_path / "store.db")},
        "alerting": {"channels": [{"name": "hook", "type": "webhook", "url": receiver.url + "/hook"}],
                     "route": {"group_wait": "10s", "group_interval": "1m"}},
    })  # fmt: skip
    capture = RicecoderCapture(config)
    try:
        hub, clock = capture.pipeline.hub, capture.clock
        start = clock()
        hub.publish(AlertTransition(at=start, rule="QueueBacklog", series="queue.depth{queue=orders}",
                                    state="firing", value=120.0, threshold=100.0, severity="critical",
                                    active_since=start, annotations={"summary": "orders queue backlog"}))  # fmt: skip
        hub.flush()
        [request] = _advance_until_delivered(capture, receiver, 1, 10)  # group_wait on the manual clock
        body = request.json()
        assert body["status"] == "firing" and body["groupLabels"] == {"alertname": "QueueBacklog"}
        assert body["alerts"][0]["labels"] == {"alertname": "QueueBacklog", "queue": "orders", "severity": "critical"}
        hub.publish(AlertTransition(at=clock(), rule="QueueBacklog", series="queue.depth{queue=orders}",
                                    state="resolved", value=10.0, threshold=100.0, severity="critical",
                                    active_since=start))  # fmt: skip
        hub.flush()
        resolved = _advance_until_delivered(capture, receiver, 2, 60)[1].json()
        assert resolved["status"] == "resolved" and resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
        deadline = time.monotonic() + 60
        while True:
            events = capture.events("ricecoder.incident")
            changes = [e.log_record.attributes["ricecoder.incident.change"] for e in events]
            if changes == ["triggered", "resolved"] or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert changes == ["triggered", "resolved"]
    finally:
        capture.close()
        receiver.close()


TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo"


def test_notification_texts_pass_the_redaction_policy_before_they_leave(tmp_path: Path) -> None:
    receiver = Receiver()
    config = MonitoringConfig.model_validate({
        "store": {"location": str(tmp_path / "store.db")},
        "alerting": {"channels": [{"name": "hook", "type": "webhook", "url": receiver.url + "/hook"}],
                     "route": {"group_wait": "10s"}},
    })  # fmt: skip
    capture = RicecoderCapture(config)
    try:
        hub, clock = capture.pipeline.hub, capture.clock
        hub.publish(
            AlertTransition(
                at=clock(),
                rule="SignupErrors",
                series="signup.errors{user=ana@example.com}",
                state="firing",
                value=3.0,
                threshold=1.0,
                severity="warning",
                active_since=clock(),
                annotations={"summary": "signup failing for ana@example.com", "token": TOKEN},
            )
        )
        hub.flush()
        capture.advance(10)
        [request] = receiver.wait_for(1)
        text = request.body.decode()
        assert "ana@example.com" not in text and "eyJhbGciOiJIUzI1NiJ9" not in text
        assert "signup failing for" in text  # the rest of the text is kept
    finally:
        capture.close()
        receiver.close()
