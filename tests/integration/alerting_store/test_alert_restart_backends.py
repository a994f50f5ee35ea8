"""Alert state (migration 0003), the notification tables and incidents (0004) across restarts, on
SQLite and a real PostgreSQL: each lifetime is a whole pipeline with the store at one location.

Lifetime 1 fires and notifies once and opens an incident; lifetime 2 (the condition still holds)
restores the firing alert and queues no second notification; lifetime 3 (the condition ended
while the process was down) resolves at its first evaluation, notifies the resolution and
resolves the incident.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.capability import NotificationCapability
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import open_store
from ricecoder_otel.store.sql import SqlStore
from ricecoder_otel.testing import ManualClock, RicecoderCapture
from tests.harness.http_receiver import Receiver
from tests.harness.postgres import PostgresServer, start_postgres, stop_postgres

RULE = {"name": "deep-queue", "metric": "queue.depth", "threshold": 10, "severity": "critical"}
START = 1_764_424_260.0


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    stop_postgres(server)


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "telemetry.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"alerts_{tmp_path.name[-12:].lower()}".replace("-", "_"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def lifetime(location: str, hook: str, depth: float, n: int) -> tuple[list[str], int]:
    """One process: record the gauge, evaluate once, let notifications be queued and sent.

    Returns the alert states published and the number of outbox messages queued in this lifetime.
    """
    config = MonitoringConfig.model_validate({
        "store": {"location": location},
        "alerting": {"rules": [RULE], "evaluation_interval": "1d",
                     "channels": [{"name": "hook", "type": "webhook", "url": hook}],
                     "route": {"group_wait": "0s", "group_interval": "1s"}},
    })  # fmt: skip
    cap = RicecoderCapture(config, clock=ManualClock(START + 600 * n))
    try:
        cap.pipeline.meter_provider.get_meter("shop").create_gauge("queue.depth").set(depth, {"queue": "mail"})
        alerting, notify = cap.pipeline.capability("alerting"), cap.pipeline.capability("notifications")
        assert isinstance(alerting, AlertingCapability) and isinstance(notify, NotificationCapability)
        service = notify.service
        assert isinstance(service, NotificationService)
        before = len(service.tables.rows(limit=1000))
        alerting.evaluate_now()
        cap.pipeline.hub.flush()
        passes = service.passes
        wait_until(lambda: service.passes >= passes + 2, "two dispatch passes after the evaluation")
        cap.advance(1)  # a restored group flushes again after group_interval
        passes = service.passes
        wait_until(lambda: service.passes >= passes + 2, "two dispatch passes after group_interval")
        wait_until(lambda: service.tables.pending_count() == 0, "the outbox to drain")
        states = [str((e.log_record.attributes or {})["ricecoder.alert.state"]) for e in cap.events("ricecoder.alert")]
        return states, len(service.tables.rows(limit=1000)) - before
    finally:
        cap.close()


def test_restarts_neither_repeat_a_firing_notification_nor_lose_a_resolution(location: str,
                                                                             receiver: Receiver) -> None:  # fmt: skip
    hook = receiver.url + "/hook"
    assert lifetime(location, hook, 20, 0) == (["firing"], 1)
    [firing] = receiver.wait_for(1, timeout=30)
    assert firing.json()["status"] == "firing"

    assert lifetime(location, hook, 25, 1) == ([], 0)  # still firing: restored, not announced again

    assert lifetime(location, hook, 0, 2) == (["resolved"], 1)  # ended while down: resolves at once
    notes = [r.json() for r in receiver.wait_for(2, timeout=30)]
    assert [n["status"] for n in notes] == ["firing", "resolved"]
    assert notes[1]["alerts"][0]["fingerprint"] == notes[0]["alerts"][0]["fingerprint"]

    store = open_store(location)
    try:
        assert isinstance(store, SqlStore)
        with store._transaction() as cur:
            cur.execute("SELECT COUNT(*) FROM alert_state")
            assert cur.fetchone()[0] == 0  # the resolution deleted the row
        [incident] = IncidentTables(store).find()
        assert incident.state == "resolved"
        changes = [e.action for e in IncidentTables(store).timeline(incident.id)]
        assert changes[0] == "triggered" and changes[-1] == "resolved" and changes.count("triggered") == 1
    finally:
        store.close()
    assert len(receiver.received()) == 2
