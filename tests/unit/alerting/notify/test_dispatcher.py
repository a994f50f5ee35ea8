"""Grouping timers, the notification log, silences and inhibition, on a manual clock."""

from __future__ import annotations

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.dispatcher import Dispatcher, Flush, LogEntry
from ricecoder_otel.alerting.notify.inhibition import Inhibitor
from ricecoder_otel.alerting.notify.router import build_route
from ricecoder_otel.alerting.notify.silences import Silence, new_silence
from ricecoder_otel.config.model import InhibitRule, RouteConfig
from ricecoder_otel.testing.memory import ManualClock

ROUTE = RouteConfig.model_validate({"group_wait": "30s", "group_interval": "5m", "repeat_interval": "1h"})


class Harness:
    def __init__(self, send_resolved: bool = True, inhibit: list[InhibitRule] | None = None) -> None:
        self.clock = ManualClock()
        self.log: dict[str, LogEntry] = {}
        self.silences: list[Silence] = []
        self.dispatcher = Dispatcher(
            build_route(ROUTE, ["hook"]), inhibitor=Inhibitor(inhibit or []), silences=lambda: self.silences,
            log=self.log.get, send_resolved={"hook": send_resolved},
        )  # fmt: skip

    def alert(self, name: str, *, resolved: bool = False, **labels: str) -> Alert:
        alert = Alert({"alertname": name, **labels}, {"summary": name}, starts_at=self.clock())
        return alert.resolved(self.clock()) if resolved else alert

    def send(self, alert: Alert) -> None:
        self.dispatcher.ingest(alert, self.clock())

    def tick(self, advance: float = 0.0) -> list[Flush]:
        self.clock.advance(advance)
        flushes, _ = self.dispatcher.tick(self.clock())
        for flush in flushes:
            self.log[flush.log_key] = flush.entry
        return [f for f in flushes if f.notification is not None]


def fps(flush: Flush) -> list[tuple[str, str]]:
    assert flush.notification is not None
    return [(a.labels.get("pod", ""), a.status) for a in flush.notification.alerts]


def test_group_wait_batches_then_group_interval_reports_changes() -> None:
    h = Harness()
    h.send(h.alert("Down", pod="a"))
    assert h.tick(10) == []
    h.send(h.alert("Down", pod="b"))
    assert h.tick(19.9) == []
    [first] = h.tick(0.1)  # 30 s after the group was created
    assert fps(first) == [("a", "firing"), ("b", "firing")]
    assert first.notification is not None and first.notification.group_key == '{}:{alertname="Down"}'
    h.send(h.alert("Down", pod="c"))
    assert h.tick(299) == []  # a change waits for group_interval
    [second] = h.tick(1)
    assert [p for p, _ in fps(second)] == ["a", "b", "c"]


def test_unchanged_groups_repeat_after_repeat_interval_on_a_flush_boundary() -> None:
    h = Harness()
    h.send(h.alert("Down", pod="a"))
    assert len(h.tick(30)) == 1
    sent = [len(h.tick(300)) for _ in range(12)]  # 5-minute flushes for one hour
    assert sent == [0] * 11 + [1]


def test_resolved_before_group_wait_is_never_notified_and_resolution_is_reported_once() -> None:
    h = Harness()
    alert = h.alert("Blip", pod="a")
    h.send(alert)
    h.clock.advance(5)
    h.send(alert.resolved(h.clock()))
    assert h.tick(30) == []
    assert h.dispatcher.alerts() == []
    h.send(h.alert("Down", pod="a"))
    assert len(h.tick(30)) == 1
    h.send(h.alert("Down", pod="a", resolved=True))
    [resolved] = h.tick(300)
    assert resolved.notification is not None and resolved.notification.status == "resolved"
    assert h.tick(300) == [] and h.dispatcher.alerts() == []


def test_without_send_resolved_the_log_is_cleared_silently() -> None:
    h = Harness(send_resolved=False)
    h.send(h.alert("Down", pod="a"))
    assert len(h.tick(30)) == 1
    h.send(h.alert("Down", pod="a", resolved=True))
    flushes, _ = h.dispatcher.tick(h.clock.advance(300))
    assert [f.notification for f in flushes] == [None]
    assert flushes[0].entry.firing == frozenset()


def test_old_alerts_skip_group_wait() -> None:
    h = Harness()
    alert = Alert({"alertname": "Old"}, starts_at=h.clock() - 3600)
    h.send(alert)
    assert len(h.tick(0)) == 1


def test_a_silence_mutes_matching_alerts_while_active() -> None:
    h = Harness()
    now = h.clock()
    h.silences.append(new_silence(['pod="a"'], now, now + 100, "ana", "deploy", now))
    h.send(h.alert("Down", pod="a"))
    h.send(h.alert("Down", pod="b"))
    [flush] = h.tick(30)
    assert fps(flush) == [("b", "firing")]
    [after] = h.tick(300)  # silence over: pod a is new to the receiver
    assert [p for p, _ in fps(after)] == ["a", "b"]


def test_inhibition_mutes_targets_with_equal_labels_but_never_itself() -> None:
    rule = InhibitRule(source_matchers=['severity="critical"'], target_matchers=['severity=~"warning|critical"'],
                       equal=["service"])  # fmt: skip
    h = Harness(inhibit=[rule])
    h.send(h.alert("DbDown", severity="critical", service="checkout"))
    h.send(h.alert("Slow", severity="warning", service="checkout"))
    h.send(h.alert("Slow2", severity="warning", service="cart"))
    notified = sorted(f.notification.group_labels["alertname"] for f in h.tick(30) if f.notification)
    assert notified == ["DbDown", "Slow2"]


def test_sibling_routes_with_equal_matchers_keep_their_own_groups_and_timers() -> None:
    route = RouteConfig.model_validate({"routes": [{"receiver": "fast", "group_wait": "0s", "continue": True},
                                                   {"receiver": "slow", "group_wait": "30s"}]})  # fmt: skip
    log: dict[str, LogEntry] = {}
    dispatcher = Dispatcher(build_route(route, ["fast", "slow"]), inhibitor=Inhibitor([]), silences=list,
                            log=log.get, send_resolved={})  # fmt: skip
    clock = ManualClock()
    dispatcher.ingest(Alert({"alertname": "Down"}, starts_at=clock()), clock())
    [fast] = dispatcher.tick(clock())[0]
    assert fast.channel == "fast" and fast.notification is not None
    log[fast.log_key] = fast.entry
    clock.advance(29)
    assert dispatcher.tick(clock())[0] == []
    clock.advance(1)
    [slow] = dispatcher.tick(clock())[0]  # its own group_wait, 30 s
    assert slow.channel == "slow" and slow.notification is not None


def test_by_default_a_burst_ingested_in_one_pass_is_notified_at_once_as_one_group() -> None:
    log: dict[str, LogEntry] = {}
    dispatcher = Dispatcher(build_route(RouteConfig(), ["hook"]), inhibitor=Inhibitor([]), silences=list,
                            log=log.get, send_resolved={})  # fmt: skip
    clock = ManualClock()
    for pod in ("a", "b", "c"):
        dispatcher.ingest(Alert({"alertname": "Down", "pod": pod}, starts_at=clock()), clock())
    [burst] = dispatcher.tick(clock())[0]  # group_wait 0s: no time has to pass
    assert fps(burst) == [("a", "firing"), ("b", "firing"), ("c", "firing")]
    log[burst.log_key] = burst.entry
    dispatcher.ingest(Alert({"alertname": "Down", "pod": "d"}, starts_at=clock()), clock())
    assert dispatcher.tick(clock.advance(299))[0] == []  # a later alert waits for group_interval
    [later] = dispatcher.tick(clock.advance(1))[0]
    assert [p for p, _ in fps(later)] == ["a", "b", "c", "d"]
