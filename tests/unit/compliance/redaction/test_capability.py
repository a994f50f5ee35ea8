"""Redaction in the running pipeline: logs (records and hub events), the public functions, config."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ricecoder_otel.compliance.redaction import active_redactor, redact_mapping, redact_value
from ricecoder_otel.config import ConfigError, MonitoringConfig, load_config
from ricecoder_otel.kernel.events import AnomalyEpisode
from ricecoder_otel.testing import RicecoderCapture


def test_log_records_and_hub_events_are_redacted_and_say_so(ricecoder_capture: RicecoderCapture) -> None:
    logging.getLogger("shop").warning("refund to ana@example.com card 4111 1111 1111 1111",
                                      extra={"api_key": "k-123", "order": "A-1"})
    ricecoder_capture.pipeline.hub.publish(AnomalyEpisode(at=0.0, series="login{user=bo@example.org}"))
    records = ricecoder_capture.logs()
    [app] = [r for r in records if r.log_record.body and "refund" in str(r.log_record.body)]
    assert app.log_record.body == "refund to [REDACTED:email] card [REDACTED:credit_card]"
    attributes = dict(app.log_record.attributes or {})
    assert attributes["api_key"] == "[REDACTED:sensitive_key]" and attributes["order"] == "A-1"
    assert attributes["ricecoder.redacted.count"] == 3
    assert attributes["ricecoder.redacted.detectors"] == ["credit_card", "email", "sensitive_key"]
    [event] = ricecoder_capture.events("ricecoder.anomaly")
    assert "bo@example.org" not in str(event.log_record.attributes) + str(event.log_record.body)


def test_drop_record_drops_a_span_and_empties_a_log_record(tmp_path: Path) -> None:
    config = MonitoringConfig.model_validate({"compliance": {"redaction": {"actions": {"ssn": "drop_record"}}}})
    capture = RicecoderCapture(config)
    try:
        tracer = capture.pipeline.tracer_provider.get_tracer("t")
        for name, note in (("kept", "ok"), ("dropped", "ssn 536-22-8726")):
            with tracer.start_as_current_span(name, attributes={"note": note}):
                pass
        assert [s.name for s in capture.spans()] == ["kept"]
        capture.pipeline.logger_provider.get_logger("t").emit(body="ssn 536-22-8726", attributes={"user": "x"})
        [record] = [r for r in capture.logs() if r.log_record.body == "[REDACTED:record]"]
        assert dict(record.log_record.attributes or {}) == {
            "ricecoder.redacted.count": 1, "ricecoder.redacted.detectors": ["ssn"]
        }
    finally:
        capture.close()


def test_public_functions_follow_the_live_policy(ricecoder_capture: RicecoderCapture) -> None:
    event = {"user": {"email": "ana@example.com"}, "request": {"headers": {"Authorization": "Bearer abc"}}}
    assert redact_mapping(event) == {
        "user": {"email": "[REDACTED:email]"},
        "request": {"headers": {"Authorization": "[REDACTED:sensitive_key]"}},
    }
    assert redact_value("mail ana@example.com") == "mail [REDACTED:email]"
    assert redact_value("x", key="password") == "[REDACTED:sensitive_key]"
    pipeline = ricecoder_capture.pipeline
    old = pipeline.config
    new = old.model_copy(update={"compliance": old.compliance.model_copy(
        update={"redaction": old.compliance.redaction.model_copy(update={"actions": {"ssn": "drop_record"}})})})
    pipeline.apply(old, new)
    assert redact_mapping({"note": "ssn 536-22-8726"}) is None  # drop_record: the caller drops the event
    off = new.model_copy(update={"compliance": new.compliance.model_copy(
        update={"redaction": new.compliance.redaction.model_copy(update={"enabled": False})})})
    pipeline.apply(new, off)
    assert active_redactor() is None and redact_value("ana@example.com") == "ana@example.com"


def test_a_missing_callback_keeps_the_running_policy(
    ricecoder_capture: RicecoderCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = ricecoder_capture.pipeline
    old = pipeline.config
    redaction = old.compliance.redaction.model_copy(update={"callback": "no_such_module:keep"})
    compliance = old.compliance.model_copy(update={"redaction": redaction})
    pipeline.apply(old, old.model_copy(update={"compliance": compliance}))
    assert "cannot load 'no_such_module:keep'" in capsys.readouterr().err
    assert redact_value("ana@example.com") == "[REDACTED:email]"  # the running policy stays


def test_config_errors_name_the_file_line_and_the_pattern_position(tmp_path: Path) -> None:
    path = tmp_path / "ricecoder.yaml"
    path.write_text("compliance:\n  redaction:\n    patterns:\n      mrn: 'MRN(\\d+)+'\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    message = str(error.value)
    assert "compliance.redaction.patterns.mrn" in message and "position 8" in message
    path.write_text("compliance:\n  redaction:\n    actions: {emial: hash}\n")
    with pytest.raises(ConfigError, match="unknown detector"):
        load_config(path, env={})
    path.write_text("compliance:\n  redaction:\n    hash_key: s3cr3t-key-material\n    actions: {email: hash}\n")
    config = load_config(path, env={})
    assert "s3cr3t" not in config.model_dump_json()


def test_a_policy_change_applies_live_and_is_audited_without_its_secrets(tmp_path: Path) -> None:
    import json

    from ricecoder_otel.compliance.audit import verify_journal
    from ricecoder_otel.compliance.audit.journal import JOURNAL

    key = "a-checkpoint-key-of-32-characters"
    old = MonitoringConfig.model_validate({"compliance": {"audit": {"path": str(tmp_path), "checkpoint_key": key}}})
    capture = RicecoderCapture(old)
    try:
        pipeline = capture.pipeline
        redaction = old.compliance.redaction.model_copy(update={
            "actions": {"email": "hash"}, "hash_key": "hash-key-material-0123456789abcdef",
            "patterns": {"mrn": r"(?i)\bMRN[:#\s]*(?P<v>\d{6,10})\b"},
        })  # fmt: skip
        new = MonitoringConfig.model_validate(
            {**old.model_dump(), "compliance": {**old.compliance.model_dump(), "redaction": redaction.model_dump()}}
        )
        pipeline.apply(old, new)
        pipeline.hub.flush()
        assert redact_value("MRN: 00123456 for ana@example.com").startswith("MRN: [REDACTED:mrn] for [HASHED:email:")
        journal = (tmp_path / JOURNAL).read_text()
        [change] = [json.loads(line) for line in journal.splitlines() if '"config.change"' in line]
        assert change["outcome"] == "success"
        assert {"compliance.redaction.actions.email", "compliance.redaction.hash_key",
                "compliance.redaction.patterns.mrn"} <= set(change["details"]["changed_paths"])
        assert "hash-key-material" not in journal  # the change is recorded, the secret is not
    finally:
        capture.close()
    assert verify_journal(tmp_path, key.encode()).ok
