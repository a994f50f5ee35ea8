"""Grouping and timers: alerts in, notifications out, on an injected clock (Alertmanager's dispatcher).

Each alert joins one aggregation group per route it takes. A new group waits ``group_wait``
(not when its first alert is already older than that), then flushes every ``group_interval``.
At each flush inhibited and silenced alerts are left out and, per channel, the notification log
decides as Alertmanager's dedup stage does: notify on a new firing alert, on a resolution of an
alert the channel was told about (only if it wants resolved notifications; otherwise the log is
just cleared), or when ``repeat_interval`` has passed without a change. Resolved alerts leave
their groups after the flush that reported them.

:meth:`Dispatcher.tick` returns the flush results; the caller writes them to the outbox and the
notification log in one transaction, so a crash cannot notify twice or lose a flush.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.inhibition import Inhibitor
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.alerting.notify.router import Route
from ricecoder_otel.alerting.notify.silences import Silence


@dataclass(frozen=True)
class LogEntry:
    """What a channel was last told about a group (Alertmanager's nflog entry)."""

    firing: frozenset[str]
    resolved: frozenset[str]
    sent_at: float


@dataclass(frozen=True)
class Flush:
    """One flush's outcome for one channel: a notification to send (or None) and the new log entry."""

    channel: str
    log_key: str
    entry: LogEntry
    notification: Notification | None


@dataclass
class _Group:
    route: Route
    key: str
    labels: dict[str, str]
    next_flush: float
    alerts: dict[str, Alert] = field(default_factory=dict)
    flushed: bool = False


def log_key(channel: str, group_key: str) -> str:
    return f"{channel}|{group_key}"


def needs_update(entry: LogEntry | None, firing: set[str], resolved: set[str], send_resolved: bool,
                 repeat: float, now: float) -> bool:  # fmt: skip
    """Alertmanager's ``DedupStage.needsUpdate``."""
    if entry is None:
        return bool(firing)
    if not firing <= entry.firing:
        return True
    if not firing:
        return bool(entry.firing)
    if send_resolved and not resolved <= entry.resolved:
        return True
    return entry.sent_at <= now - repeat


class Dispatcher:
    def __init__(
        self,
        route: Route,
        *,
        inhibitor: Inhibitor,
        silences: Callable[[], Sequence[Silence]],
        log: Callable[[str], LogEntry | None],
        send_resolved: Mapping[str, bool],
        external_url: str = "",
    ) -> None:
        self.route = route
        self.inhibitor = inhibitor
        self._silences = silences
        self._log = log
        self._send_resolved = dict(send_resolved)
        self._external_url = external_url
        self._groups: dict[tuple[int, str], _Group] = {}
        """Per route and group key, as Alertmanager keeps them: sibling routes with equal matchers
        share a group key string but not their groups (nor their timers)."""

    def ingest(self, alert: Alert, now: float) -> None:
        """Put ``alert`` (new, updated or resolved) into the groups of the routes it takes."""
        for route in self.route.match(alert.labels):
            key = route.group_key(alert.labels)
            group = self._groups.get((id(route), key))
            if group is None:
                wait = 0.0 if alert.starts_at + route.group_wait < now else route.group_wait
                group = _Group(route, key, route.group_labels(alert.labels), now + wait)
                self._groups[(id(route), key)] = group
            elif not group.flushed and alert.starts_at + route.group_wait < now:
                group.next_flush = min(group.next_flush, now)
            group.alerts[alert.fingerprint] = alert

    def alerts(self) -> list[Alert]:
        """Every alert held by some group, once."""
        seen: dict[str, Alert] = {}
        for group in self._groups.values():
            seen.update(group.alerts)
        return list(seen.values())

    def next_due(self) -> float | None:
        return min((g.next_flush for g in self._groups.values()), default=None)

    def tick(self, now: float) -> tuple[list[Flush], list[str]]:
        """Flush every due group; returns the flushes and the fingerprints no group holds any more."""
        flushes: list[Flush] = []
        before = {fp for g in self._groups.values() for fp in g.alerts}
        for key in [k for k, g in self._groups.items() if g.next_flush <= now]:
            group = self._groups[key]
            flushes += self._flush(group, now)
            group.flushed = True
            group.next_flush = now + group.route.group_interval
            for fp in [fp for fp, a in group.alerts.items() if a.status == "resolved"]:
                del group.alerts[fp]
            if not group.alerts:
                del self._groups[key]
        after = {fp for g in self._groups.values() for fp in g.alerts}
        return flushes, sorted(before - after)

    def _flush(self, group: _Group, now: float) -> list[Flush]:
        everything = self.alerts()
        silences = self._silences()
        shown = [
            a for a in group.alerts.values()
            if not (a.status == "firing" and (self.inhibitor.inhibited(a, everything)
                                              or any(s.mutes(a.labels, now) for s in silences)))
        ]  # fmt: skip
        if not shown:
            return []
        firing = {a.fingerprint for a in shown if a.status == "firing"}
        resolved = {a.fingerprint for a in shown if a.status == "resolved"}
        flushes: list[Flush] = []
        for channel in group.route.receivers:
            key = log_key(channel, group.key)
            send_resolved = self._send_resolved.get(channel, True)
            if not needs_update(self._log(key), firing, resolved, send_resolved, group.route.repeat_interval, now):
                continue
            entry = LogEntry(frozenset(firing), frozenset(resolved), now)
            alerts = tuple(sorted((a for a in shown if send_resolved or a.status == "firing"),
                                  key=lambda a: (a.starts_at, a.fingerprint)))  # fmt: skip
            notification = None
            if alerts:
                notification = Notification(
                    receiver=group.route.receiver_name, group_key=group.key, group_labels=dict(group.labels),
                    alerts=alerts, external_url=self._external_url, sent_at=now,
                )  # fmt: skip
            flushes.append(Flush(channel, key, entry, notification))
        return flushes

    def clear(self) -> None:
        """Forget every group (the caller restores them from the store)."""
        self._groups.clear()

    def restore(self, alerts: Iterable[Alert], now: float) -> None:
        """Reload alerts kept in the store after a restart (the log decides what is re-sent)."""
        for alert in alerts:
            self.ingest(alert, now)
