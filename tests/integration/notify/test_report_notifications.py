"""Scheduled analytics reports reach the channels of routes that select them, redacted, through the
outbox (retries, dead letters); the alert routes are not told and silences mute them."""

from __future__ import annotations

import json
import time
from contextlib import closing
from pathlib import Path

from ricecoder_otel.alerting.notify.capability import NotificationCapability
from ricecoder_otel.alerting.notify.reports import report_alert
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.alerting.notify.silences import new_silence
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.kernel.events import AnalyticsReportGenerated
from ricecoder_otel.store.sqlite import SQLiteStore
from ricecoder_otel.testing.capture import RicecoderCapture
from ricecoder_otel.testing.memory import ManualClock
from tests.harness.http_receiver import Answer, Receiver

REPORTS_ROUTE = {"matchers": ['kind="analytics_report"'], "receiver": "reports"}


def report(path: str, schedule: str = "weekly") -> AnalyticsReportGenerated:
    return AnalyticsReportGenerated(at=1_800_000_000.0, schedule=schedule, kind="usage", format="csv",
                                    period_start=1_799_395_200.0, period_end=1_800_000_000.0, rows=12,
                                    path=path)  # fmt: skip


def lines(path: Path, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while True:
        found = path.read_text().splitlines() if path.exists() else []
        if len(found) >= count or time.monotonic() > deadline:
            return [json.loads(line) for line in found]
        time.sleep(0.01)


def test_a_generated_report_reaches_the_report_route_redacted_and_not_the_alert_route(tmp_path: Path) -> None:
    pager = Receiver()
    config = MonitoringConfig.model_validate({
        "store": {"location": str(tmp_path / "store.db")},
        "alerting": {"channels": [{"name": "pager", "type": "webhook", "url": pager.url + "/pager"},
                                  {"name": "reports", "type": "file", "path": str(tmp_path / "reports.jsonl")}],
                     "route": {"receiver": "pager", "routes": [REPORTS_ROUTE]}},
    })  # fmt: skip
    capture = RicecoderCapture(config)
    try:
        capture.pipeline.hub.publish(report("/srv/reports/ana@example.com/weekly-usage.csv"))
        capture.pipeline.hub.flush()
        [line] = lines(tmp_path / "reports.jsonl", 1)
        alerts = line["alerts"]
        assert isinstance(alerts, list) and len(alerts) == 1
        assert alerts[0]["labels"] == {"alertname": "AnalyticsReport", "kind": "analytics_report",
                                       "schedule": "weekly", "report": "usage"}  # fmt: skip
        summary = alerts[0]["annotations"]["summary"]
        assert summary.startswith("analytics usage report (weekly): 12 rows, written to /srv/reports/")
        assert summary.endswith("/weekly-usage.csv")
        assert "ana@example.com" not in json.dumps(line)  # the payload policy ran on the report too
        capability = capture.pipeline.capability("notifications")
        assert isinstance(capability, NotificationCapability) and capability.service is not None
        with closing(SQLiteStore(tmp_path / "store.db")) as store:
            rows = NotifyTables(store).rows()
        assert [(r.channel, r.state) for r in rows] == [("reports", "delivered")]
        assert pager.received() == []
        capability.stop()  # unsubscribed: a report published while stopped is not queued
        capture.pipeline.hub.publish(report("/srv/reports/later.csv"))
        capture.pipeline.hub.flush()
        capability.service.run_once()
        with closing(SQLiteStore(tmp_path / "store.db")) as store:
            assert len(NotifyTables(store).rows()) == 1
    finally:
        capture.close()
        pager.close()


def test_report_messages_are_retried_and_dead_lettered_like_alert_notifications(tmp_path: Path) -> None:
    hook = Receiver(default=Answer(500, "busy"))
    config = AlertingConfig.model_validate({
        "channels": [{"name": "pager", "type": "webhook", "url": hook.url + "/pager"},
                     {"name": "reports", "type": "webhook", "url": hook.url + "/reports"}],
        "route": {"receiver": "pager", "routes": [REPORTS_ROUTE]},
        "delivery": {"max_attempts": 2, "initial_backoff": "1s", "max_backoff": "1s"},
    })  # fmt: skip
    clock = ManualClock()
    with closing(SQLiteStore(tmp_path / "store.db")) as store:
        tables = NotifyTables(store)
        service = NotificationService(config, tables, clock)
        service.submit_report(report_alert(report("/srv/reports/a.csv", "first")))
        service.run_once()
        service.delivery.run_once()  # 500: pending, retried after the backoff
        [row] = tables.rows()
        assert (row.channel, row.state, row.attempts, row.last_status) == ("reports", "pending", 1, 500)
        hook.answer(Answer(202, "ok"))
        clock.advance(2)
        service.delivery.run_once()
        assert [(r.state, r.attempts) for r in tables.rows()] == [("delivered", 2)]
        service.submit_report(report_alert(report("/srv/reports/b.csv", "second")))
        service.run_once()
        hook.answer(Answer(400, "bad"))  # a 4xx other than 429: not retried
        service.delivery.run_once()
        assert sorted((r.notification.alerts[0].labels["schedule"], r.state) for r in tables.rows()) == [
            ("first", "delivered"), ("second", "dead")]  # fmt: skip
        assert [r.path for r in hook.received()] == ["/reports"] * 3
        body = hook.received()[1].json()
        assert body["alerts"][0]["annotations"]["path"] == "/srv/reports/a.csv"
        # A silence matching a report's labels mutes it.
        tables.save_silence(new_silence(['schedule="muted"'], clock(), clock() + 3600, "ana", "quiet", clock()))
        service.refresh_silences()
        service.submit_report(report_alert(report("/srv/reports/c.csv", "muted")))
        service.run_once()
        assert len(tables.rows()) == 2
