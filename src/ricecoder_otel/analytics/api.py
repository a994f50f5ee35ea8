"""The seed's explicit API: ``AnalyticsEngine(config).start()``, ``track_action(user_id, action, properties)``,
``identify``, ``alias``, ``group``, ``report(...)`` and ``shutdown()``.

A facade over the running analytics capability (``opentelemetry-instrument`` or
:func:`ricecoder_otel.configure`). Calls are O(1) and never raise: consent is read from the
caller's baggage, then the call is queued for the capability's worker. Without a running
pipeline, or with ``analytics.enabled: false``, calls return False and are counted as dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import baggage

from ricecoder_otel.analytics.privacy import has_consent
from ricecoder_otel.kernel.guard import report_once, shielded
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

if TYPE_CHECKING:
    from ricecoder_otel.analytics.capability import AnalyticsCapability
    from ricecoder_otel.analytics.reports import Report

_lock = threading.Lock()
_active: AnalyticsCapability | None = None


def bind(capability: AnalyticsCapability) -> None:
    global _active
    with _lock:
        _active = capability


def unbind(capability: AnalyticsCapability) -> None:
    global _active
    with _lock:
        if _active is capability:
            _active = None


def active() -> AnalyticsCapability | None:
    return _active


class AnalyticsEngine:
    """Usage analytics for the running pipeline; ``config`` is accepted for the seed's signature
    (the pipeline's ``analytics`` section is what counts)."""

    def __init__(self, config: object = None) -> None:
        self.config = config

    def start(self) -> AnalyticsEngine:
        if _active is None:
            report_once(
                "analytics",
                "AnalyticsEngine.start(): no running pipeline with analytics enabled; "
                "calls are dropped (use opentelemetry-instrument or ricecoder_otel.configure())",
            )
        return self

    def _submit(self, kind: str, args: tuple[Any, ...], consent: bool | None = None) -> bool:
        capability = _active
        if capability is None:
            SELF_TELEMETRY.count_drop("analytics.inactive")
            return False
        return capability.submit(kind, args, consent)

    @shielded("analytics", False)
    def track_action(self, user_id: str | None, action: str, properties: Mapping[str, Any] | None = None) -> bool:
        """Count ``action`` by ``user_id`` (None: anonymous) now; True when queued."""
        capability = _active
        consent = None
        if capability is not None and capability.config is not None and capability.config.consent != "not_required":
            value = baggage.get_baggage(capability.config.consent_baggage_key)
            consent = has_consent(str(value) if value is not None else None)
        return self._submit("track", (user_id, action, properties, None, None), consent)

    @shielded("analytics", False)
    def identify(self, user_id: str, traits: Mapping[str, Any] | None = None) -> bool:
        return self._submit("identify", (user_id, traits))

    @shielded("analytics", False)
    def alias(self, anonymous_id: str, user_id: str) -> bool:
        """Join what ``anonymous_id`` did (before login) to ``user_id``."""
        return self._submit("alias", (anonymous_id, user_id))

    @shielded("analytics", False)
    def group(self, user_id: str, account_id: str, traits: Mapping[str, Any] | None = None) -> bool:
        return self._submit("group", (user_id, account_id, traits))

    def report(self, kind: str, *, since: float | None = None, until: float | None = None, **options: Any) -> Report:
        """A report over the store and what is not flushed yet (``ValueError`` for a bad kind or option)."""
        capability = _active
        if capability is None:
            raise RuntimeError("no running pipeline with analytics enabled")
        return capability.report(kind, since=since, until=until, **options)

    def flush(self) -> bool:
        capability = _active
        return capability.flush_now() if capability is not None else False

    def shutdown(self) -> None:
        """Write what is gathered to the store (the pipeline itself shuts down at exit)."""
        self.flush()
