"""The optional Sentry bridge (``pip install 'ricecoder-otel[sentry]'``, ``error_tracking.dsn``).

Each counted error is sent through sentry-sdk with our fingerprint (so Sentry's issues match our
groups), the OpenTelemetry trace and span ids, ``environment``, ``release`` and ``sample_rate``.

How it joins sentry-sdk 2.x: a private ``sentry_sdk.Client`` (the application's own Sentry
setup, if any, is left alone), with no default integrations (we already capture uncaught
exceptions and error logs; Sentry's own hooks would send them twice), and the trace link made
the way sentry-sdk's ``OTLPIntegration`` makes it: ``register_external_propagation_context``,
which sentry-sdk consults for every event's trace context. We do not enable ``OTLPIntegration``
itself: it adds a span exporter to Sentry to the tracer provider, replaces the global
propagator and patches ``Span.record_exception``, and our spans must keep flowing only to the
user's exporters. Our callback returns the ids of the error being sent (the worker sends
errors after the request is over) and otherwise the current span's, as ``OTLPIntegration``'s does.

``before_send`` runs :attr:`SentryBridge.before_send` hooks in order (compliance redaction plugs in
here); a hook that returns None drops the event, one that raises drops it too (an event that
could not be redacted is not sent) and is counted.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sentry_sdk
from sentry_sdk.scope import register_external_propagation_context

from ricecoder_otel.errors.engine import Outcome, short_type
from ricecoder_otel.errors.sources import current_ids
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

SentryEvent = dict[str, Any]
BeforeSend = Callable[[SentryEvent, dict[str, Any]], SentryEvent | None]

_LEVEL = {"debug": "debug", "info": "info", "warning": "warning", "error": "error", "critical": "fatal"}
_sending: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("ricecoder_sentry_ids", default=None)


def _propagation_context() -> tuple[str, str] | None:
    """Trace and span ids for the event sentry-sdk is building: the error's own, else the current span's."""
    ids = _sending.get()
    if ids is not None:
        return ids
    trace_id, span_id = current_ids()
    return (trace_id, span_id) if trace_id and span_id else None


def sentry_event(outcome: Outcome) -> SentryEvent:
    """The Sentry event for one counted error (exception interface, frames outermost first)."""
    occurrence, group = outcome.occurrence, outcome.group
    module, _, _ = occurrence.error_type.rpartition(".")
    frames = [
        {"filename": f.module_path, "abs_path": f.filename, "function": f.function, "lineno": f.lineno,
         "in_app": f.in_app}
        for f in outcome.grouping.frames
    ]  # fmt: skip
    exception: dict[str, Any] = {
        "type": short_type(occurrence.error_type),
        "value": occurrence.message,
        "mechanism": {"type": f"ricecoder.{occurrence.source}", "handled": occurrence.source in ("api", "log")},
    }
    if module:
        exception["module"] = module
    if frames:
        exception["stacktrace"] = {"frames": frames}
    event: SentryEvent = {
        "event_id": occurrence.event_id.replace("-", ""),
        "timestamp": datetime.fromtimestamp(occurrence.timestamp, UTC),
        "level": _LEVEL.get(occurrence.severity, "error"),
        "platform": "python",
        "exception": {"values": [exception]},
        "fingerprint": list(group.fingerprint),
        "tags": {"ricecoder.error.group_id": group.id, "ricecoder.error.source": occurrence.source},
        "extra": dict(occurrence.context),
    }
    if occurrence.user_id:
        event["user"] = {"id": occurrence.user_id}
    if occurrence.session_id:
        event["tags"]["session.id"] = occurrence.session_id
    return event


class SentryBridge:
    """A sink of the error worker that sends each counted error to Sentry."""

    def __init__(
        self,
        dsn: str,
        *,
        environment: str | None = None,
        release: str | None = None,
        sample_rate: float = 1.0,
        transport: Any = None,
    ) -> None:
        self.before_send: list[BeforeSend] = []
        options: dict[str, Any] = {
            "dsn": dsn,
            "environment": environment,
            "release": release,
            "sample_rate": sample_rate,
            "before_send": self._before_send,
            "default_integrations": False,
            "auto_enabling_integrations": False,
            "integrations": [],
            "send_default_pii": False,
            "max_breadcrumbs": 0,
            "shutdown_timeout": 2,
            # A burst of errors (a failing route under load) must not overflow Sentry's default 100-event
            # queue: the bridge runs on our worker, not the request thread, so a deeper queue costs nothing.
            "transport_queue_size": 1000,
        }
        if transport is not None:
            options["transport"] = transport
        self.client = sentry_sdk.Client(**options)
        register_external_propagation_context(_propagation_context)

    def __call__(self, outcome: Outcome) -> None:
        occurrence = outcome.occurrence
        ids = (occurrence.trace_id, occurrence.span_id) if occurrence.trace_id and occurrence.span_id else None
        token = _sending.set(ids)
        try:
            event: Any = sentry_event(outcome)  # sentry-sdk's Event is a TypedDict of the same shape
            self.client.capture_event(event, hint={}, scope=sentry_sdk.Scope())
        finally:
            _sending.reset(token)

    def _before_send(self, event: SentryEvent, hint: dict[str, Any]) -> SentryEvent | None:
        current = event
        for hook in list(self.before_send):
            try:
                result = hook(current, hint)
            except Exception as error:
                SELF_TELEMETRY.count_error("errors.sentry.before_send")
                report_once(
                    "errors", "a Sentry before_send hook raised %s; the event was not sent", type(error).__name__
                )
                return None
            if result is None:
                return None
            current = result
        return current

    def flush(self, timeout: float = 2.0) -> None:
        self.client.flush(timeout=timeout)

    def close(self, timeout: float = 2.0) -> None:
        self.client.close(timeout=timeout)
