"""Acknowledging an incident by hand is audited with who did it: through the Python API on the hub
passed or the running pipeline's, through the CLI (no pipeline runs there) by the command itself.
Resolving by hand is announced on the hub but is not an audit record."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.alerting.incidents import api
from ricecoder_otel.alerting.incidents.model import Incident, TimelineEntry
from ricecoder_otel.alerting.incidents.tables import IncidentTables, new_incident_id
from ricecoder_otel.cli import main
from ricecoder_otel.compliance.audit import verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store.sqlite import SQLiteStore
from ricecoder_otel.testing import RicecoderCapture

KEY = "a-checkpoint-key-of-32-characters"


def seed(db: Path, count: int = 1) -> list[str]:
    """``count`` triggered incidents in the store at ``db``."""
    ids = []
    with closing(SQLiteStore(db)) as store:
        for n in range(count):
            incident = Incident(
                id=new_incident_id(), dedup_key=f"key-{n}", title="[FIRING:1] CheckoutDown", severity="critical",
                state="triggered", group_key=f'{{}}:{{alertname="CheckoutDown{n}"}}', channels={}, labels={},
                alerts=[], level=0, loops=0, next_escalation=None, ack_deadline=None, triggered_at=1_800_000_000.0,
                acknowledged_at=None, resolved_at=None, updated_at=1_800_000_000.0,
            )  # fmt: skip
            IncidentTables(store).save(incident, [TimelineEntry(1_800_000_000.0, "ricecoder-otel", "triggered")])
            ids.append(incident.id)
    return ids


def journal(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / JOURNAL).read_bytes().splitlines()]


def test_api_with_a_hub_announces_acknowledge_and_resolve_and_audits_the_acknowledgement(tmp_path: Path) -> None:
    [incident_id] = seed(tmp_path / "store.db")
    config = MonitoringConfig.model_validate(
        {"compliance": {"audit": {"path": str(tmp_path / "audit"), "checkpoint_key": KEY}}}
    )
    capture = RicecoderCapture(config)
    try:
        hub = capture.pipeline.hub
        with closing(SQLiteStore(tmp_path / "store.db")) as store:
            api.acknowledge(store, incident_id, "ana", note="looking", now=1_800_000_060.0, hub=hub)
            api.resolve(store, incident_id, "bob", now=1_800_000_120.0, hub=hub)
        hub.flush()
        changes = [dict(e.log_record.attributes or {}) for e in capture.events("ricecoder.incident")]
        assert [(c["ricecoder.incident.id"], c["ricecoder.incident.change"]) for c in changes] == [
            (incident_id, "acknowledged"), (incident_id, "resolved")]  # fmt: skip
        [record] = journal(tmp_path / "audit")
        assert (record["action"], record["resource"], record["actor"]) == ("incident.acknowledge", incident_id, "ana")
        assert record["details"]["ricecoder.incident.state"] == "acknowledged"
    finally:
        capture.close()
    assert verify_journal(tmp_path / "audit", KEY.encode()).ok


CHILD = textwrap.dedent(
    """
    import sys
    import ricecoder_otel
    from ricecoder_otel.alerting.incidents import api
    from ricecoder_otel.store import open_store

    pipeline = ricecoder_otel.configure()
    store = open_store(sys.argv[1])
    api.acknowledge(store, sys.argv[2], "ana", note="on it")
    api.resolve(store, sys.argv[2], "ana")
    store.close()
    pipeline.shutdown()
    """
)


def test_api_acknowledgement_in_an_application_is_audited_through_the_running_pipeline(tmp_path: Path) -> None:
    [incident_id] = seed(tmp_path / "incidents.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env.update(RICECODER_COMPLIANCE__AUDIT__PATH=str(tmp_path / "audit"),
               RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY=KEY, RICECODER_STORE_PATH=str(tmp_path / "store.db"),
               OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "incidents.db"), incident_id], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    incidents = [r for r in journal(tmp_path / "audit") if r["action"].startswith("incident.")]
    assert [(r["action"], r["resource"], r["actor"]) for r in incidents] == [
        ("incident.acknowledge", incident_id, "ana")]  # fmt: skip
    assert verify_journal(tmp_path / "audit", KEY.encode()).ok


def test_incidents_ack_cli_appends_one_audit_record_with_the_actor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = seed(tmp_path / "store.db", 2)
    config_file = tmp_path / "ricecoder.yaml"
    config_file.write_text(
        f"store: {{location: {tmp_path / 'store.db'}}}\n"
        f"compliance: {{audit: {{path: {tmp_path / 'audit'}, checkpoint_key: {KEY}}}}}\n"
    )  # fmt: skip
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(config_file))
    assert main(["incidents", "ack", first, "--by", "bob", "--note", "on it"]) == 0
    assert main(["incidents", "ack", second, "--json"]) == 0  # the operator running the command
    assert main(["incidents", "resolve", first, "--actor", "bob"]) == 0  # not an audit record
    assert main(["incidents", "ack", first]) == 1  # already resolved: nothing to audit
    capsys.readouterr()
    records = journal(tmp_path / "audit")
    assert [(r["action"], r["resource"], r["actor"]) for r in records] == [
        ("incident.acknowledge", first, "bob"), ("incident.acknowledge", second, getpass.getuser())]  # fmt: skip
    assert records[0]["details"]["ricecoder.incident.state"] == "acknowledged"
    assert verify_journal(tmp_path / "audit", KEY.encode()).ok
