"""The audit capability in the real pipeline: audit() and configuration changes become durable,
chained records, exported as ``ricecoder.audit`` log records."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry import trace

from ricecoder_otel.compliance.audit import audit, verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.testing import RicecoderCapture

KEY = "a-checkpoint-key-of-32-characters"


def config(directory: Path, **audit_options: object) -> MonitoringConfig:
    return MonitoringConfig.model_validate(
        {"compliance": {"audit": {"path": str(directory), "checkpoint_key": KEY, **audit_options}}}
    )


def records(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / JOURNAL).read_bytes().splitlines()]


def test_audit_records_are_durable_chained_and_exported_with_their_trace(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path))
    try:
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span("refund") as span:
            record = audit("order.refund", "order/42", "success", actor="alice", amount=10)
        assert record is not None
        stored = records(tmp_path)  # on disk when audit() returned
        assert stored[-1]["hash"] == record.hash and stored[-1]["actor"] == "alice"
        assert stored[-1]["trace_id"] == format(span.get_span_context().trace_id, "032x")
        assert stored[-1]["details"] == {"amount": 10}
        [event] = capture.events("ricecoder.audit")
        attrs = event.log_record.attributes or {}
        assert attrs["ricecoder.audit.id"] == record.hash
        assert attrs["ricecoder.audit.seq"] == record.seq
        assert attrs["ricecoder.audit.action"] == "order.refund"
        assert attrs["ricecoder.audit.detail.amount"] == 10
        assert event.log_record.trace_id == span.get_span_context().trace_id
    finally:
        capture.close()
    assert verify_journal(tmp_path, KEY.encode()).ok


def test_a_configuration_change_is_audited_through_the_pipeline(tmp_path: Path) -> None:
    old = config(tmp_path)
    capture = RicecoderCapture(old)
    try:
        new = capture.config.model_copy(
            update={"anomaly": capture.config.anomaly.model_copy(update={"metrics": ["queue.depth"]})}
        )
        capture.pipeline.apply(capture.config, new)
        capture.pipeline.hub.flush()
        [change] = [r for r in records(tmp_path) if r["action"] == "config.change"]
        assert change["outcome"] == "success"
        assert change["details"]["changed_paths"] == ["anomaly.metrics"]  # type: ignore[index]
        ids = [(e.log_record.attributes or {})["ricecoder.audit.id"] for e in capture.events("ricecoder.audit")]
        assert ids == [change["hash"]]

        # Switching the audit trail off is itself recorded; after that audit() records nothing.
        off = new.model_copy(update={"compliance": new.compliance.model_copy(update={"audit_enabled": False})})
        capture.pipeline.apply(new, off)
        capture.pipeline.hub.flush()
        assert audit("order.refund", "order/1") is None
        last = records(tmp_path)[-1]
        assert last["action"] == "config.change"
        assert last["details"]["changed_paths"] == ["compliance.audit_enabled"]  # type: ignore[index]
    finally:
        capture.close()
    result = verify_journal(tmp_path, KEY.encode())
    assert result.ok and result.records == 2 and result.unsigned == 0


def test_a_rejected_configuration_change_is_audited_with_its_problems(tmp_path: Path) -> None:
    from ricecoder_otel.config import ConfigError
    from ricecoder_otel.config.errors import ConfigProblem

    capture = RicecoderCapture(config(tmp_path))
    try:
        capture.pipeline.reject(ConfigError([ConfigProblem("alerting.rules[0].for", "expected a duration")]))
        capture.pipeline.hub.flush()
        [rejected] = records(tmp_path)
        assert rejected["outcome"] == "rejected"
        assert any("alerting.rules[0].for" in p for p in rejected["details"]["problems"])  # type: ignore[index]
    finally:
        capture.close()


def test_actors_are_pseudonymised_with_a_keyed_hash_when_configured(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path, pseudonymise_actors=True, pseudonym_key="p" * 32))
    try:
        first = audit("record.read", "patient/7", actor="alice@example.com")
        second = audit("record.read", "patient/8", actor="alice@example.com")
        other = audit("record.read", "patient/8", actor="bob@example.com")
    finally:
        capture.close()
    assert first is not None and second is not None and other is not None
    assert first.actor == second.actor != other.actor
    assert first.actor.startswith("hmac:") and "alice" not in (tmp_path / JOURNAL).read_text()


def test_no_journal_is_created_until_something_is_audited(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path / "audit"))
    capture.close()
    assert not (tmp_path / "audit").exists()
