"""Incident acknowledgements announced on the event hub become audit records; other changes do not."""

from __future__ import annotations

import json
from pathlib import Path

from ricecoder_otel.compliance.audit import verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import IncidentChanged
from ricecoder_otel.testing import RicecoderCapture

KEY = "a-checkpoint-key-of-32-characters"


def test_an_acknowledged_incident_is_audited_and_other_changes_are_not(tmp_path: Path) -> None:
    config = MonitoringConfig.model_validate({"compliance": {"audit": {"path": str(tmp_path), "checkpoint_key": KEY}}})
    capture = RicecoderCapture(config)
    try:
        hub = capture.pipeline.hub
        for change, state in (("triggered", "triggered"), ("acknowledged", "acknowledged"), ("resolved", "resolved")):
            hub.publish(IncidentChanged(at=1_800_000_000.0, incident_id="inc-7", change=change, state=state,
                                        title="checkout errors", severity="critical"))  # fmt: skip
        hub.flush()
        [record] = [json.loads(line) for line in (tmp_path / JOURNAL).read_bytes().splitlines()]
        assert (record["action"], record["resource"], record["outcome"]) == ("incident.acknowledge", "inc-7", "success")
        assert record["details"]["ricecoder.incident.state"] == "acknowledged"
        assert record["details"]["ricecoder.incident.severity"] == "critical"
    finally:
        capture.close()
    assert verify_journal(tmp_path, KEY.encode()).ok
