"""The SDK side of analytics: events as log records, and activity captured from server spans.

Each accepted action becomes a log record with the event name ``ricecoder.analytics.action``
and semantic-convention attributes where they exist (``user.id`` carrying the pseudonym,
``session.id``); a new session also emits ``session.start`` (semantic conventions: it MUST be
emitted when a session is created). The records go through the pipeline's LoggerProvider, so
the redaction policy and every log exporter (store, OTLP) see them.

:class:`ServerSpanActivity` turns a finished SERVER span whose attributes carry a user
(``analytics.user_attributes``: ``user.id``, ``enduser.id`` by default) into activity on the
feature its ``http.route`` maps to (``analytics.features``), with no code in the service.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opentelemetry import baggage
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span

from ricecoder_otel._version import __version__
from ricecoder_otel.analytics.engine import Tracked
from ricecoder_otel.analytics.privacy import has_consent
from ricecoder_otel.kernel.span_hooks import span_attributes

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider

    from ricecoder_otel.config.model import AnalyticsConfig

ACTION_EVENT = "ricecoder.analytics.action"
SESSION_START_EVENT = "session.start"
IDENTIFY_EVENT = "ricecoder.analytics.identify"
ALIAS_EVENT = "ricecoder.analytics.alias"
GROUP_EVENT = "ricecoder.analytics.group"
PROPERTY_PREFIX = "ricecoder.analytics.property."
MAX_CONSENT_SPANS = 10_000


class AnalyticsEvents:
    """Emits analytics events as log records (on the analytics worker, never the caller)."""

    def __init__(self, logger_provider: LoggerProvider, tracking_id: str | None) -> None:
        self._logger = logger_provider.get_logger("ricecoder_otel.analytics", __version__)
        self.tracking_id = tracking_id

    def _emit(self, name: str, at: float, body: str, attributes: dict[str, Any]) -> None:
        if self.tracking_id:
            attributes["ricecoder.analytics.tracking_id"] = self.tracking_id
        self._logger.emit(
            timestamp=int(at * 1e9),
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body=body,
            attributes=attributes,
            event_name=name,
        )

    def action(self, tracked: Tracked) -> None:
        attributes: dict[str, Any] = {"ricecoder.analytics.action": tracked.action}
        if tracked.feature:
            attributes["ricecoder.analytics.feature"] = tracked.feature
        if tracked.user is not None:
            attributes["user.id"] = tracked.user
        if tracked.session is not None:
            attributes["session.id"] = tracked.session
            if tracked.new_session:
                self._emit(SESSION_START_EVENT, tracked.at, SESSION_START_EVENT, {"session.id": tracked.session})
        for key, value in tracked.properties.items():
            attributes[PROPERTY_PREFIX + key] = value
        self._emit(ACTION_EVENT, tracked.at, tracked.action, attributes)

    def identity(self, name: str, at: float, user: str, extra: dict[str, Any]) -> None:
        self._emit(name, at, name, {"user.id": user, **extra})


Submit = Callable[[str, tuple[Any, ...], bool | None], bool]


class ServerSpanActivity:
    """A SERVER span with a user counts as activity on its route's feature.

    ``start`` and ``end`` are span hooks for SERVER spans only (the kernel's dispatcher calls
    them for no other kind and contains their failures). Most requests carry no user: ``end``
    leaves after one dictionary lookup per user attribute, with the settings it reads copied
    out of the configuration when it changes.
    """

    def __init__(self, submit: Submit, config: AnalyticsConfig) -> None:
        self.submit = submit
        self.on = False
        self._consent: OrderedDict[int, bool] = OrderedDict()
        self.config = config

    @property
    def config(self) -> AnalyticsConfig:
        return self._config

    @config.setter
    def config(self, config: AnalyticsConfig) -> None:
        self._config = config
        self._user_keys = tuple(config.user_attributes)
        self._user_key_set = frozenset(self._user_keys)
        self._check_consent = config.consent != "not_required"
        self._consent_key = config.consent_baggage_key
        self._features = config.features

    def start(self, span: Span, parent_context: Context | None = None) -> None:
        """Consent comes from the request's baggage, which is current only while the span starts."""
        if not self.on or not self._check_consent:
            return
        value = baggage.get_baggage(self._consent_key, parent_context)
        self._consent[span.context.span_id] = has_consent(str(value) if value is not None else None)
        if len(self._consent) > MAX_CONSENT_SPANS:
            self._consent.popitem(last=False)  # a span that never ended

    def end(self, span: ReadableSpan) -> None:
        consent = None
        if self._consent and span.context is not None:  # entries exist only when consent is checked
            consent = self._consent.pop(span.context.span_id, None)
        if not self.on:
            return
        attributes = span_attributes(span)
        if self._user_key_set.isdisjoint(attributes):  # most spans name no user: one check in C
            return
        user = None
        for key in self._user_keys:
            value = attributes.get(key)
            if value is not None:
                user = _single(value)
                if user:
                    break
        if not user:
            return
        route = attributes.get("http.route")
        feature = self._features.get(str(route), "") if route is not None else ""
        action = f"request {route}" if route is not None else "request"
        self.submit("track", (user, action, None, attributes.get("session.id"), feature), consent)


def _single(value: Any) -> Any:
    """An attribute's value; a captured header is a sequence of its values: the first one counts."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value
