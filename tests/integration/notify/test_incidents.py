"""Incidents from notified groups: escalation, acknowledgement (sent to PagerDuty), re-trigger after
the acknowledgement timeout, auto-resolve, an append-only timeline, MTTA/MTTR and the postmortem."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.alerting.incidents import api
from ricecoder_otel.alerting.incidents.manager import IncidentError, IncidentManager
from ricecoder_otel.alerting.incidents.postmortem import markdown
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.store import StoreError
from ricecoder_otel.store.sqlite import SQLiteStore
from ricecoder_otel.testing.memory import ManualClock
from tests.harness.http_receiver import Receiver

GROUP_KEY = '{}:{alertname="CheckoutDown"}'


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def make(tmp_path: Path, url: str) -> tuple[NotificationService, SQLiteStore, ManualClock, AlertingConfig]:
    config = AlertingConfig.model_validate({
        "channels": [
            {"name": "pd", "type": "pagerduty", "routing_key": "0123456789abcdef0123456789abcdef",
             "url": url + "/pd"},
            {"name": "oncall", "type": "webhook", "url": url + "/oncall"},
            {"name": "lead", "type": "webhook", "url": url + "/lead"},
        ],
        "route": {"receiver": "pd", "group_wait": "0s", "group_interval": "1m"},
        "incidents": {"escalation": [{"delay": "0s", "channels": ["oncall"]}, {"delay": "5m", "channels": ["lead"]}],
                      "ack_timeout": "10m"},
    })  # fmt: skip
    store = SQLiteStore(tmp_path / "store.db")
    clock = ManualClock()
    manager = IncidentManager(config.incidents, IncidentTables(store))
    return NotificationService(config, NotifyTables(store), clock, incidents=manager), store, clock, config


def test_incident_lifecycle(tmp_path: Path, receiver: Receiver) -> None:
    service, store, clock, config = make(tmp_path, receiver.url)
    t0 = clock()

    def step(advance: float = 0.0) -> list[str]:
        clock.advance(advance)
        service.run_once()
        while service.delivery.run_once():
            pass
        paths = [r.path for r in receiver.received()]
        receiver.requests.clear()
        return paths

    alert = Alert({"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"},
                  {"summary": "checkout is down", "trace_id": "805fd2cae9214460a797f647a5752089"}, starts_at=t0,
                  value=0.42)  # fmt: skip
    service.submit(alert)
    assert sorted(step()) == ["/oncall", "/pd"]  # the route's receiver and escalation level 0
    [incident] = api.list_incidents(store)
    assert (incident.state, incident.severity, incident.title) == ("triggered", "critical", "[FIRING:1] CheckoutDown")
    assert incident.dedup_key == hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert step(299) == []
    assert step(1) == ["/lead"]  # level 1 after 5 minutes without acknowledgement

    acked = api.acknowledge(store, incident.id, "ana", note="looking", config=config.incidents, now=clock.advance(60))
    assert acked.state == "acknowledged" and acked.time_to_acknowledge == 360
    with pytest.raises(IncidentError, match="already acknowledged"):
        api.acknowledge(store, incident.id, "bob", config=config.incidents, now=clock())
    service.delivery.run_once()
    [ack] = receiver.received()
    receiver.requests.clear()
    assert ack.path == "/pd" and ack.json() == {
        "routing_key": "0123456789abcdef0123456789abcdef",
        "event_action": "acknowledge",
        "dedup_key": incident.dedup_key,
    }
    assert step(599) == []
    assert step(1) == ["/oncall"]  # acknowledgement timed out: re-triggered, escalation starts over
    assert api.show(store, incident.id)[0].state == "triggered"  # type: ignore[index]

    service.submit(alert.resolved(clock.advance(30)))
    assert step(60) == ["/pd"]  # the group's resolve goes to PagerDuty once
    incident, timeline = api.show(store, incident.id)  # type: ignore[misc]
    assert incident.state == "resolved" and incident.time_to_resolve == 1050
    assert [e.action for e in timeline if not e.action.startswith("delivery")] == [
        "triggered", "escalated", "escalated", "acknowledged", "retriggered", "escalated", "resolved"]  # fmt: skip
    assert any(e.action == "delivery delivered" and e.channel == "lead" for e in timeline)
    assert api.statistics(store) == {"mtta_seconds": 360.0, "mttr_seconds": 1050.0, "acknowledged": 1,
                                     "resolved": 1}  # fmt: skip
    with pytest.raises(IncidentError, match="already resolved"):
        api.resolve(store, incident.id, "ana", now=clock())

    report = api.report(store, incident.id)
    assert report is not None
    assert report["impact_window"]["duration"] == "17m30s"
    assert report["links"][0]["trace_id"] == "805fd2cae9214460a797f647a5752089"
    assert report["values"][0]["value"] == 0.42
    assert any("runbook_url" in item for item in report["action_items"])
    text = markdown(report)
    for heading in ("# Postmortem: [FIRING:1] CheckoutDown", "## Impact window", "## Timeline", "## Values",
                    "## Links", "## Action items"):  # fmt: skip
        assert heading in text
    assert "| ana | acknowledged |" in text


def test_the_timeline_is_append_only(tmp_path: Path, receiver: Receiver) -> None:
    service, store, clock, _ = make(tmp_path, receiver.url)
    service.submit(Alert({"alertname": "CheckoutDown"}, starts_at=clock()))
    service.run_once()
    [incident] = api.list_incidents(store)
    with pytest.raises(StoreError, match="append-only"), store._transaction(write=True) as cur:
        cur.execute("UPDATE incident_timeline SET actor = 'mallory'")
    with pytest.raises(StoreError, match="append-only"), store._transaction(write=True) as cur:
        cur.execute("DELETE FROM incident_timeline")
    assert [e.actor for e in IncidentTables(store).timeline(incident.id)] == ["ricecoder-otel", "ricecoder-otel"]


def test_manual_acknowledge_and_resolve_are_sent_to_opsgenie_by_alias(tmp_path: Path, receiver: Receiver) -> None:
    config = AlertingConfig.model_validate({
        "channels": [{"name": "og", "type": "opsgenie", "api_key": "k", "api_url": receiver.url}],
        "route": {"group_wait": "0s"}})  # fmt: skip
    store = SQLiteStore(tmp_path / "store.db")
    clock = ManualClock()
    service = NotificationService(config, NotifyTables(store), clock,
                                  incidents=IncidentManager(config.incidents, IncidentTables(store)))  # fmt: skip
    service.submit(Alert({"alertname": "CheckoutDown"}, starts_at=clock()))
    service.run_once()
    [incident] = api.list_incidents(store)
    api.acknowledge(store, incident.id, "ana", note="looking", config=config.incidents, now=clock.advance(30))
    api.resolve(store, incident.id, "ana", note="fixed by rollback", now=clock.advance(60))
    while service.delivery.run_once():
        pass
    create, ack, close = receiver.received()
    assert create.path == "/v2/alerts"
    assert ack.path == f"/v2/alerts/{incident.dedup_key}/acknowledge?identifierType=alias"
    assert ack.json()["note"] == "looking" and ack.headers["authorization"] == "GenieKey k"
    assert close.path == f"/v2/alerts/{incident.dedup_key}/close?identifierType=alias"
    assert close.json()["note"] == "fixed by rollback"
    store.close()
