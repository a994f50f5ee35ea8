"""The notification and incident tables behave the same on SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.alerting.incidents.model import Incident, TimelineEntry
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.dispatcher import LogEntry
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.alerting.notify.silences import new_silence
from ricecoder_otel.alerting.notify.tables import NewMessage, NotifyTables
from ricecoder_otel.store import StoreError, open_store
from ricecoder_otel.store.sql import SqlStore
from tests.harness.postgres import PostgresServer, start_postgres, stop_postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    stop_postgres(server)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        location = str(tmp_path / "store.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        location = server.create_database(f"notify_{tmp_path.name[-12:].lower()}".replace("-", "_"))
    opened = open_store(location)
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()


def test_outbox_claims_once_and_records_outcomes(store: SqlStore) -> None:
    tables = NotifyTables(store)
    alert = Alert({"alertname": "A"}, {"summary": "s"}, starts_at=100.0)
    note = Notification(receiver="r", group_key="{}:{}", group_labels={}, alerts=(alert,), sent_at=100.0)
    ids = tables.commit_flush([NewMessage("hook", note), NewMessage("pd", note)],
                              [("hook|{}:{}", LogEntry(frozenset({alert.fingerprint}), frozenset(), 100.0))],
                              now=100.0)  # fmt: skip
    assert tables.log_entry("hook|{}:{}") == LogEntry(frozenset({alert.fingerprint}), frozenset(), 100.0)
    [first, second] = tables.due(100.0)
    assert [first.id, second.id] == ids and first.notification == note
    claimed = tables.claim(first, 100.0, lease=10.0)
    assert claimed is not None and claimed.attempts == 1
    assert tables.claim(first, 100.0, lease=10.0) is None  # someone else's now
    assert [r.id for r in tables.due(105.0)] == [second.id]
    assert [r.id for r in tables.due(111.0)] == ids  # the lease ran out (a crashed sender)
    tables.finish(claimed, "pending", 101.0, 503, "HTTP 503", next_attempt=130.0)
    tables.finish(second, "dead", 101.0, 400, "HTTP 400")
    assert [r.id for r in tables.due(129.0)] == [] and [r.id for r in tables.due(130.0)] == [first.id]
    assert [(r.id, r.last_status) for r in tables.rows(("dead",))] == [(second.id, 400)]
    assert tables.pending_count() == 1


def test_alerts_silences_and_incidents_round_trip(store: SqlStore) -> None:
    tables = NotifyTables(store)
    alert = Alert({"alertname": "A", "pod": "p"}, starts_at=5.0, value=1.5)
    tables.save_alert(alert, 6.0)
    tables.save_alert(alert.resolved(7.0), 7.0)
    assert tables.alerts() == [alert.resolved(7.0)]
    tables.commit_flush([], forget=[alert.fingerprint], now=8.0)
    assert tables.alerts() == []
    silence = new_silence(['pod=~"p.*"'], 10.0, 20.0, "ana", "why", 10.0)
    tables.save_silence(silence)
    assert tables.silences() == [silence]

    incidents = IncidentTables(store)
    incident = Incident(id="inc_1", dedup_key="k", title="t", severity="critical", state="triggered",
                        group_key="g", channels={"pd": "pagerduty"}, labels={"a": "b"}, alerts=[alert.to_json()],
                        level=0, loops=0, next_escalation=50.0, ack_deadline=None, triggered_at=40.0,
                        acknowledged_at=None, resolved_at=None, updated_at=40.0)  # fmt: skip
    incidents.save(incident, [TimelineEntry(40.0, "sys", "triggered", "pd", {"n": 1})])
    assert incidents.open_for("k") == incident and incidents.due(49.0) == [] and incidents.due(50.0) == [incident]
    incidents.append("inc_1", TimelineEntry(41.0, "ana", "acknowledged"))
    assert [e.action for e in incidents.timeline("inc_1")] == ["triggered", "acknowledged"]
    with pytest.raises(StoreError, match="append-only"), store._transaction(write=True) as cur:
        cur.execute("DELETE FROM incident_timeline")
