"""Alerting as a capability: its own evaluation loop over exact in-process aggregates.

``prepare`` registers an :class:`~ricecoder_otel.alerting.otel.AlertReader` (cumulative, pulled
only by this capability). While on, a thread (``ricecoder-alerting``) evaluates every
``alerting.evaluation_interval`` (default 1 s): one collection, the rules' windows, the state
machine, and each transition published on the hub as an
:class:`~ricecoder_otel.kernel.events.AlertTransition`, an evaluation's transitions as one hub batch
(:meth:`~ricecoder_otel.kernel.events.EventHub.publish_batch`: each is delivered once, and notifiers
take the burst in one call to send it as one group notification). Rules of kind ``anomaly`` are evaluated
when :class:`~ricecoder_otel.kernel.events.AnomalyScores` arrive.

Firing alerts are kept in the store when ``store.location`` is configured (table
``alert_state``): after a restart a still-firing alert is not announced again, and one whose
condition ended while the process was down resolves at the first evaluation. Switched off, the
thread stops and in-memory state is dropped (the stored state stays).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ricecoder_otel.alerting.otel import AlertReader, snapshot
from ricecoder_otel.alerting.persist import AlertStateStore
from ricecoder_otel.alerting.rules import RuleEngine
from ricecoder_otel.alerting.state import Change
from ricecoder_otel.kernel.capability import BuildContext, Capability, InstallContext
from ricecoder_otel.kernel.events import AlertTransition, AnomalyScores, EventHub, Subscription
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

if TYPE_CHECKING:
    from ricecoder_otel.config import AlertingConfig, MonitoringConfig


class AlertingCapability(Capability):
    name = "alerting"
    section = "alerting"

    def __init__(self) -> None:
        self.engine: RuleEngine | None = None
        self.reader: AlertReader | None = None
        self.state_store: AlertStateStore | None = None
        self._config: AlertingConfig | None = None
        self._hub: EventHub | None = None
        self._subscription: Subscription[AnomalyScores] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._evaluating = threading.Lock()
        self.evaluations = 0

    def prepare(self, context: BuildContext) -> None:
        self.reader = AlertReader(context.producers)
        context.readers.append(self.reader)

    def install(self, context: InstallContext) -> None:
        self._hub = context.hub
        self._config = context.config.alerting
        self.engine = RuleEngine((), clock=context.clock, on_template_error=_template_problem)
        self.engine.on_change = self._persist
        if self.state_store is None:
            try:
                self.state_store = AlertStateStore(context.store())
            except Exception as error:  # a broken store costs the restart memory, not the alerts
                report_once(
                    "alerting",
                    "alert state will not survive a restart: the store cannot be used (%s)",
                    type(error).__name__,
                )

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self.engine is None or self._config is None or self._hub is None:
            return
        self._load(self._config)
        self._restore()
        if self._subscription is None:
            self._subscription = self._hub.subscribe(AnomalyScores, self._on_scores, name="alerting.anomaly-rules")
        if self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="ricecoder-alerting", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        if self.engine is not None:
            self.engine.set_rules([])  # pending and firing state is dropped with the rules

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        self._config = new.alerting
        self._load(new.alerting)

    def after_fork(self) -> None:
        if self._thread is not None:
            self._thread = None
            self.start()

    def shutdown(self) -> None:
        if self.state_store is not None:
            self.state_store.store.close()

    # -- evaluation -------------------------------------------------------------------------

    def evaluate_now(self) -> int:
        """One evaluation (what the loop does each interval); returns the transitions published."""
        engine, reader, hub = self.engine, self.reader, self._hub
        if engine is None or reader is None or hub is None:
            return 0
        with self._evaluating:
            metrics = engine.metrics()
            data = reader.read(metrics) if metrics else None
            events = engine.tick(snapshot(data, metrics))
            self.evaluations += 1
        publish_all(hub, events)
        return len(events)

    def _run(self, stop: threading.Event) -> None:
        """Evaluate on a fixed grid, one ``evaluation_interval`` apart (as Prometheus does).

        The time an evaluation takes does not stretch the period (a 70 ms collection would make
        a 1 s interval 1.07 s, and the wait for the next evaluation that much longer); ticks an
        overrunning evaluation missed are skipped, not run back to back.
        """
        interval = self._config.evaluation_interval.total_seconds() if self._config else 1.0
        next_at = time.monotonic() + interval
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            try:
                self.evaluate_now()
            except Exception as error:  # one bad evaluation must not end the loop
                SELF_TELEMETRY.count_error("alerting")
                report_once("alerting", "rule evaluation failed: %s", type(error).__name__)
            if self._config is not None:
                interval = self._config.evaluation_interval.total_seconds()
            next_at = next_tick(next_at, interval, time.monotonic())

    def _on_scores(self, event: AnomalyScores) -> None:
        if self.engine is None or self._hub is None:
            return
        publish_all(self._hub, self.engine.evaluate("anomaly", event.scores))

    def _load(self, config: AlertingConfig) -> None:
        if self.engine is not None:
            step = config.evaluation_interval.total_seconds()
            self.engine.set_rules(config.rules, step=step, flapping=config.flapping)

    # -- state in the store -----------------------------------------------------------------

    def _restore(self) -> None:
        if self.state_store is None or self.engine is None:
            return
        try:
            self.state_store.forget_rules_except({rule.name for rule in self.engine.rules})
            for saved in self.state_store.load():
                self.engine.restore(saved.rule, saved.fingerprint, saved.instance)
        except Exception as error:
            SELF_TELEMETRY.count_error("alerting.state")
            report_once("alerting", "could not read alert state from the store: %s", error)

    def _persist(self, rule: str, change: Change) -> None:
        if self.state_store is None or change.state == "pending":
            return
        try:
            if change.state == "firing":
                self.state_store.fired(rule, change.key, change.instance, change.at)
            else:
                self.state_store.resolved(rule, change.key)
        except Exception as error:  # the alert still goes out; only its restart memory is lost
            SELF_TELEMETRY.count_error("alerting.state")
            report_once("alerting", "could not write alert state to the store: %s", error)


def next_tick(previous: float, interval: float, now: float) -> float:
    """The next grid point after ``previous`` that is not already past (missed ticks are skipped)."""
    following = previous + interval
    if following < now:
        following += math.ceil((now - following) / interval) * interval
    return following


def publish_all(hub: EventHub, transitions: Sequence[AlertTransition]) -> None:
    """One evaluation's transitions, published once each as one batch (notifiers group a burst)."""
    hub.publish_batch(transitions)


def _template_problem(rule: str, annotation: str, reason: str) -> None:
    report_once("alerting", "rule %s: annotation %s kept as raw text: %s", rule, annotation, reason)
