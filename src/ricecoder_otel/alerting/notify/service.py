"""The notification service: alerts in (from any thread), outbox rows out (on its own thread).

:meth:`submit` is O(1) and never blocks (a bounded queue; a full one drops and counts). The
dispatch thread saves each alert, groups it, flushes due groups and commits the outbox rows and
notification-log entries of a flush in one transaction; the delivery worker sends them. Alertmanager
channels get every alert pushed as it changes and re-sent while it fires. Incidents (when on) are
opened, escalated and resolved from the same flushes. Scheduled analytics reports
(:meth:`submit_report`) go into the same outbox, only through routes that ask for them (:mod:`.reports`).

All timing reads the injected clock, so tests drive it with a ManualClock and :meth:`run_once`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.channels import Channel, build_channel
from ricecoder_otel.alerting.notify.channels.alertmanager import AlertmanagerChannel
from ricecoder_otel.alerting.notify.dispatcher import Dispatcher
from ricecoder_otel.alerting.notify.inhibition import Inhibitor
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.alerting.notify.outbox import DeliveryWorker, RetryPolicy
from ricecoder_otel.alerting.notify.reports import report_messages
from ricecoder_otel.alerting.notify.router import build_route
from ricecoder_otel.alerting.notify.silences import Silence
from ricecoder_otel.alerting.notify.tables import NewMessage, NotifyTables
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY, SelfTelemetry

if TYPE_CHECKING:
    from ricecoder_otel.alerting.incidents.manager import IncidentManager
    from ricecoder_otel.config.model import AlertingConfig

logger = logging.getLogger("ricecoder_otel.alerting.notify")
INBOX_SIZE = 10_000
SILENCE_REFRESH = 1.0


def retry_policy(config: AlertingConfig) -> RetryPolicy:
    d = config.delivery
    return RetryPolicy(d.max_attempts, d.initial_backoff.total_seconds(), d.max_backoff.total_seconds())


class NotificationService:
    def __init__(
        self,
        config: AlertingConfig,
        tables: NotifyTables,
        clock: Callable[[], float] = time.time,
        *,
        incidents: IncidentManager | None = None,
        channels: dict[str, Channel] | None = None,
        telemetry: SelfTelemetry = SELF_TELEMETRY,
        poll_interval: float = 0.05,
    ) -> None:
        self.tables = tables
        self.clock = clock
        self.telemetry = telemetry
        self.poll_interval = poll_interval
        self.channels = channels if channels is not None else {c.name: build_channel(c, clock) for c in config.channels}
        grouped = [name for name, ch in self.channels.items() if not isinstance(ch, AlertmanagerChannel)]
        self.pushers = [ch for ch in self.channels.values() if isinstance(ch, AlertmanagerChannel)]
        self.route = build_route(config.route, grouped)
        self.dispatcher = Dispatcher(
            self.route,
            inhibitor=Inhibitor(config.inhibit_rules),
            silences=self._silences,
            log=tables.log_entry,
            send_resolved={name: ch.send_resolved for name, ch in self.channels.items()},
        )
        self.incidents = incidents
        self.delivery = DeliveryWorker(tables, self.channels, retry_policy(config), clock,
                                       listener=incidents.delivered if incidents is not None else None)  # fmt: skip
        self._inbox: deque[Alert] = deque()
        self._reports: deque[Alert] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._restored = False
        self.passes = 0
        """Completed dispatch passes (tests wait for one after a restart)."""
        self._silence_cache: tuple[float, list[Silence]] = (float("-inf"), [])
        self._pushed: dict[str, dict[str, float]] = {ch.name: {} for ch in self.pushers}

    # -- input --------------------------------------------------------------------------------------
    def submit(self, alert: Alert) -> bool:
        """Queue an alert change; O(1), never blocks. False (and counted) when the queue is full."""
        with self._lock:
            if len(self._inbox) >= INBOX_SIZE:
                self.telemetry.count_drop("notify.inbox")
                return False
            self._inbox.append(alert)
        self._wake.set()
        return True

    def submit_many(self, alerts: Sequence[Alert]) -> int:
        """Queue alerts that changed together (one evaluation): the dispatcher takes them in one pass.

        O(len(alerts)), never blocks; returns how many were queued (the rest are dropped and counted).
        """
        with self._lock:
            room = max(0, INBOX_SIZE - len(self._inbox))
            self._inbox.extend(alerts[:room])
        if len(alerts) > room:
            self.telemetry.count_drop("notify.inbox", len(alerts) - room)
        if alerts:
            self._wake.set()
        return min(room, len(alerts))

    def submit_report(self, report: Alert) -> bool:
        """Queue a one-off report message (:mod:`.reports`); O(1), never blocks, False (counted) when full."""
        with self._lock:
            if len(self._reports) >= INBOX_SIZE:
                self.telemetry.count_drop("notify.reports")
                return False
            self._reports.append(report)
        self._wake.set()
        return True

    def _take_reports(self, now: float) -> tuple[list[Alert], list[NewMessage]]:
        """Queued reports and their messages (routes that opted in; silences that match mute them)."""
        with self._lock:
            reports = list(self._reports)
            self._reports.clear()
        silences = self._silences() if reports else []
        shown = [r for r in reports if not any(s.mutes(r.labels, now) for s in silences)]
        return reports, [m for r in shown for m in report_messages(self.route, r, self.channels, now)]

    def _silences(self) -> list[Silence]:
        """Silences from the store (the CLI adds them from another process), re-read at most once a second."""
        now = self.clock()
        read_at, cached = self._silence_cache
        if now - read_at >= SILENCE_REFRESH or now < read_at:
            cached = self.tables.silences()
            self._silence_cache = (now, cached)
        return cached

    def refresh_silences(self) -> None:
        self._silence_cache = (float("-inf"), [])

    # -- one pass -----------------------------------------------------------------------------------
    def run_once(self) -> None:
        """Take queued alerts, flush due groups, queue the notifications, run incident timers."""
        now = self.clock()
        if not self._restored:
            self.dispatcher.restore(self.tables.alerts(), now)
            self._restored = True
        alerts: list[Alert] = []
        while True:
            with self._lock:
                if not self._inbox:
                    break
                alert = self._inbox[0]
            self.tables.save_alert(alert, now)  # a store failure leaves it queued
            with self._lock:
                self._inbox.popleft()
            self.dispatcher.ingest(alert, now)
            alerts.append(alert)
        reports, messages = self._take_reports(now)
        messages += self._pushes(alerts, now)
        flushes, forgotten = self.dispatcher.tick(now)
        sent = [f for f in flushes if f.notification is not None]
        messages += [NewMessage(f.channel, f.notification) for f in sent if f.notification is not None]
        try:
            if self.incidents is not None:
                messages += self.incidents.on_flushes(sent, self._channel_types(), now)
            if messages or flushes or forgotten:
                self.tables.commit_flush(messages, [(f.log_key, f.entry) for f in flushes], forgotten, now)
        except Exception:
            # Nothing was committed: rebuild the groups from the stored alerts, requeue the reports and
            # flush again next pass.
            self.dispatcher.clear()
            self._restored = False
            with self._lock:
                self._reports.extendleft(reversed(reports))
            raise
        if self.incidents is not None:
            escalations = self.incidents.tick(now, self._channel_types())
            if escalations:
                self.tables.commit_flush(escalations, now=now)
                messages += escalations
        if messages:
            self.delivery.wake()
        self.passes += 1

    def _channel_types(self) -> dict[str, str]:
        return {name: ch.type for name, ch in self.channels.items()}

    def _pushes(self, changed: Sequence[Alert], now: float) -> list[NewMessage]:
        """Alertmanager channels: changed alerts now, firing ones again every ``resend_interval``."""
        messages: list[NewMessage] = []
        current = {a.fingerprint: a for a in self.dispatcher.alerts()}
        current.update({a.fingerprint: a for a in changed})
        changed_ids = {a.fingerprint for a in changed}
        for channel in self.pushers:
            pushed = self._pushed[channel.name]
            resend = channel.resend_interval
            due = [a for a in current.values() if a.fingerprint in changed_ids
                   or (a.status == "firing" and now - pushed.get(a.fingerprint, float("-inf")) >= resend)]  # fmt: skip
            if not due:
                continue
            for alert in due:
                if alert.status == "firing":
                    pushed[alert.fingerprint] = now
                else:
                    pushed.pop(alert.fingerprint, None)
            notification = Notification(receiver=channel.name, group_key="", group_labels={}, alerts=tuple(due),
                                        action="alerts", sent_at=now)  # fmt: skip
            messages.append(NewMessage(channel.name, notification))
        return messages

    # -- thread -------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="ricecoder-notify-dispatch", daemon=True)
            self._thread.start()
        self.delivery.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.delivery.stop(timeout)

    def _run(self) -> None:
        """A pass as soon as alerts are submitted; otherwise every ``poll_interval`` for the timers.

        The wake flag is cleared before the pass, so a submit during the pass (or just after it)
        starts the next one at once instead of waiting out the poll interval.
        """
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception as error:  # the store may be away: keep alerts queued and try again
                self.telemetry.count_error("notify.dispatch")
                logger.warning("notification dispatch pass failed: %s", error)
            self._wake.wait(self.poll_interval)
