"""Alert silences added or expired are audited: in-process through the hub, and by the CLI."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.alerting.notify.api import add_silence, expire_silence
from ricecoder_otel.cli import main
from ricecoder_otel.compliance.audit import verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import open_store
from ricecoder_otel.store.sql import SqlStore
from ricecoder_otel.testing import RicecoderCapture

KEY = "a-checkpoint-key-of-32-characters"


def records(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / JOURNAL).read_bytes().splitlines()]


def test_silences_added_and_expired_in_process_are_audited(tmp_path: Path) -> None:
    audit_dir = tmp_path / "audit"
    config = MonitoringConfig.model_validate({"compliance": {"audit": {"path": str(audit_dir), "checkpoint_key": KEY}}})
    capture = RicecoderCapture(config)
    store = open_store(str(tmp_path / "store.db"))
    assert isinstance(store, SqlStore)
    try:
        now = time.time()
        hub = capture.pipeline.hub
        silence = add_silence(store, ['service="checkout"', "severity=~warn.*"], ends_at=now + 3600,
                              created_by="ana", comment="deploy window", now=now, hub=hub)  # fmt: skip
        expire_silence(store, silence.id, now=now + 60, hub=hub)
        hub.flush()
        added, expired = records(audit_dir)
        assert (added["action"], added["resource"], added["actor"]) == ("alert.silence.add", silence.id, "ana")
        assert added["details"]["matchers"] == ['service="checkout"', 'severity=~"warn.*"']
        assert added["details"]["comment"] == "deploy window" and added["details"]["created_by"] == "ana"
        assert added["details"]["ends_at"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(now + 3600)))
        assert (expired["action"], expired["resource"], expired["outcome"]) == (
            "alert.silence.expire", silence.id, "success"
        )  # fmt: skip
        assert expired["details"]["ends_at"] < added["details"]["ends_at"]  # ended early
        events = capture.events("ricecoder.alert.silence")
        assert [(e.log_record.attributes or {})["ricecoder.silence.change"] for e in events] == ["added", "expired"]
    finally:
        store.close()
        capture.close()
    assert verify_journal(audit_dir, KEY.encode()).ok


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("RICECODER_CONFIG_FILE", raising=False)
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__PATH", str(tmp_path / "audit"))
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY", KEY)
    path = str(tmp_path / "store.db")
    open_store(path).close()
    return path


def test_the_silence_cli_audits_add_and_expire(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["alerts", "silence", "add", "alertname=HighLatency", "--author", "ana", "--comment", "maintenance",
                 "--duration", "2h", "--store", cli_env, "--json"])  # fmt: skip
    assert code == 0
    silence = json.loads(capsys.readouterr().out)
    assert main(["alerts", "silence", "expire", silence["id"], "--store", cli_env]) == 0
    added, expired = records(tmp_path / "audit")
    assert (added["action"], added["resource"], added["actor"]) == ("alert.silence.add", silence["id"], "ana")
    assert added["details"]["matchers"] == ['alertname="HighLatency"']
    assert added["details"]["comment"] == "maintenance"
    assert (expired["action"], expired["resource"]) == ("alert.silence.expire", silence["id"])
    assert expired["actor"] == getpass.getuser()  # who ran the command
    assert verify_journal(tmp_path / "audit", KEY.encode()).ok


def test_the_silence_cli_reports_a_change_it_could_not_audit(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "audit").write_text("not a directory")
    code = main(["alerts", "silence", "add", "alertname=X", "--author", "ana", "--comment", "c", "--store", cli_env])
    assert code == 1
    assert "not audited" in capsys.readouterr().err
