"""RED (rate, errors, duration) facts about one finished server request.

Pure functions over plain values so the rules (which attributes, which status
class, what counts as an error) are testable without the SDK. The span
processor in :mod:`ricecoder_otel.metrics.red_processor` feeds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Stable HTTP semantic conventions first, the older names as a fallback for
# instrumentations that still emit them.
_METHOD_KEYS = ("http.request.method", "http.method")
_STATUS_KEYS = ("http.response.status_code", "http.status_code")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})

DEFAULT_DURATION_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)


@dataclass(frozen=True, slots=True)
class RedSeries:
    """The series one server request counts in, and whether it counts as an error."""

    attributes: dict[str, str | int]
    is_error: bool


def _first(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value is not None:
            return value
    return None


def status_class(status_code: int | None) -> str:
    """``503 -> "5xx"``; unknown or missing codes give ``"unknown"``."""
    if status_code is None or not 100 <= status_code <= 599:
        return "unknown"
    return f"{status_code // 100}xx"


def red_series(span_name: str, attributes: Mapping[str, Any], status_is_error: bool) -> RedSeries:
    """Derive the RED series of a server span.

    The route falls back to the span name rather than the raw path: raw paths
    carry ids and would explode cardinality. Methods outside the HTTP set map to
    ``_OTHER`` as the semantic conventions require.
    """
    method = str(_first(attributes, _METHOD_KEYS) or "_OTHER").upper()
    if method not in _KNOWN_METHODS:
        method = "_OTHER"
    raw_status = _first(attributes, _STATUS_KEYS)
    try:
        status = int(raw_status) if raw_status is not None else None
    except (TypeError, ValueError):
        status = None
    route = attributes.get("http.route") or span_name
    is_error = status_is_error or (status is not None and status >= 500)
    result: dict[str, str | int] = {
        "http.route": str(route),
        "http.request.method": method,
        "http.response.status_class": status_class(status),
    }
    if status is not None:
        result["http.response.status_code"] = status
    if is_error:
        result["error.type"] = str(status) if status is not None and status >= 500 else "_OTHER"
    return RedSeries(attributes=result, is_error=is_error)
