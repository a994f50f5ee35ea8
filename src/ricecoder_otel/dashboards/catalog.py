"""What dashboards know in advance: the distribution's metrics (from :mod:`ricecoder_otel.kernel.names`)
and the hub's event names. A dashboard may query any other metric too (the application's own);
``dashboard check`` only warns about names it does not know.
"""

from __future__ import annotations

from ricecoder_otel.kernel.events import AlertTransition, AnomalyEpisode, ConfigChanged
from ricecoder_otel.kernel.names import KNOWN_METRICS, REQUEST_DURATION, SERVER_ERRORS, KnownMetric

__all__ = ["KNOWN_EVENTS", "KNOWN_METRICS", "REQUEST_DURATION", "SERVER_ERRORS", "KnownMetric"]

KNOWN_EVENTS: tuple[str, ...] = (AnomalyEpisode.event_name, AlertTransition.event_name, ConfigChanged.event_name)
"""Event names published on the hub and stored as log records (events panels list them)."""
