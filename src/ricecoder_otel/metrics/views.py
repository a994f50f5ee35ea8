"""Metric views installed on the MeterProvider.

Framework instrumentations record their own HTTP server duration histograms.
ricecoder derives ``http.server.request.duration`` from server spans for every
framework (see :mod:`ricecoder_otel.metrics.red_processor`), so the
instrumentations' copies are dropped to keep exactly one series per request in
Prometheus and OTLP backends.
"""

from __future__ import annotations

from opentelemetry.sdk.metrics.view import DropAggregation, View

from ricecoder_otel.kernel.names import REQUEST_DURATION

# Meter names of the server instrumentations that record HTTP server durations.
SERVER_INSTRUMENTATION_SCOPES: tuple[str, ...] = (
    "opentelemetry.instrumentation.flask",
    "opentelemetry.instrumentation.wsgi",
    "opentelemetry.instrumentation.asgi",
    "opentelemetry.instrumentation.django",
    "opentelemetry.instrumentation.fastapi",
    "opentelemetry.instrumentation.starlette",
    "opentelemetry.instrumentation.falcon",
    "opentelemetry.instrumentation.pyramid",
    "opentelemetry.instrumentation.tornado",
    "opentelemetry.instrumentation.aiohttp_server",
)
_DUPLICATE_INSTRUMENTS = (REQUEST_DURATION, "http.server.duration")


def default_views() -> list[View]:
    return [
        View(instrument_name=instrument, meter_name=scope, aggregation=DropAggregation())
        for scope in SERVER_INSTRUMENTATION_SCOPES
        for instrument in _DUPLICATE_INSTRUMENTS
    ]
