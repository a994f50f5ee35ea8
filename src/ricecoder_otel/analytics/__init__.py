"""Usage analytics: actions, identities, sessions, adoption, retention, funnels, engagement, segments.

Public names load on first use, so importing the engine does not pull in the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ricecoder_otel.analytics.api import AnalyticsEngine

__all__ = ["AnalyticsEngine"]


def __getattr__(name: str) -> Any:
    if name == "AnalyticsEngine":
        from ricecoder_otel.analytics.api import AnalyticsEngine

        return AnalyticsEngine
    raise AttributeError(f"module 'ricecoder_otel.analytics' has no attribute {name!r}")
