"""Compare what the SDK exported with what came back as OTLP JSON (file sink or Jaeger's API v3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def plain(value: Mapping[str, Any]) -> Any:
    """An OTLP JSON ``AnyValue`` as a Python value (int64 arrives as a string)."""
    if not value:
        return None
    kind, raw = next(iter(value.items()))
    if kind == "intValue":
        return int(raw)
    if kind == "doubleValue":
        return float(raw)
    if kind == "arrayValue":
        return tuple(plain(v) for v in raw.get("values", []))
    if kind == "kvlistValue":
        return {kv["key"]: plain(kv.get("value", {})) for kv in raw.get("values", [])}
    return raw


def attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {kv["key"]: plain(kv.get("value", {})) for kv in item.get("attributes", [])}


def sdk_value(value: Any) -> Any:
    """An SDK attribute value in the form :func:`plain` returns."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return value
