"""Make any Python value exportable as an OpenTelemetry ``AnyValue``: bounded, acyclic, typed.

A log body is not checked by the SDK, so one cyclic, very deep or oddly typed body used to
fail the whole export batch it travelled in. Measured with the OTLP encoder
(``encode_logs``) and protobuf 1.45.1's Python runtime:

* a cycle, or nesting deeper than the interpreter's recursion limit, raises ``RecursionError``;
* a body nested deeper than **32 maps** (about 48 lists) raises ``DecodeError``: protobuf's
  Python runtime (upb) refuses messages nested deeper than 100, and every map level costs three
  (``AnyValue`` -> ``KeyValueList`` -> ``KeyValue``);
* a set, an arbitrary object or an int outside int64 raises too.

:func:`sanitize` returns a value the encoders accept whatever the input, replacing what cannot
be kept by a visible marker: :data:`CYCLE`, :data:`DEPTH_LIMIT`, :data:`TRUNCATED`. Its work is
bounded by :class:`SanitizeLimits` (depth, items per container, values per call, string
length), so it can run on the application's thread. An already exportable value is returned
as the same object, so callers can tell "nothing to do" by identity.

Plain Python: no OpenTelemetry imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from itertools import islice
from typing import Final

CYCLE: Final = "<cycle>"
"""Stands in for a container that contains itself (directly or further down)."""
DEPTH_LIMIT: Final = "<depth limit>"
"""Stands in for a container nested deeper than ``max_depth``."""
TRUNCATED: Final = "<truncated>"
"""Ends a cut string, ends a cut list, or is the key of a cut map (its value: entries left out)."""

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_SCALARS: Final = frozenset({bool, float, type(None)})
_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class SanitizeLimits:
    """Bounds on one sanitised value (a log body, or one attribute value)."""

    max_depth: int = 20
    """Nested containers kept; deeper ones become ``"<depth limit>"``. OTLP-safe up to 32."""
    max_items: int = 1000
    """Entries kept per list or map."""
    max_values: int = 10_000
    """Values (scalars and containers) visited per call; past it, ``"<truncated>"``."""
    max_str_len: int = 65_536
    """Characters (or bytes) kept per string; a cut string ends with ``"<truncated>"``."""

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_items", "max_values", "max_str_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"SanitizeLimits.{name} must be at least 1, got {getattr(self, name)}")


DEFAULT_LIMITS: Final = SanitizeLimits()


def is_plain(value: object, max_str_len: int = DEFAULT_LIMITS.max_str_len) -> bool:
    """True for values every encoder takes as they are: short ``str``, ``bool``, ``float``,
    ``None``, int64 ``int``. O(1); anything else should go through :func:`sanitize`."""
    kind = type(value)
    if kind is str:
        return len(value) <= max_str_len  # type: ignore[arg-type]
    if kind in _SCALARS:
        return True
    return kind is int and INT64_MIN <= value <= INT64_MAX  # type: ignore[operator]


def sanitize(value: object, limits: SanitizeLimits = DEFAULT_LIMITS) -> object:
    """An exportable version of ``value`` (``value`` itself if it already is). Never raises
    ``Exception``: a value that cannot even be converted to text becomes
    ``"<unrepresentable TypeName>"``."""
    return _Walk(limits).value(value, 0)


def safe_str(value: object, max_len: int = DEFAULT_LIMITS.max_str_len) -> str:
    """``str(value)``, cut to ``max_len``; a raising ``__str__``/``__repr__`` gives a placeholder."""
    try:
        text = str(value)
        if type(text) is not str:  # a str subclass from a custom __str__
            text = str.__str__(text)
    except Exception:
        try:
            name = type(value).__name__
        except Exception:
            name = "object"
        return f"<unrepresentable {name}>"
    return text if len(text) <= max_len else text[:max_len] + TRUNCATED


class _Walk:
    """One bounded, depth-first walk: ``budget`` values left, ``path`` = ids of open containers."""

    __slots__ = ("_budget", "_limits", "_path")

    def __init__(self, limits: SanitizeLimits) -> None:
        self._limits = limits
        self._budget = limits.max_values
        self._path: set[int] = set()

    def value(self, value: object, depth: int) -> object:
        self._budget -= 1
        if self._budget < 0:
            return TRUNCATED
        kind = type(value)
        limits = self._limits
        if kind is str:
            text: str = value  # type: ignore[assignment]
            return text if len(text) <= limits.max_str_len else text[: limits.max_str_len] + TRUNCATED
        if kind in _SCALARS:
            return value
        if kind is int:
            return value if INT64_MIN <= value <= INT64_MAX else safe_str(value, limits.max_str_len)  # type: ignore[operator]
        if kind is bytes:
            data: bytes = value  # type: ignore[assignment]
            return data if len(data) <= limits.max_str_len else data[: limits.max_str_len]
        try:
            return self._other(value, depth)
        except Exception:
            return safe_str(value, limits.max_str_len)

    def _other(self, value: object, depth: int) -> object:
        """Subclasses of the scalar types, containers, and everything else (as text)."""
        limits = self._limits
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            number = int(value)
            return number if INT64_MIN <= number <= INT64_MAX else safe_str(number, limits.max_str_len)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return self.value(str.__getitem__(value, slice(None)), depth)  # a plain copy, no overrides
        if isinstance(value, bytearray | memoryview):
            return self.value(bytes(value), depth)
        if isinstance(value, Mapping | Sequence | Set):
            return self._container(value, depth)
        return safe_str(value, limits.max_str_len)

    def _container(self, value: Mapping[object, object] | Sequence[object] | Set[object], depth: int) -> object:
        if depth >= self._limits.max_depth:
            return DEPTH_LIMIT
        key = id(value)
        if key in self._path:
            return CYCLE
        self._path.add(key)
        try:
            if isinstance(value, Mapping):
                return self._mapping(value, depth + 1)
            return self._sequence(value, depth + 1)
        finally:
            self._path.discard(key)

    def _mapping(self, value: Mapping[object, object], depth: int) -> object:
        limits = self._limits
        out: dict[str, object] = {}
        changed = type(value) is not dict
        items = iter(value.items())
        for key, item in islice(items, limits.max_items):
            if self._budget <= 0:
                out[TRUNCATED] = _remaining(value, len(out))
                return out
            text = key if type(key) is str else safe_str(key, limits.max_str_len)
            if len(text) > limits.max_str_len:
                text = text[: limits.max_str_len] + TRUNCATED
            clean = self.value(item, depth)
            if text is not key or clean is not item:
                changed = True
            out[text] = clean
        if next(items, _MISSING) is not _MISSING:
            out[TRUNCATED] = _remaining(value, len(out))
            return out
        return out if changed else value

    def _sequence(self, value: Sequence[object] | Set[object], depth: int) -> object:
        out: list[object] = []
        kind = type(value)
        changed = kind is not list and kind is not tuple
        items = iter(value)
        for item in islice(items, self._limits.max_items):
            if self._budget <= 0:
                out.append(TRUNCATED)
                return out
            clean = self.value(item, depth)
            if clean is not item:
                changed = True
            out.append(clean)
        if next(items, _MISSING) is not _MISSING:
            out.append(TRUNCATED)
            return out
        if not changed:
            return value
        return tuple(out) if kind is tuple else out


def _remaining(value: Mapping[object, object], kept: int) -> int:
    """How many entries of a cut map were left out (-1 if its length is unknown)."""
    try:
        return max(len(value) - kept, 0)
    except Exception:
        return -1
