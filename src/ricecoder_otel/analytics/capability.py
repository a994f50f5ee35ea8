"""Analytics as a capability (section ``analytics``).

``install`` creates the engine and adds :class:`~ricecoder_otel.analytics.otel.ServerSpanActivity`.
Calls (``track_action``, ``identify``, ``alias``, ``group``, captured requests) go into a bounded
queue (``event_buffer_size``; a full queue drops and counts). While on, one thread
(``ricecoder-analytics``) feeds the queue to the engine, emits the events as log records and,
every ``flush_interval``, writes what the engine gathered to the store (migration 0006) as this
replica's rows and sketches, and makes the scheduled reports that are due by the pipeline's clock
(:mod:`.scheduled`). Stopping processes the queue, flushes and joins the thread.
Reports read the store and add what is not flushed yet.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from ricecoder_otel.analytics import api
from ricecoder_otel.analytics.engine import AnalyticsCore, Dataset, day_of
from ricecoder_otel.analytics.landing import Landing
from ricecoder_otel.analytics.otel import ALIAS_EVENT, GROUP_EVENT, IDENTIFY_EVENT, AnalyticsEvents, ServerSpanActivity
from ricecoder_otel.analytics.reports import Report, build
from ricecoder_otel.analytics.scheduled import ScheduledReports
from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.kernel.capability import Capability, Clock, InstallContext
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import AnalyticsConfig
    from ricecoder_otel.store import Store

STOP_TIMEOUT_S = 5.0
PROCESS_EVERY_S = 0.2
Call = tuple[str, tuple[Any, ...], "bool | None", float]


class AnalyticsCapability(Capability):
    name = "analytics"
    section = "analytics"

    def __init__(self) -> None:
        self.core: AnalyticsCore | None = None
        self.events: AnalyticsEvents | None = None
        self.processor: ServerSpanActivity | None = None
        self.scheduled: ScheduledReports | None = None
        self.config: AnalyticsConfig | None = None
        self.replica = uuid.uuid4().hex[:16]
        self.flushes = 0
        self._clock: Clock | None = None
        self._service_version: str | None = None
        self._store: AnalyticsStore | None = None
        self._queue: deque[Call] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._work = threading.Lock()
        self.accepting = False
        self._hooks = SpanHooks()
        self._span_hook: SpanHook | None = None
        self._consent_hook: SpanHook | None = None
        self._landing = Landing(())

    def install(self, context: InstallContext) -> None:
        self.config = context.config.analytics
        self._clock = context.clock
        self._landing = Landing(context.payload_filters)
        version = context.resource.attributes.get("service.version")
        self._service_version = str(version) if version else None
        self.core = self._engine(self.config)
        self.events = AnalyticsEvents(context.logger_provider, self.config.tracking_id)
        self.processor = ServerSpanActivity(self.submit, self.config)
        self._hooks = context.span_hooks
        self._span_hook = self._end_hook()
        # Consent is read from the baggage while a span starts: a start hook only while it is checked.
        self._consent_hook = SpanHook("analytics", on_start=self.processor.start, server_only=True)
        self.scheduled = ScheduledReports(self.config.schedules, clock=context.clock, make=self.report, hub=context.hub)
        SELF_TELEMETRY.register_queue("analytics", lambda: len(self._queue))

    def _engine(self, config: AnalyticsConfig) -> AnalyticsCore:
        assert self._clock is not None
        core = AnalyticsCore(config, clock=self._clock, on_drop=SELF_TELEMETRY.count_drop)
        if core.pseudonymise.ephemeral:
            report_once(
                "analytics",
                "analytics.pseudonym_key is not set: pseudonyms are random per process "
                "and do not join across restarts or replicas",
            )
        release = config.release or self._service_version
        if release is not None:
            core.release(release)
        return core

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        assert self.processor is not None
        self.accepting = self.processor.on = True
        if self._span_hook is not None:
            self._hooks.switch(self._span_hook, True)
        self._switch_span_hooks()
        api.bind(self)
        if self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="ricecoder-analytics", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        api.unbind(self)
        self.accepting = False
        if self.processor is not None:
            self.processor.on = False
        for hook in (self._span_hook, self._consent_hook):
            if hook is not None:
                self._hooks.switch(hook, False)
        thread, self._thread = self._thread, None
        self._stop.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT_S)
        self.flush_now()

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        config = new.analytics
        self._landing.reset()  # the redaction policy may have changed too
        if self.processor is not None:
            self.processor.config = config
            if self.processor.on:
                self._switch_span_hooks()
        if self.events is not None:
            self.events.tracking_id = config.tracking_id
        if self.scheduled is not None:
            self.scheduled.reconfigure(config.schedules)
        if self.core is not None and old.analytics.pseudonym_key != config.pseudonym_key:
            self.flush_now()  # rotation: rows so far keep the old pseudonyms
            self.core = self._engine(config)
        elif self.core is not None:
            self.core.reconfigure(config)
            if config.release != old.analytics.release and (config.release or self._service_version):
                self.core.release(config.release or self._service_version)
        self.config = config

    def _switch_span_hooks(self) -> None:
        if self._consent_hook is not None and self.processor is not None:
            self._hooks.switch(self._consent_hook, self.processor.config.consent != "not_required")
            end = self._end_hook()
            if end != self._span_hook:
                if self._span_hook is not None:
                    self._hooks.switch(self._span_hook, False)
                self._span_hook = end
                self._hooks.switch(end, True)

    def _end_hook(self) -> SpanHook:
        """The end hook for the current settings. Without a consent check, the dispatcher calls it only
        for server spans carrying a user attribute (its own first check); with one, for every server
        span, whose consent entry it removes."""
        assert self.processor is not None
        config = self.processor.config
        users = None if config.consent != "not_required" else frozenset(config.user_attributes)
        return SpanHook("analytics", on_end=self.processor.end, server_only=True, any_attribute=users)

    def after_fork(self) -> None:
        self._queue.clear()
        self.replica = uuid.uuid4().hex[:16]
        self._work = threading.Lock()
        if self.core is not None and self.config is not None:
            self.core = self._engine(self.config)  # the parent's rows are the parent's to flush
        if self._thread is not None:
            self._thread = None
            self.start()

    # -- intake -----------------------------------------------------------------------------------

    def submit(self, kind: str, args: tuple[Any, ...], consent: bool | None) -> bool:
        """Queue one call (O(1), never blocks), timed now; False when switched off or the buffer is full."""
        if not self.accepting or self.config is None or self._clock is None:
            return False
        if len(self._queue) >= self.config.event_buffer_size:
            SELF_TELEMETRY.count_drop("analytics.buffer")
            return False
        self._queue.append((kind, args, consent, self._clock()))
        if len(self._queue) >= self.config.event_buffer_size // 2:
            self._wake.set()
        return True

    def process(self) -> int:
        """Feed every queued call to the engine and emit its events; returns how many."""
        core, events = self.core, self.events
        if core is None or events is None:
            return 0
        done = 0
        with self._work:
            while self._queue:
                kind, args, consent, at = self._queue.popleft()
                self._apply(core, events, kind, args, consent, at)
                done += 1
        return done

    def _apply(
        self,
        core: AnalyticsCore,
        events: AnalyticsEvents,
        kind: str,
        args: tuple[Any, ...],
        consent: bool | None,
        at: float,
    ) -> None:
        landed = self._landing.call(kind, args)
        if landed is None:
            SELF_TELEMETRY.count_drop("analytics.redaction")
            return
        args = landed
        if kind == "track":
            user, action, properties, session, feature = args
            tracked = core.track(user, action, properties, at=at, consent=consent, session_id=session, feature=feature)
            if tracked is not None:
                events.action(tracked)
        elif kind == "identify":
            user = core.identify(*args, at=at)
            if user is not None:
                events.identity(IDENTIFY_EVENT, at, user, {})
        elif kind == "group":
            user = core.group(*args, at=at)
            if user is not None:
                events.identity(GROUP_EVENT, at, user, {"ricecoder.analytics.account.id": str(args[1])})
        elif kind == "alias" and core.alias(*args):
            previous = core.pseudonymise(str(args[0]))
            events.identity(
                ALIAS_EVENT, at, core.pseudonymise(str(args[1])), {"ricecoder.analytics.previous_id": previous}
            )

    # -- the store --------------------------------------------------------------------------------

    def flush_now(self) -> bool:
        """Process the queue and write what the engine gathered to the store; False if the store failed."""
        self.process()
        core = self.core
        if core is None:
            return True
        with self._work:
            data = core.drain()
            if data.empty():
                return True
            try:
                self.analytics_store().write(data, core.clock())
            except Exception as error:  # the rows go back and the next flush retries them
                core.restore(data)
                SELF_TELEMETRY.count_error("analytics.store")
                report_once("analytics", "could not write analytics to the store: %s", type(error).__name__)
                return False
            self.flushes += 1
        return True

    def analytics_store(self) -> AnalyticsStore:
        if self._store is None:
            self._store = AnalyticsStore(_default_store(), self.replica)
        self._store.replica = self.replica
        return self._store

    def dataset(self, until_day: int) -> Dataset:
        """The store's rows (every replica's) plus what this process has not flushed yet."""
        assert self.core is not None and self.config is not None
        self.process()
        margin = max((f.window.total_seconds() for f in self.config.funnels.values()), default=0.0)
        data = self.analytics_store().read(
            until_day, lg_k=self.config.sketch_lg_k, sketch_days=self.config.keep_days, step_margin_s=margin
        )
        data.merge(self.core.snapshot())
        return data

    def report(self, kind: str, *, since: float | None = None, until: float | None = None, **options: Any) -> Report:
        assert self.core is not None and self.config is not None
        end = self.core.clock() if until is None else until
        start = end - 29 * 86_400 if since is None else since
        return build(kind, self.dataset(day_of(end)), self.config, day_of(start), day_of(end), **options)

    def _run(self, stop: threading.Event) -> None:
        next_flush = time.monotonic() + self._interval()
        while not stop.is_set():
            self._wake.wait(PROCESS_EVERY_S)
            self._wake.clear()
            try:
                self.process()
                if self.scheduled is not None:
                    self.scheduled.run_due()
                if time.monotonic() >= next_flush:
                    next_flush = time.monotonic() + self._interval()
                    self.flush_now()
            except Exception as error:  # one bad batch must not end the loop
                SELF_TELEMETRY.count_error("analytics")
                report_once("analytics", "processing failed: %s", type(error).__name__)

    def _interval(self) -> float:
        return self.config.flush_interval.total_seconds() if self.config is not None else 300.0


def _default_store() -> Store:
    """The process-wide store the pipeline configured (opened on first use, on the worker)."""
    from ricecoder_otel.store import get_default_store

    return get_default_store()
