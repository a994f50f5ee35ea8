"""Error tracking: grouping, group state in the store, export, and the optional Sentry bridge.

Public names load on first use, so importing the pure engine does not pull in the SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ricecoder_otel.errors.tracker import ErrorEvent, ErrorTracker, Severity, capture_exception, track_error

_LAZY = {
    "ErrorEvent": "ricecoder_otel.errors.tracker",
    "ErrorTracker": "ricecoder_otel.errors.tracker",
    "Severity": "ricecoder_otel.errors.tracker",
    "capture_exception": "ricecoder_otel.errors.tracker",
    "track_error": "ricecoder_otel.errors.tracker",
}

__all__ = ["ErrorEvent", "ErrorTracker", "Severity", "capture_exception", "track_error"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ricecoder_otel.errors' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
