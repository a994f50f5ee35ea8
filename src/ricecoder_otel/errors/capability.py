"""Error tracking as a capability (section ``error_tracking``).

Installs the span and log processors (registry order: after alerting, before the exporting
processors), and on start the uncaught-exception hooks, the intake's worker and, with a DSN,
the Sentry bridge. The worker groups errors (:mod:`~ricecoder_otel.errors.engine`), writes the
groups to the store, emits each error as a log record and a metric point, and publishes
:class:`~ricecoder_otel.kernel.events.ErrorGroupEvent` for new groups, regressions and spikes.
Stopping restores the previous hooks, processes what is queued and joins the worker; the
engine keeps its groups, so switching back on resumes where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ricecoder_otel.errors import tracker
from ricecoder_otel.errors.engine import ErrorEngine, Occurrence, Outcome
from ricecoder_otel.errors.intake import ErrorIntake, RawError
from ricecoder_otel.errors.otel import ErrorTelemetry
from ricecoder_otel.errors.service import ErrorService
from ricecoder_otel.errors.sources import ErrorLogProcessor, ErrorSpanProcessor, UncaughtHooks
from ricecoder_otel.errors.store import ErrorStore
from ricecoder_otel.kernel.capability import Capability, Clock, InstallContext, PayloadFilter, filter_payload
from ricecoder_otel.kernel.events import ErrorGroupEvent, EventHub
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import ErrorTrackingConfig
    from ricecoder_otel.errors.sentry import BeforeSend, SentryBridge

STOP_TIMEOUT_S = 5.0


def group_event(kind: str, outcome: Outcome) -> ErrorGroupEvent:
    group = outcome.group
    return ErrorGroupEvent(
        at=outcome.occurrence.timestamp,
        kind=kind,  # type: ignore[arg-type]  # one of the three the service passes
        group_id=group.id,
        error_type=group.error_type,
        title=group.title,
        culprit=group.culprit,
        count=group.count,
        window_count=group.window_count,
        first_seen=group.first_seen,
        release=group.release,
        environment=group.environment,
        trace_id=outcome.occurrence.trace_id,
    )


def _sentry_bridge(section: ErrorTrackingConfig) -> SentryBridge | None:
    if section.dsn is None:
        return None
    try:
        from ricecoder_otel.errors.sentry import SentryBridge
    except ImportError:
        report_once(
            "errors",
            "error_tracking.dsn is set but sentry-sdk is not installed: "
            "pip install 'ricecoder-otel[sentry]'; errors are tracked without Sentry",
        )
        return None
    try:
        return SentryBridge(
            section.dsn.get_secret_value(), environment=section.environment, release=section.release,
            sample_rate=section.sample_rate,
        )  # fmt: skip
    except Exception as error:  # sentry-sdk rejects a malformed DSN; its text may hold the key
        report_once(
            "errors",
            "error_tracking.dsn was rejected by sentry-sdk (%s); errors are tracked without Sentry",
            type(error).__name__,
        )
        return None


class ErrorsCapability(Capability):
    name = "error_tracking"
    section = "error_tracking"

    def __init__(self) -> None:
        self.engine: ErrorEngine | None = None
        self.service: ErrorService | None = None
        self.intake: ErrorIntake | None = None
        self.spans: ErrorSpanProcessor | None = None
        self.logs: ErrorLogProcessor | None = None
        self.hooks: UncaughtHooks | None = None
        self.telemetry: ErrorTelemetry | None = None
        self.sentry: SentryBridge | None = None
        self.before_send: list[BeforeSend] = []
        """Hooks every Sentry event passes through (redaction); a live list, read on each send."""
        self._hub: EventHub | None = None
        self._hooks = SpanHooks()
        self._span_hook: SpanHook | None = None
        self._clock: Clock | None = None
        self._section: ErrorTrackingConfig | None = None

    def install(self, context: InstallContext) -> None:
        section = context.config.error_tracking
        self._hub, self._clock, self._section = context.hub, context.clock, section
        self.engine = self._engine(section)
        self.telemetry = ErrorTelemetry(context.logger_provider, context.meter_provider)
        service_name = context.resource.attributes.get("service.name")
        self.service = ErrorService(
            self.engine,
            store=ErrorStore(context.store),
            sinks=[self.telemetry],
            on_group_event=self._publish,
            service_name=str(service_name) if service_name is not None else None,
            scrub=_scrubber(context.payload_filters),
        )
        self.intake = ErrorIntake(self.service.process)
        self.spans = ErrorSpanProcessor(self.intake.submit)
        self.logs = ErrorLogProcessor(self.intake.submit)
        self.hooks = UncaughtHooks(self.intake.submit, context.clock)
        self._hooks = context.span_hooks
        # Called only for spans with an error status or an event: the hook's own first check.
        self._span_hook = SpanHook("errors.spans", on_end=self.spans.end, failures_only=True)
        context.logger_provider.add_log_record_processor(self.logs)
        # Whatever policy filters outgoing payloads (compliance redaction) sees every Sentry event first.
        filters = context.payload_filters
        self.before_send.insert(0, lambda event, _hint: filter_payload(filters, event))

    def _engine(self, section: ErrorTrackingConfig) -> ErrorEngine:
        assert self._clock is not None
        return ErrorEngine(
            clock=self._clock, release=section.release, environment=section.environment,
            ignore=section.ignore_exceptions,
        )  # fmt: skip

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        assert self.intake is not None and self.spans is not None and self.logs is not None
        assert self.hooks is not None and self._section is not None
        self._connect_sentry(self._section)
        self.intake.start()
        self.spans.on = self.logs.on = True
        if self._span_hook is not None:
            self._hooks.switch(self._span_hook, True)
        self.hooks.install()
        tracker.bind(self)

    def stop(self) -> None:
        tracker.unbind(self)
        if self.hooks is not None:
            self.hooks.restore()
        if self.spans is not None and self.logs is not None:
            self.spans.on = self.logs.on = False
        if self._span_hook is not None:
            self._hooks.switch(self._span_hook, False)
        if self.intake is not None:
            self.intake.stop(STOP_TIMEOUT_S)
        self._disconnect_sentry()

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        section = new.error_tracking
        self._section = section
        if self.engine is not None:
            self.engine.release, self.engine.environment = section.release, section.environment
            self.engine.ignore = frozenset(section.ignore_exceptions)
        if old.error_tracking != section:
            self._disconnect_sentry()
            self._connect_sentry(section)

    def after_fork(self) -> None:
        if self.intake is not None:
            self.intake.after_fork()

    # -- the explicit API -------------------------------------------------------------------------

    def submit(self, raw: RawError) -> bool:
        return self.intake is not None and self.intake.submit(raw)

    def resolve(self, group_id: str, at: float | None = None) -> bool:
        if self.service is None or self._clock is None:
            return False
        return self.service.resolve(group_id, self._clock() if at is None else at)

    def flush(self, timeout: float = 5.0) -> bool:
        done = self.intake is None or self.intake.flush(timeout)
        if self.sentry is not None:
            self.sentry.flush(timeout)
        return done

    # -- parts --------------------------------------------------------------------------------------

    def _connect_sentry(self, section: ErrorTrackingConfig) -> None:
        if self.sentry is not None or self.service is None:
            return
        self.sentry = _sentry_bridge(section)
        if self.sentry is not None:
            self.sentry.before_send = self.before_send
            self.service.sinks = [*self.service.sinks, self.sentry]

    def _disconnect_sentry(self) -> None:
        bridge, self.sentry = self.sentry, None
        if bridge is None:
            return
        if self.service is not None:
            self.service.sinks = [s for s in self.service.sinks if s is not bridge]
        bridge.close()

    def _publish(self, kind: str, outcome: Outcome) -> None:
        if self._hub is not None:
            self._hub.publish(group_event(kind, outcome))


def _scrubber(filters: list[PayloadFilter]) -> Callable[[Occurrence], Occurrence | None]:
    """An occurrence's texts through the outgoing-payload filters (the redaction policy) before it is
    grouped, stored or sent anywhere; None when a filter says it must not be kept."""

    def scrub(occurrence: Occurrence) -> Occurrence | None:
        if not filters:
            return occurrence
        text = {**occurrence.context, "message": occurrence.message, "stack_trace": occurrence.stack_trace}
        filtered = filter_payload(filters, text)
        if filtered is None:
            return None
        context = {key: str(filtered.get(key, "")) for key in occurrence.context}
        return replace(occurrence, message=str(filtered.get("message", "")),
                       stack_trace=str(filtered.get("stack_trace", "")), context=context)  # fmt: skip

    return scrub
