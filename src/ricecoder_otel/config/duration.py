"""Human durations for configuration: ``500ms``, ``5s``, ``5m``, ``2h``, ``7d`` or ``1h30m``.

Config files are written by people, so durations are strings with units; plain numbers mean
seconds. Values become :class:`datetime.timedelta` and serialise back to the shortest string.

Every duration has an upper bound: ``99999999999w`` would not fit in a ``timedelta``, and ages are
turned into int64 nanoseconds by the store, so no duration may exceed :data:`MAX_DURATION`.
Intervals (how often something runs) are tighter, :data:`MAX_INTERVAL`: a reader thread told to
wait 999999 days dies in the SDK instead of waiting.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

DURATION_EXAMPLE = "expected a duration like 5m"
POSITIVE_DURATION_EXAMPLE = "expected a positive duration like 5m"

MAX_DURATION = timedelta(days=36500)
"""100 years: far beyond any sensible age, well inside int64 nanoseconds (about 292 years)."""

MAX_INTERVAL = timedelta(days=1)
"""Longest interval between two runs of a periodic task (export, evaluation, refresh)."""

_UNITS_MS: dict[str, int] = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}
_DECIMAL = r"\d+(?:\.\d+)?"
_UNIT = "|".join(_UNITS_MS)  # "ms" comes before "m" and "s", so it is tried first
_PART = re.compile(rf"({_DECIMAL})({_UNIT})")
_WHOLE = re.compile(rf"(?:{_DECIMAL}(?:{_UNIT}))+")
_NUMBER = re.compile(_DECIMAL)


class DurationTooLongError(ValueError):
    """The duration is well formed but cannot be represented (beyond ``timedelta``'s range)."""


class DurationMarker:
    """Marks an annotated field as a duration (the reference generator looks for it)."""

    def __init__(self, positive: bool, maximum: timedelta = MAX_DURATION) -> None:
        self.positive = positive
        self.maximum = maximum


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raise ``ValueError`` for negative, malformed or unrepresentable input."""
    try:
        result = _parse(value)
    except OverflowError:  # beyond timedelta's range (about 2.7 million years)
        raise DurationTooLongError(f"expected a duration of at most {format_duration(MAX_DURATION)}") from None
    if result < timedelta(0):
        raise ValueError(DURATION_EXAMPLE)
    return result


def _parse(value: object) -> timedelta:
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, bool):
        raise ValueError(DURATION_EXAMPLE)
    elif isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise ValueError(DURATION_EXAMPLE)
        result = timedelta(seconds=value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if _NUMBER.fullmatch(text):
            result = timedelta(seconds=float(text))
        elif _WHOLE.fullmatch(text):
            millis = sum(float(n) * _UNITS_MS[unit] for n, unit in _PART.findall(text))
            result = timedelta(milliseconds=millis)
        else:
            raise ValueError(DURATION_EXAMPLE)
    else:
        raise ValueError(DURATION_EXAMPLE)
    return result


def format_duration(value: timedelta) -> str:
    """Shortest exact unit string for ``value``: ``timedelta(minutes=90)`` -> ``1h30m``."""
    millis = round(value.total_seconds() * 1000)
    if millis == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s", "ms"):
        size = _UNITS_MS[unit]
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _validator(positive: bool, maximum: timedelta) -> BeforeValidator:
    """One validator per duration type: the bound is part of the message, so it is located."""
    limit = format_duration(maximum)

    def validate(value: Any) -> timedelta:
        try:
            result = parse_duration(value)
        except DurationTooLongError:
            result = timedelta.max
        except ValueError:
            raise PydanticCustomError("duration", DURATION_EXAMPLE) from None
        if positive and result <= timedelta(0):
            raise PydanticCustomError("positive_duration", POSITIVE_DURATION_EXAMPLE)
        if result > maximum:
            raise PydanticCustomError("duration_too_long", "expected a duration of at most {limit}", {"limit": limit})
        return result

    return BeforeValidator(validate)


_serialize = PlainSerializer(format_duration, return_type=str, when_used="json")

Duration = Annotated[timedelta, _validator(False, MAX_DURATION), _serialize, DurationMarker(positive=False)]
"""A duration of zero or more; ``0s`` is allowed (for example "fire immediately")."""

PositiveDuration = Annotated[timedelta, _validator(True, MAX_DURATION), _serialize, DurationMarker(positive=True)]
"""A duration that must be greater than zero (ages, windows, thresholds)."""

Interval = Annotated[
    timedelta,
    _validator(True, MAX_INTERVAL),
    _serialize,
    DurationMarker(positive=True, maximum=MAX_INTERVAL),
]
"""How often a periodic task runs: above zero and at most :data:`MAX_INTERVAL`."""
