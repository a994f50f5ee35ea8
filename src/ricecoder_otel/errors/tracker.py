"""The seed's explicit API: ``ErrorTracker(config).start()``, ``track_error(ErrorEvent(...))``,
``capture_exception()``.

A facade over the running error-tracking capability: an error tracked here is grouped, stored,
exported and sent to Sentry exactly like one recorded on a span. Calls are O(1) and never
raise: the error is queued for the capability's worker. Without a running pipeline
(``opentelemetry-instrument`` or :func:`ricecoder_otel.configure`), or with
``error_tracking.enabled: false``, calls are counted as dropped and reported once.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ricecoder_otel.errors.intake import RawError
from ricecoder_otel.errors.sources import current_ids
from ricecoder_otel.kernel.guard import report_once, shielded
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import ErrorTrackingConfig
    from ricecoder_otel.errors.capability import ErrorsCapability


class Severity(StrEnum):
    """How bad an error is; maps to the log record's severity (``critical`` is FATAL)."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ErrorEvent:
    """One error, as the seed describes it. ``id`` is a UUID4; ``timestamp`` is timezone-aware."""

    message: str
    error_type: str = "Error"
    stack_trace: str = ""
    user_id: str | None = None
    session_id: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=_now)
    severity: Severity = Severity.ERROR
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    fingerprint: Sequence[str] | None = None
    """Overrides the computed grouping; ``"{{ default }}"`` in it stands for the computed parts."""
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    """The exception itself: its type, message and traceback are read off the caller's thread."""


_lock = threading.Lock()
_active: ErrorsCapability | None = None


def bind(capability: ErrorsCapability | None) -> None:
    """The running capability that the explicit API feeds (set by the capability on start/stop)."""
    global _active
    with _lock:
        _active = capability


def unbind(capability: ErrorsCapability) -> None:
    global _active
    with _lock:
        if _active is capability:
            _active = None


def active() -> ErrorsCapability | None:
    return _active


def _raw(event: ErrorEvent) -> RawError:
    exception = event.exception
    trace_id, span_id = current_ids()
    timestamp = event.timestamp if event.timestamp.tzinfo else event.timestamp.replace(tzinfo=UTC)
    return RawError(
        source="api",
        timestamp=timestamp.timestamp(),
        error_type=None if exception is not None and event.error_type == "Error" else event.error_type,
        message=event.message or None,
        stack_trace=event.stack_trace or None,
        exception=exception,
        severity=Severity(event.severity).value,
        trace_id=trace_id,
        span_id=span_id,
        user_id=event.user_id,
        session_id=event.session_id,
        context=event.context,
        fingerprint=event.fingerprint,
        event_id=event.id,
    )


@shielded("errors.api", False)
def track_error(event: ErrorEvent) -> bool:
    """Queue ``event`` for grouping and export; False when it was dropped (counted)."""
    capability = _active
    if capability is None:
        SELF_TELEMETRY.count_drop("errors")
        report_once(
            "errors",
            "an error was tracked with no error tracking running: call ricecoder_otel.configure() "
            "or run under opentelemetry-instrument (and keep error_tracking.enabled on)",
        )
        return False
    return capability.submit(_raw(event))


def capture_exception(
    exception: BaseException | None = None,
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    context: Mapping[str, Any] | None = None,
    severity: Severity = Severity.ERROR,
    fingerprint: Sequence[str] | None = None,
) -> str | None:
    """Track ``exception`` (default: the one being handled); returns its event id, None if none/dropped."""
    error = exception if exception is not None else sys.exc_info()[1]
    if error is None:
        return None
    event = ErrorEvent(
        message="",
        exception=error,
        user_id=user_id,
        session_id=session_id,
        context=dict(context or {}),
        severity=severity,
        fingerprint=fingerprint,
    )
    return event.id if track_error(event) else None


class ErrorTracker:
    """``ErrorTracker(config).start()``: the seed's component, over the running capability."""

    def __init__(self, config: ErrorTrackingConfig | MonitoringConfig | None = None) -> None:
        section = getattr(config, "error_tracking", config)
        self.enabled = bool(getattr(section, "enabled", True))
        self.started = False

    def start(self) -> ErrorTracker:
        self.started = True
        return self

    def stop(self) -> None:
        self.started = False

    def track_error(self, event: ErrorEvent) -> bool:
        """Queue ``event``; False when this tracker is off or the error was dropped."""
        if not (self.started and self.enabled):
            return False
        return track_error(event)

    def capture_exception(self, exception: BaseException | None = None, **fields: Any) -> str | None:
        if not (self.started and self.enabled):
            return None
        return capture_exception(exception, **fields)

    def resolve(self, group_id: str) -> bool:
        """Mark a group resolved (here and in the store); its next occurrence is a regression."""
        capability = _active
        return capability is not None and capability.resolve(group_id)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every error queued so far is grouped, stored and exported."""
        capability = _active
        return capability is None or capability.flush(timeout)
