"""``ricecoder-otel alerts ...`` and ``incidents ...`` on a real store, JSON and tables, no secrets shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.alerting.incidents.manager import IncidentManager
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.cli import main
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.harness.http_receiver import Answer, Receiver

TOKEN = "xoxb-very-secret-token"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    receiver = Receiver(default=Answer(400, "invalid_payload"))
    db = str(tmp_path / "store.db")
    config_file = tmp_path / "ricecoder.yaml"
    config_file.write_text(
        f"store: {{location: {db}}}\nalerting:\n  channels:\n"
        f"    ops: {{type: slack, url: '{receiver.url}/services/T0/B0/{TOKEN}'}}\n"
        f"    pd: {{type: pagerduty, routing_key: {TOKEN}, url: '{receiver.url}/pd'}}\n"
        "  route: {group_wait: 0s}\n"
    )  # fmt: skip
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(config_file))
    yield receiver, db
    receiver.close()


def test_silence_add_list_expire_and_bad_input(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "alerts", "silence", "add", 'service="checkout"', "severity=~warn.*", "--duration",
                       "2h", "--author", "ana", "--comment", "deploy", "--json")  # fmt: skip
    assert code == 0
    silence = json.loads(out)
    assert silence["status"]["state"] == "active" and silence["createdBy"] == "ana"
    assert silence["matchers"][1] == {"name": "severity", "value": "warn.*", "isRegex": True, "isEqual": True}
    code, out, _ = run(capsys, "alerts", "silence", "list")
    assert code == 0 and silence["id"] in out and 'service="checkout"' in out
    code, out, _ = run(capsys, "alerts", "silence", "expire", silence["id"])
    assert code == 0 and "expired" in out
    code, out, _ = run(capsys, "alerts", "silence", "list", "--json")
    assert json.loads(out) == {"silences": []}
    code, _, err = run(capsys, "alerts", "silence", "add", 'a=~"("', "--author", "ana", "--comment", "x")
    assert code == 2 and "invalid regular expression" in err
    code, _, err = run(capsys, "alerts", "silence", "add", 'a=~".*"', "--author", "ana", "--comment", "x")
    assert code == 2 and "would silence everything" in err
    code, _, err = run(capsys, "alerts", "silence", "expire", "sil_nope")
    assert code == 1 and "no silence sil_nope" in err


def test_alerts_test_reports_the_receivers_answer_without_secrets(
    setup: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver, _ = setup
    code, out, _ = run(capsys, "alerts", "test", "ops", "--json")
    answer = json.loads(out)
    assert code == 1 and answer["status"] == 400 and answer["response"] == "invalid_payload"
    assert not answer["retryable"]
    receiver.answer(Answer(200, "ok"))
    code, out, _ = run(capsys, "alerts", "test", "ops")
    assert code == 0 and out.startswith("ops: delivered (HTTP 200)")
    assert receiver.received()[-1].json()["text"] == "[FIRING:1] RicecoderTestNotification"
    code, _, err = run(capsys, "alerts", "test", "nope")
    assert code == 2 and "unknown channel 'nope'" in err
    assert TOKEN not in out + err


def test_alerts_dead_letters_and_incidents_commands(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    receiver, db = setup
    from ricecoder_otel.config import load_config

    config: AlertingConfig = load_config().alerting
    store = SQLiteStore(db)
    service = NotificationService(config, NotifyTables(store),
                                  incidents=IncidentManager(config.incidents, IncidentTables(store)))  # fmt: skip
    service.submit(Alert({"alertname": "CheckoutDown", "severity": "critical"}, {"summary": "down"}))
    service.run_once()
    service.delivery.run_once()  # Slack and PagerDuty both answer 400: dead letters
    store.close()

    code, out, _ = run(capsys, "alerts", "list", "--json")
    assert code == 0 and [a["labels"]["alertname"] for a in json.loads(out)["alerts"]] == ["CheckoutDown"]
    code, out, _ = run(capsys, "alerts", "dead-letters", "--json")
    letters = json.loads(out)["dead_letters"]
    assert code == 1 and sorted(d["channel"] for d in letters) == ["ops", "pd"]
    assert all(d["last_status"] == 400 for d in letters)
    code, out, _ = run(capsys, "alerts", "dead-letters")
    assert code == 1 and "invalid_payload" in out
    assert TOKEN not in out

    code, out, _ = run(capsys, "incidents", "list", "--json")
    [incident] = json.loads(out)["incidents"]
    assert incident["state"] == "triggered"
    receiver.answer(Answer(202, "{}"))
    code, out, _ = run(capsys, "incidents", "ack", incident["id"], "--actor", "ana", "--note", "on it")
    assert code == 0 and out.strip() == f"incident {incident['id']} acknowledged by ana"
    code, out, _ = run(capsys, "incidents", "resolve", incident["id"], "--actor", "ana", "--json")
    assert code == 0 and json.loads(out)["state"] == "resolved"
    code, out, _ = run(capsys, "incidents", "show", incident["id"])
    assert code == 0 and "acknowledged" in out and "resolved" in out
    code, out, _ = run(capsys, "incidents", "list")
    assert code == 0 and "MTTA" in out and incident["id"] in out
    code, out, _ = run(capsys, "incidents", "postmortem", incident["id"])
    assert code == 0 and out.startswith("# Postmortem: [FIRING:1] CheckoutDown")
    code, out, _ = run(capsys, "incidents", "postmortem", incident["id"], "--json")
    assert code == 0 and set(json.loads(out)) >= {"summary", "impact_window", "timeline", "values", "links",
                                                   "action_items"}  # fmt: skip
    code, _, err = run(capsys, "incidents", "ack", "inc_nope")
    assert code == 1 and "no incident inc_nope" in err
    # The acknowledgement and resolution wait in the outbox for PagerDuty (the service delivers them).
    with SQLiteStore(db) as store:
        queued = [(r.channel, r.action) for r in NotifyTables(store).rows(("pending",))]
    assert sorted(queued) == [("pd", "acknowledge"), ("pd", "resolve")]
