"""Per-metric cardinality limits with an overflow series.

A label set that would push a metric past its limit is folded into one overflow
series (``otel.metric.overflow=true``, the name the OpenTelemetry specification
uses), so an unbounded label such as a user id cannot exhaust memory in the SDK
or in Prometheus. The first overflow of each metric is reported once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

Attributes = Mapping[str, str | bool | int | float]

OVERFLOW_ATTRIBUTES: Attributes = MappingProxyType({"otel.metric.overflow": True})


class CardinalityLimiter:
    """Admits at most ``limit`` distinct attribute sets per metric name.

    ``admit`` is O(1) in the number of series (O(k) in the k attributes of the call): a
    frozenset lookup in the common case, and a short lock only when a new series is first seen.
    Admitting an already admitted attribute set again, or the overflow set itself, is harmless,
    so two layers (``MetricsCollector`` and the limited meter provider) may both admit.
    """

    def __init__(self, limit: int, on_first_overflow: Callable[[str, int], None] | None = None) -> None:
        if limit < 1:
            raise ValueError(f"cardinality limit must be at least 1, got {limit}")
        self._limit = limit
        self._series: dict[str, set[frozenset[tuple[str, object]]]] = {}
        self._overflowed: set[str] = set()
        self._lock = threading.Lock()
        self._on_first_overflow = on_first_overflow
        self.overflow_count = 0

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        """Change the limit at runtime; series already admitted stay admitted."""
        if limit < 1:
            raise ValueError(f"cardinality limit must be at least 1, got {limit}")
        self._limit = limit

    def admit(self, metric: str, attributes: Mapping[str, Any] | None) -> Attributes:
        """Return ``attributes`` if the series fits under the limit, else the overflow set.

        Never raises: an attribute set that cannot be keyed goes to the overflow series.
        """
        if attributes is OVERFLOW_ATTRIBUTES:
            return OVERFLOW_ATTRIBUTES
        key: frozenset[tuple[str, object]] | None
        try:
            key = frozenset(attributes.items()) if attributes else frozenset()
        except TypeError:  # an unhashable value, e.g. a list: key it by a hashable copy
            key = _hashable_key(attributes)
        if key is None:
            return OVERFLOW_ATTRIBUTES
        known = self._series.get(metric)
        if known is not None and key in known:
            return attributes or {}
        with self._lock:
            known = self._series.setdefault(metric, set())
            if key in known:
                return attributes or {}
            if len(known) < self._limit:
                known.add(key)
                return attributes or {}
            self.overflow_count += 1
            first = metric not in self._overflowed
            self._overflowed.add(metric)
        if first and self._on_first_overflow is not None:
            self._on_first_overflow(metric, self._limit)
        return OVERFLOW_ATTRIBUTES

    def series_count(self, metric: str) -> int:
        return len(self._series.get(metric, ()))


def _hashable(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, Mapping):
        return frozenset((key, _hashable(item)) for key, item in value.items())
    return value


def _hashable_key(attributes: Mapping[str, Any] | None) -> frozenset[tuple[str, object]] | None:
    try:
        return frozenset((key, _hashable(value)) for key, value in (attributes or {}).items())
    except Exception:
        return None
