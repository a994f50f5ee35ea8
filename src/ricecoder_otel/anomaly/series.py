"""Per-series detector options: rules that pick series by metric name and attribute values.

A series key is ``name`` or ``name{k=v,...}`` (attributes sorted, as the feed builds it). A
rule names one metric and optional attribute patterns (shell-style wildcards, ``/api/*``);
the first rule that matches a series sets its options on top of the monitor's defaults. Pure
Python, no OpenTelemetry: the capability builds rules from ``anomaly.series`` in the config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from ricecoder_otel.anomaly.options import DetectorOptions

# A comma starts a new attribute only when a ``key=`` follows, so values may contain commas.
_ATTRIBUTE_SPLIT = re.compile(r",(?=[A-Za-z0-9_.\-]+=)")


def split_key(key: str) -> tuple[str, dict[str, str]]:
    """``name{k=v,...}`` -> (name, {k: v}); the inverse of the feed's series keys."""
    name, brace, rest = key.partition("{")
    if not brace or not rest.endswith("}"):
        return key, {}
    attributes: dict[str, str] = {}
    for item in _ATTRIBUTE_SPLIT.split(rest[:-1]):
        k, _, v = item.partition("=")
        attributes[k] = v
    return name, attributes


@dataclass(frozen=True, slots=True)
class SeriesRule:
    """Options for the series of ``metric`` whose attributes match every pattern in ``match``.

    ``sensitivity`` multiplies every piece of evidence the threshold judges (2.0 alarms on a
    spike, a level shift's CUSUM, a spread ratio or a trend drift half as large; stuck values
    are judged by run probability and are not affected); ``seasonal`` and ``transform`` replace
    the defaults when not None (``transform`` as in :class:`DetectorOptions`: ``none``, ``log``
    or ``count``).
    """

    metric: str
    match: tuple[tuple[str, str], ...] = ()
    sensitivity: float = 1.0
    seasonal: bool | None = None
    transform: str | None = None

    def __post_init__(self) -> None:
        if not self.sensitivity > 0:
            raise ValueError(f"sensitivity: must be > 0, got {self.sensitivity!r}")

    def matches(self, name: str, attributes: Mapping[str, str]) -> bool:
        if name != self.metric:
            return False
        for key, pattern in self.match:
            value = attributes.get(key)
            if value is None or not fnmatchcase(value, pattern):
                return False
        return True

    def apply(self, base: DetectorOptions) -> DetectorOptions:
        """``base`` with this rule's options (validated again by DetectorOptions)."""
        s = self.sensitivity
        return replace(
            base,
            threshold=base.threshold / s,
            cusum_h=base.cusum_h / s,
            variance_ratio=1.0 + (base.variance_ratio - 1.0) / s,
            trend_sigmas=base.trend_sigmas / s,
            seasonal=base.seasonal if self.seasonal is None else self.seasonal,
            transform=base.transform if self.transform is None else self.transform,
        )


def options_for(key: str, base: DetectorOptions, rules: Sequence[SeriesRule]) -> DetectorOptions:
    """The options of series ``key``: the first matching rule applied to ``base``, else ``base``."""
    if not rules:
        return base
    name, attributes = split_key(key)
    for rule in rules:
        if rule.matches(name, attributes):
            return rule.apply(base)
    return base
