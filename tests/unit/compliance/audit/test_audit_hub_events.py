"""Each durable audit record is announced on the event hub, once, after the journal holds it."""

from __future__ import annotations

import json
from pathlib import Path

from ricecoder_otel.compliance.audit import audit
from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import AUDIT_EVENT, AuditRecorded
from ricecoder_otel.testing import RicecoderCapture

KEY = "a-checkpoint-key-of-32-characters"


def test_subscribers_receive_each_durable_record_and_the_log_record_is_written_once(tmp_path: Path) -> None:
    config = MonitoringConfig.model_validate({"compliance": {"audit": {"path": str(tmp_path), "checkpoint_key": KEY}}})
    capture = RicecoderCapture(config)
    received: list[tuple[AuditRecorded, list[str]]] = []

    def on_record(event: AuditRecorded) -> None:
        # Durable first: by the time a subscriber hears of a record, the journal holds it.
        hashes = [json.loads(line)["hash"] for line in (tmp_path / JOURNAL).read_bytes().splitlines()]
        received.append((event, hashes))

    capture.pipeline.hub.subscribe(AuditRecorded, on_record, name="test.audit")
    try:
        first = audit("order.refund", "order/42", "success", actor="alice")
        second = audit("user.delete", "user/7", "denied", actor="bob")
        assert first is not None and second is not None
        capture.pipeline.hub.flush()
        events = [event for event, _ in received]
        assert [(e.seq, e.record_hash, e.action, e.resource, e.outcome, e.actor) for e in events] == [
            (first.seq, first.hash, "order.refund", "order/42", "success", "alice"),
            (second.seq, second.hash, "user.delete", "user/7", "denied", "bob"),
        ]
        assert all(event.record_hash in hashes for event, hashes in received)
        assert events[0].attributes()["ricecoder.audit.id"] == first.hash
        # One ricecoder.audit log record per audit record: the hub's log bridge does not add a second.
        ids = [(e.log_record.attributes or {}).get("ricecoder.audit.id") for e in capture.events(AUDIT_EVENT)]
        assert ids == [first.hash, second.hash]
    finally:
        capture.close()
