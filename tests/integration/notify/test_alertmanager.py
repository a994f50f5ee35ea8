"""Our alertmanager channel against Debian's Alertmanager 0.25, which delivers to a loopback webhook."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.harness.alertmanager import start_alertmanager
from tests.harness.http_receiver import Receiver

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_alertmanager_groups_silences_and_resolves_what_we_push(tmp_path: Path) -> None:
    receiver = Receiver()
    am = start_alertmanager(tmp_path, CONFIG.format(url=receiver.url + "/am"))
    store = SQLiteStore(tmp_path / "store.db")
    try:
        am.amtool("silence", "add", "alertname=Muted", "--author=ana", "--comment=maintenance")
        config = AlertingConfig.model_validate({"channels": [{"name": "am", "type": "alertmanager", "url": am.url}],
                                                "incidents": {"enabled": False}})  # fmt: skip
        service = NotificationService(config, NotifyTables(store))
        now = time.time()
        alerts = [Alert({"alertname": "Grouped", "pod": p, "severity": "critical"}, {"summary": f"pod {p} down"},
                        starts_at=now) for p in ("a", "b")]  # fmt: skip
        muted = Alert({"alertname": "Muted", "severity": "warning"}, starts_at=now)
        for alert in (*alerts, muted):
            service.submit(alert)
        service.run_once()
        service.delivery.run_once()

        def grouped() -> list[dict[str, Any]]:
            return [r.json() for r in receiver.received() if r.json()["groupLabels"] == {"alertname": "Grouped"}]

        [first] = wait_until(grouped, 60, "the Grouped notification")
        assert first["status"] == "firing" and first["receiver"] == "hook"
        assert first["groupKey"] == '{}:{alertname="Grouped"}'
        assert sorted(a["labels"]["pod"] for a in first["alerts"]) == ["a", "b"]
        # Alertmanager's fingerprints are ours: replicas and receivers dedup on the same identity.
        assert {a["fingerprint"] for a in first["alerts"]} == {a.fingerprint for a in alerts}
        state = {a["labels"]["alertname"]: a for a in am.get("/api/v2/alerts")}
        assert state["Muted"]["status"]["state"] == "suppressed" and state["Muted"]["status"]["silencedBy"]
        assert state["Muted"]["fingerprint"] == muted.fingerprint

        service.submit(alerts[0].resolved(time.time()))
        service.run_once()
        service.delivery.run_once()

        def resolved_pod() -> list[dict[str, Any]]:
            return [a for n in grouped() for a in n["alerts"] if a["status"] == "resolved"]

        [gone] = wait_until(resolved_pod, 60, "the resolved alert")
        assert gone["labels"]["pod"] == "a" and gone["endsAt"] != "0001-01-01T00:00:00Z"
        assert all(r.json()["groupLabels"] != {"alertname": "Muted"} for r in receiver.received())
        assert {r.headers["user-agent"] for r in receiver.received()} == {"Alertmanager/0.25.0"}
    finally:
        store.close()
        am.stop()
        receiver.close()


def test_firing_alerts_are_re_sent_every_resend_interval_and_a_resolution_once(tmp_path: Path) -> None:
    from ricecoder_otel.testing.memory import ManualClock

    receiver = Receiver()
    store = SQLiteStore(tmp_path / "store.db")
    try:
        clock = ManualClock()
        config = AlertingConfig.model_validate({
            "channels": [{"name": "am", "type": "alertmanager", "url": receiver.url, "resend_interval": "1m"}],
            "incidents": {"enabled": False}})  # fmt: skip
        service = NotificationService(config, NotifyTables(store), clock)
        alert = Alert({"alertname": "Up"}, starts_at=clock())

        def step(advance: float) -> int:
            clock.advance(advance)
            service.run_once()
            service.delivery.run_once()
            return len(receiver.received())

        service.submit(alert)
        assert step(0) == 1
        assert step(59) == 1
        assert step(1) == 2  # re-sent while firing
        service.submit(alert.resolved(clock()))
        assert step(0) == 3
        assert step(120) == 3  # a resolved alert is not re-sent
        bodies = [r.json() for r in receiver.received()]
        assert [b[0]["endsAt"] for b in bodies] == [
            "2023-11-14T22:17:20.000Z", "2023-11-14T22:18:20.000Z", "2023-11-14T22:14:20.000Z"]  # fmt: skip
    finally:
        store.close()
        receiver.close()
