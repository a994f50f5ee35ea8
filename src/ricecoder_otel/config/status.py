"""Which settings something reads today.

The model accepts every section of the seed's configuration so that files written for it stay
valid, but some capabilities are not built yet. Their fields carry a marker in
``json_schema_extra`` (:func:`not_built`, :func:`partly_built`); the reference page prints it and
``ricecoder-otel config show`` lists the marked settings. When a capability lands, its issue
deletes the markers from its fields and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo

# model.py imports the markers from here, and paths.py imports model.py: walking functions
# import paths when they run, not at import time.

STATUS_KEY = "status"
NOTE_KEY = "status_note"
BUILT_VALUES_KEY = "built_values"
NOT_BUILT = "not built yet"
PARTLY_BUILT = "partly built"


def not_built(note: str = "") -> JsonDict:
    """Marker for a field or section that nothing reads yet (accepted, has no effect)."""
    extra: JsonDict = {STATUS_KEY: NOT_BUILT}
    if note:
        extra[NOTE_KEY] = note
    return extra


def partly_built(note: str, built_values: Sequence[str] = ()) -> JsonDict:
    """Marker for a field that is read, but not in every case (``note`` says which).

    ``built_values`` lists the values that work today (``kind: anomaly``); others are reported.
    """
    extra: JsonDict = {STATUS_KEY: PARTLY_BUILT, NOTE_KEY: note}
    if built_values:
        extra[BUILT_VALUES_KEY] = list(built_values)
    return extra


@dataclass(frozen=True)
class Status:
    """The marker of one field: ``status`` is :data:`NOT_BUILT` or :data:`PARTLY_BUILT`."""

    status: str
    note: str = ""
    built_values: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.status} ({self.note})" if self.note else self.status


@dataclass(frozen=True)
class Unbuilt:
    """A setting that has no effect, or only a partial one, with the reason."""

    path: str
    status: Status

    def __str__(self) -> str:
        return f"{self.path}: {self.status.describe()}"


def status_of(info: FieldInfo) -> Status | None:
    """The marker of a field, or None when the field is built."""
    extra = info.json_schema_extra
    if not isinstance(extra, dict) or STATUS_KEY not in extra:
        return None
    values = extra.get(BUILT_VALUES_KEY)
    return Status(
        str(extra[STATUS_KEY]),
        str(extra.get(NOTE_KEY, "")),
        tuple(str(v) for v in values) if isinstance(values, list) else (),
    )


def unbuilt_settings(model: type[BaseModel], prefix: str = "") -> list[Unbuilt]:
    """Every marked field of ``model`` and its sections, as shown paths (``alerting.rules[].kind``).

    A section marked as a whole is listed once; its fields are not repeated.
    """
    found: list[Unbuilt] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        status = status_of(info)
        if status is not None:
            found.append(Unbuilt(path, status))
            if status.status == NOT_BUILT:
                continue
        sub, suffix = _nested_model(info.annotation)
        if sub is not None:
            found.extend(unbuilt_settings(sub, f"{path}{suffix}."))
    return found


def unbuilt_values(config: BaseModel, loc: tuple[str | int, ...] = ()) -> list[Unbuilt]:
    """Values in ``config`` that a partly built field does not act on (``alerting.rules[0].kind``);
    each one's note is the value and why: ``'threshold' (only `anomaly` rules are evaluated)``."""
    from ricecoder_otel.config.paths import format_path

    found: list[Unbuilt] = []
    for name, info in type(config).model_fields.items():
        key = info.alias or name
        status = status_of(info)
        if status is not None and status.status == NOT_BUILT:
            continue
        value = getattr(config, name)
        if status is not None and status.built_values and str(value) not in status.built_values:
            note = f"{value!r} ({status.note})" if status.note else repr(value)
            found.append(Unbuilt(format_path((*loc, key)), Status(status.status, note)))
        found.extend(_children(value, (*loc, key)))
    return found


def _children(value: Any, loc: tuple[str | int, ...]) -> list[Unbuilt]:
    if isinstance(value, BaseModel):
        return unbuilt_values(value, loc)
    if isinstance(value, list):
        return [u for i, item in enumerate(value) for u in _children(item, (*loc, i))]
    return []


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    from ricecoder_otel.config.paths import unwrap

    base = unwrap(annotation)
    if isinstance(base, type) and issubclass(base, BaseModel):
        return base, ""
    if get_origin(base) is list:
        item = unwrap(get_args(base)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item, "[]"
    return None, ""
