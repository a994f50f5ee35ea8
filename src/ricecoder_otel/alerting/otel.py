"""Alert transitions reach OpenTelemetry through the event hub as ``ricecoder.alert`` log records.

See :class:`~ricecoder_otel.kernel.events.AlertTransition` for the attributes.
"""

from ricecoder_otel.kernel.events import AlertTransition

EVENT_NAME = AlertTransition.event_name
