"""The event hub: typed events published once, delivered to every subscriber off the hot path.

Capabilities never import each other; they meet here. A publisher (the anomaly monitor, the
alert engine, the config watcher) calls :meth:`EventHub.publish`, which is O(1) and never
blocks or raises: the event goes into a bounded queue (a full queue drops the event and counts
it). One worker thread delivers each event to the subscribers of its type in subscription
order; a subscriber that raises is counted and logged once, and the others still get the event.

Several events that belong together (one alert rule evaluation's transitions) are published as
one unit with :meth:`EventHub.publish_batch`: every subscriber gets each event as usual, and a
subscriber that asked for batches (:meth:`EventHub.subscribe_batch`) gets them in one call, so a
notifier can send one grouped notification without a second, internal event.

Plain Python: no OpenTelemetry imports. The pipeline subscribes an adapter that turns every
event into an OpenTelemetry log record carrying the event's ``event_name``.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY, SelfTelemetry

AttributeValue = str | bool | int | float | tuple[str, ...]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Event:
    """Base of every hub event: a name for routing and export, a time, and flat attributes."""

    event_name: ClassVar[str] = "ricecoder.event"
    default_level: ClassVar[str] = "INFO"
    exported: ClassVar[bool] = True
    """False for internal signals between capabilities that are not worth a log record each."""

    at: float
    """When it happened, seconds since the epoch (from the publisher's clock)."""

    def body(self) -> str:
        """One human line, used as the log record body."""
        return self.event_name

    def attributes(self) -> Mapping[str, AttributeValue]:
        """Flat attributes for the log record (semantic names, ``ricecoder.*`` otherwise)."""
        return {}

    def level(self) -> str:
        """Severity text of this event (``INFO``, ``WARN``, ``ERROR``); may depend on its data."""
        return self.default_level


AUDIT_EVENT = "ricecoder.audit"
"""Event name of the audit trail's records: the audit capability writes each one to the log
pipeline once the journal holds it (durable first) and announces it on the hub as
:class:`AuditRecorded`."""


@dataclass(frozen=True)
class ConfigChanged(Event):
    """A configuration change was applied, or rejected with its reasons."""

    event_name: ClassVar[str] = "ricecoder.config.changed"

    changed_paths: tuple[str, ...] = ()
    source: str = ""
    accepted: bool = True
    problems: tuple[str, ...] = ()

    def body(self) -> str:
        if not self.accepted:
            return f"configuration change rejected: {'; '.join(self.problems)}"
        return f"configuration reloaded: {', '.join(self.changed_paths) or 'no effective change'}"

    def attributes(self) -> Mapping[str, AttributeValue]:
        return {
            "ricecoder.config.changed_paths": self.changed_paths,
            "ricecoder.config.path": self.source,
            "ricecoder.config.accepted": self.accepted,
            "ricecoder.config.problems": self.problems,
        }

    def level(self) -> str:
        return "INFO" if self.accepted else "WARN"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass(frozen=True)
class AnomalyEpisode(Event):
    """An anomaly episode opened (``end`` is None) or closed on one monitored series."""

    event_name: ClassVar[str] = "ricecoder.anomaly"

    series: str = ""
    kind: str = ""
    score: float = 0.0
    direction: int = 1
    observed: float = 0.0
    expected: float = 0.0
    expected_low: float = 0.0
    expected_high: float = 0.0
    onset: float = 0.0
    end: float | None = None
    points: int = 0
    trace_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.end is None

    def body(self) -> str:
        phase = "started" if self.is_open else "ended"
        return (
            f"anomaly {phase}: {self.kind} on {self.series}: observed {self.observed:.6g}, "
            f"expected {self.expected:.6g} ({self.expected_low:.6g}..{self.expected_high:.6g})"
        )

    def attributes(self) -> Mapping[str, AttributeValue]:
        attrs: dict[str, AttributeValue] = {
            "ricecoder.anomaly.series": self.series,
            "ricecoder.anomaly.kind": self.kind,
            "ricecoder.anomaly.phase": "start" if self.is_open else "end",
            "ricecoder.anomaly.score": self.score,
            "ricecoder.anomaly.direction": self.direction,
            "ricecoder.anomaly.observed": self.observed,
            "ricecoder.anomaly.expected": self.expected,
            "ricecoder.anomaly.expected_low": self.expected_low,
            "ricecoder.anomaly.expected_high": self.expected_high,
            "ricecoder.anomaly.onset": _iso(self.onset),
            "ricecoder.anomaly.points": self.points,
        }
        if self.end is not None:
            attrs["ricecoder.anomaly.end"] = _iso(self.end)
        if self.trace_id:
            attrs["ricecoder.anomaly.exemplar.trace_id"] = self.trace_id
        return attrs

    def level(self) -> str:
        return "WARN" if self.is_open else "INFO"


@dataclass(frozen=True)
class AnomalyScores(Event):
    """The latest anomaly score of every monitored series, after each feed (not exported)."""

    event_name: ClassVar[str] = "ricecoder.anomaly.scores"
    exported: ClassVar[bool] = False

    scores: Mapping[str, float] = field(default_factory=dict)


_ALERT_LEVEL = {"critical": "ERROR", "warning": "WARN", "info": "INFO"}


@dataclass(frozen=True)
class AlertTransition(Event):
    """An alert started firing or resolved for one series of one rule."""

    event_name: ClassVar[str] = "ricecoder.alert"

    rule: str = ""
    series: str = ""
    state: Literal["firing", "resolved"] = "firing"
    value: float = 0.0
    threshold: float = 0.0
    severity: str = "warning"
    active_since: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    """Stable id of the label set: equal on every replica (downstream deduplication)."""
    starts_at: float = 0.0
    """When the alert started firing (Alertmanager's ``startsAt``)."""
    ends_at: float | None = None
    """When it resolved (``endsAt``); None while firing."""
    flapping: bool = False
    """The rule's condition changes too often for this alert: notifiers may hold it until it settles."""

    def body(self) -> str:
        return (
            f"alert {self.rule} {self.state} for {self.series}: "
            f"value {self.value:.6g} vs threshold {self.threshold:.6g}"
        )

    def attributes(self) -> Mapping[str, AttributeValue]:
        attrs: dict[str, AttributeValue] = {
            "ricecoder.alert.name": self.rule,
            "ricecoder.alert.state": self.state,
            "ricecoder.alert.severity": self.severity,
            "ricecoder.alert.series": self.series,
            "ricecoder.alert.value": self.value,
            "ricecoder.alert.threshold": self.threshold,
            "ricecoder.alert.active_since": self.active_since,
        }
        if self.fingerprint:
            attrs["ricecoder.alert.fingerprint"] = self.fingerprint
        if self.flapping:
            attrs["ricecoder.alert.flapping"] = True
        attrs.update({f"ricecoder.alert.label.{k}": v for k, v in self.labels.items()})
        attrs.update({f"ricecoder.alert.annotation.{k}": v for k, v in self.annotations.items()})
        return attrs

    def level(self) -> str:
        return _ALERT_LEVEL.get(self.severity, "INFO") if self.state == "firing" else "INFO"


E = TypeVar("E", bound=Event)


def _label(handler: object, name: str | None) -> str:
    return name or str(getattr(handler, "__qualname__", repr(handler)))


Handler = Callable[[E], None]
BatchHandler = Callable[[tuple[E, ...]], None]


@dataclass
class Subscription(Generic[E]):
    """A handle returned by :meth:`EventHub.subscribe`; ``cancel()`` stops delivery."""

    event_type: type[E]
    handler: Handler[E] | BatchHandler[E]
    name: str
    _hub: weakref.ref[EventHub] | None = field(default=None, repr=False)
    batch: bool = False
    """The handler takes every matching event of one published unit in one call (a tuple)."""

    def cancel(self) -> None:
        hub = self._hub() if self._hub is not None else None
        if hub is not None:
            hub._unsubscribe(self)


DEFAULT_QUEUE_SIZE = 10_000


class EventHub:
    """Publish typed events; deliver them on one background worker, isolated per subscriber."""

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_QUEUE_SIZE,
        clock: Clock = time.time,
        self_telemetry: SelfTelemetry = SELF_TELEMETRY,
        background: bool = True,
    ) -> None:
        self.clock = clock
        self._max_queue = max_queue
        self._telemetry = self_telemetry
        self._background = background
        self._queue: deque[Event | tuple[Event, ...]] = deque()
        """One entry per published unit: an event, or a batch (counted as one against ``max_queue``)."""
        self._subscriptions: list[Subscription[Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._delivering = False
        self._closed = False
        self._worker: threading.Thread | None = None
        self._telemetry.register_queue("events", lambda: len(self._queue))
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._after_fork_in_child)
            os.register_at_fork(after_in_child=lambda: (m := ref()) and m())

    # -- publishing -------------------------------------------------------------------------

    def publish(self, event: Event) -> bool:
        """Queue ``event`` for delivery; O(1), never blocks, never raises. False if dropped."""
        return self._enqueue(event, 1)

    def publish_batch(self, events: Sequence[Event]) -> bool:
        """Queue ``events`` as one unit: each is delivered once to every plain subscriber, and batch
        subscribers get the ones of their type in one call. Never blocks or raises; a full queue
        drops the whole batch (each event counted). False if dropped; True for an empty batch."""
        if not events:
            return True
        return self._enqueue(tuple(events) if len(events) > 1 else events[0], len(events))

    def _enqueue(self, item: Event | tuple[Event, ...], count: int) -> bool:
        try:
            with self._lock:
                if self._closed or len(self._queue) >= self._max_queue:
                    self._telemetry.count_drop("events", count)
                    return False
                self._queue.append(item)
                if self._background:
                    self._ensure_worker()
                    self._wake.notify()
            return True
        except Exception:  # pragma: no cover - defensive: publishing must never hurt the caller
            self._telemetry.count_error("events.publish")
            return False

    # -- subscribing ------------------------------------------------------------------------

    def subscribe(self, event_type: type[E], handler: Handler[E], *, name: str | None = None) -> Subscription[E]:
        """Deliver every published event that is an instance of ``event_type`` to ``handler``."""
        return self._add(Subscription(event_type, handler, _label(handler, name), weakref.ref(self)))

    def subscribe_batch(
        self, event_type: type[E], handler: BatchHandler[E], *, name: str | None = None
    ) -> Subscription[E]:
        """Deliver the events of ``event_type`` of each published unit together: a tuple of one for
        :meth:`publish`, every matching event of the batch for :meth:`publish_batch`."""
        return self._add(Subscription(event_type, handler, _label(handler, name), weakref.ref(self), batch=True))

    def _add(self, subscription: Subscription[E]) -> Subscription[E]:
        with self._lock:
            self._subscriptions = [*self._subscriptions, subscription]
        return subscription

    def _unsubscribe(self, subscription: Subscription[Any]) -> None:
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]

    # -- delivery ---------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Deliver everything queued so far; True when the queue drained within ``timeout``."""
        if not self._background:
            self._deliver_pending()
            return True
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._delivering:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._ensure_worker()
                self._wake.notify()
                self._idle.wait(remaining)
        return True

    def _deliver_pending(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    return
                event = self._queue.popleft()
                subscriptions = self._subscriptions
            self._deliver(event, subscriptions)

    def _deliver(self, item: Event | tuple[Event, ...], subscriptions: list[Subscription[Any]]) -> None:
        if not isinstance(item, tuple):
            for subscription in subscriptions:
                if isinstance(item, subscription.event_type):
                    self._call(subscription, (item,) if subscription.batch else item, item)
            return
        for subscription in subscriptions:
            matching = tuple(event for event in item if isinstance(event, subscription.event_type))
            if matching and subscription.batch:
                self._call(subscription, matching, matching[0])
            elif matching:
                for event in matching:
                    self._call(subscription, event, event)

    def _call(self, subscription: Subscription[Any], argument: Any, event: Event) -> None:
        try:
            subscription.handler(argument)
        except Exception as error:  # one subscriber's bug must not reach another
            self._telemetry.count_error(f"events.{subscription.name}")
            report_once("events", "subscriber %s failed on %s: %s", subscription.name, event.event_name,
                        type(error).__name__)

    def _ensure_worker(self) -> None:
        """Start the worker if it is not running (called with the lock held)."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="ricecoder-events", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._delivering = False
                    self._idle.notify_all()
                    self._wake.wait()
                if not self._queue:  # closed and drained
                    self._delivering = False
                    self._idle.notify_all()
                    return
                event = self._queue.popleft()
                subscriptions = self._subscriptions
                self._delivering = True
            self._deliver(event, subscriptions)

    # -- lifecycle --------------------------------------------------------------------------

    def shutdown(self, timeout: float = 5.0) -> int:
        """Deliver what is queued (within ``timeout``), stop the worker; return events not delivered."""
        self.flush(timeout)
        with self._lock:
            self._closed = True
            left = sum(len(item) if isinstance(item, tuple) else 1 for item in self._queue)
            self._queue.clear()
            self._wake.notify_all()
        if left:
            self._telemetry.count_drop("events", left)
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
        return left

    def _after_fork_in_child(self) -> None:
        """The worker thread does not survive a fork: fresh locks, and a new worker on next publish."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._delivering = False
        self._worker = None


@dataclass(frozen=True)
class IncidentChanged(Event):
    """An incident was triggered, notified, escalated, acknowledged, re-triggered or resolved."""

    event_name: ClassVar[str] = "ricecoder.incident"

    incident_id: str = ""
    change: str = ""
    state: str = ""
    title: str = ""
    severity: str = ""
    escalation_level: int = 0
    actor: str | None = None
    """Who made the change (``ricecoder-otel`` for the service's own); kept out of the attributes so
    the audit trail's actor pseudonymisation is not undone by the record's details."""

    def body(self) -> str:
        return f"incident {self.incident_id} {self.change}: {self.title}"

    def attributes(self) -> Mapping[str, AttributeValue]:
        return {
            "ricecoder.incident.id": self.incident_id,
            "ricecoder.incident.change": self.change,
            "ricecoder.incident.state": self.state,
            "ricecoder.incident.title": self.title,
            "ricecoder.incident.severity": self.severity,
            "ricecoder.incident.escalation_level": self.escalation_level,
        }

    def level(self) -> str:
        return "WARN" if self.state == "triggered" else "INFO"


@dataclass(frozen=True)
class ErrorGroupEvent(Event):
    """An error group opened (``new``), came back after being resolved (``regression``), or spiked (``spike``)."""

    event_name: ClassVar[str] = "ricecoder.error.group"

    kind: Literal["new", "regression", "spike"] = "new"
    group_id: str = ""
    error_type: str = ""
    title: str = ""
    culprit: str = ""
    count: int = 0
    window_count: int = 0
    """Errors of the group in the current spike window (``spike``)."""
    first_seen: float = 0.0
    release: str | None = None
    environment: str | None = None
    trace_id: str | None = None

    def body(self) -> str:
        return f"error group {self.kind}: {self.title} [{self.group_id}] ({self.count} so far)"

    def attributes(self) -> Mapping[str, AttributeValue]:
        attrs: dict[str, AttributeValue] = {
            "ricecoder.error.group.kind": self.kind,
            "ricecoder.error.group_id": self.group_id,
            "error.type": self.error_type,
            "ricecoder.error.title": self.title,
            "ricecoder.error.culprit": self.culprit,
            "ricecoder.error.count": self.count,
            "ricecoder.error.window_count": self.window_count,
            "ricecoder.error.first_seen": _iso(self.first_seen),
        }
        if self.release:
            attrs["service.version"] = self.release
        if self.environment:
            attrs["deployment.environment.name"] = self.environment
        if self.trace_id:
            attrs["ricecoder.error.exemplar.trace_id"] = self.trace_id
        return attrs

    def level(self) -> str:
        return "WARN" if self.kind in ("regression", "spike") else "INFO"


@dataclass(frozen=True)
class ComplianceReportGenerated(Event):
    """A scheduled compliance report was generated and stored."""

    event_name: ClassVar[str] = "ricecoder.compliance.report"

    report_id: str = ""
    standard: str = ""
    status: str = ""
    period_start: float = 0.0
    period_end: float = 0.0
    failed_controls: tuple[str, ...] = ()
    satisfied: int = 0
    not_evaluated: int = 0

    def body(self) -> str:
        failed = f" (failing: {', '.join(self.failed_controls)})" if self.failed_controls else ""
        return f"{self.standard} compliance report: {self.status}{failed}"

    def attributes(self) -> Mapping[str, AttributeValue]:
        return {
            "ricecoder.compliance.report.id": self.report_id,
            "ricecoder.compliance.standard": self.standard,
            "ricecoder.compliance.status": self.status,
            "ricecoder.compliance.period.start": _iso(self.period_start),
            "ricecoder.compliance.period.end": _iso(self.period_end),
            "ricecoder.compliance.failed_controls": self.failed_controls,
            "ricecoder.compliance.satisfied": self.satisfied,
            "ricecoder.compliance.not_evaluated": self.not_evaluated,
        }

    def level(self) -> str:
        return "WARN" if self.status == "non_compliant" else "INFO"


@dataclass(frozen=True)
class AnalyticsReportGenerated(Event):
    """A scheduled usage-analytics report was generated (and written to ``path`` when it has one)."""

    event_name: ClassVar[str] = "ricecoder.analytics.report"

    schedule: str = ""
    kind: str = ""
    format: str = ""
    period_start: float = 0.0
    period_end: float = 0.0
    """Start of the first and end of the last whole UTC day covered."""
    rows: int = 0
    path: str = ""

    def body(self) -> str:
        where = f", written to {self.path}" if self.path else ""
        return f"analytics {self.kind} report ({self.schedule}): {self.rows} rows{where}"

    def attributes(self) -> Mapping[str, AttributeValue]:
        return {
            "ricecoder.analytics.report.schedule": self.schedule,
            "ricecoder.analytics.report.kind": self.kind,
            "ricecoder.analytics.report.format": self.format,
            "ricecoder.analytics.report.period.start": _iso(self.period_start),
            "ricecoder.analytics.report.period.end": _iso(self.period_end),
            "ricecoder.analytics.report.rows": self.rows,
            "ricecoder.analytics.report.path": self.path,
        }


@dataclass(frozen=True)
class SilenceChanged(Event):
    """An alert silence was added or expired (``change``: ``added`` or ``expired``)."""

    event_name: ClassVar[str] = "ricecoder.alert.silence"

    silence_id: str = ""
    change: str = ""
    matchers: tuple[str, ...] = ()
    created_by: str = ""
    comment: str = ""
    starts_at: float = 0.0
    ends_at: float = 0.0

    def body(self) -> str:
        return f"silence {self.silence_id} {self.change}: {' '.join(self.matchers)}"

    def attributes(self) -> Mapping[str, AttributeValue]:
        return {
            "ricecoder.silence.id": self.silence_id,
            "ricecoder.silence.change": self.change,
            "ricecoder.silence.matchers": self.matchers,
            "ricecoder.silence.created_by": self.created_by,
            "ricecoder.silence.comment": self.comment,
            "ricecoder.silence.starts_at": _iso(self.starts_at),
            "ricecoder.silence.ends_at": _iso(self.ends_at),
        }


@dataclass(frozen=True)
class AuditRecorded(Event):
    """An audit record the journal holds (durable), announced to subscribers.

    Not turned into a log record by the hub: the audit capability writes the record's
    ``ricecoder.audit`` log record itself, with the full record and its trace context, right
    after the journal's fsync; a second one would duplicate it in every backend.
    """

    event_name: ClassVar[str] = AUDIT_EVENT
    exported: ClassVar[bool] = False

    seq: int = 0
    record_hash: str = ""
    action: str = ""
    resource: str = ""
    outcome: str = ""
    actor: str = ""
    trace_id: str = ""
    span_id: str = ""

    def body(self) -> str:
        return f"{self.action} {self.resource}: {self.outcome}"

    def attributes(self) -> Mapping[str, AttributeValue]:
        return {
            "ricecoder.audit.id": self.record_hash,
            "ricecoder.audit.seq": self.seq,
            "ricecoder.audit.action": self.action,
            "ricecoder.audit.resource": self.resource,
            "ricecoder.audit.outcome": self.outcome,
            "ricecoder.audit.actor": self.actor,
        }
