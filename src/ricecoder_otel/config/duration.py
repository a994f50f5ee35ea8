"""Human durations for configuration: ``500ms``, ``5s``, ``5m``, ``2h``, ``7d`` or ``1h30m``.

Config files are written by people, so durations are strings with units; plain numbers mean
seconds. Values become :class:`datetime.timedelta` and serialise back to the shortest string.
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


class DurationMarker:
    """Marks an annotated field as a duration (the reference generator looks for it)."""

    def __init__(self, positive: bool) -> None:
        self.positive = positive


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raise ``ValueError`` for negative or malformed input."""
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, bool):
        raise ValueError(DURATION_EXAMPLE)
    elif isinstance(value, int | float):
        if not math.isfinite(value):
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
    if result < timedelta(0):
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


def _validate(value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError:
        raise PydanticCustomError("duration", DURATION_EXAMPLE) from None


def _validate_positive(value: Any) -> timedelta:
    result = _validate(value)
    if result <= timedelta(0):
        raise PydanticCustomError("positive_duration", POSITIVE_DURATION_EXAMPLE)
    return result


_serialize = PlainSerializer(format_duration, return_type=str, when_used="json")

Duration = Annotated[timedelta, BeforeValidator(_validate), _serialize, DurationMarker(positive=False)]
"""A duration of zero or more; ``0s`` is allowed (for example "fire immediately")."""

PositiveDuration = Annotated[timedelta, BeforeValidator(_validate_positive), _serialize, DurationMarker(positive=True)]
"""A duration that must be greater than zero (intervals, ages)."""
