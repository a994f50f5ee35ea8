"""Validate config data against the model and turn every error into a ``ConfigProblem``
that says where the value came from and what form was expected, without echoing secrets."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ricecoder_otel.config.errors import ConfigError, ConfigProblem
from ricecoder_otel.config.model import ALIAS_CONFLICT, MonitoringConfig
from ricecoder_otel.config.paths import (
    Loc,
    env_var_name,
    format_path,
    is_model,
    is_secret_type,
    model_keys,
    type_at,
    unwrap,
)
from ricecoder_otel.config.secrets import is_secret_name, redact_dsn

SourceOf = Callable[[tuple[str | int, ...]], tuple[str | None, bool]]
"""Maps an error location to where the value came from (``file.yaml:12`` or a variable name)
and whether that is an environment variable."""

_EXPECTED: dict[str, str] = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "missing": "required key missing",
    "string_too_short": "expected a non-empty string",
}
_BOUNDS: dict[str, str] = {
    "greater_than": "expected a number greater than {gt}",
    "greater_than_equal": "expected a number of at least {ge}",
    "less_than": "expected a number less than {lt}",
    "less_than_equal": "expected a number of at most {le}",
}
_NO_INPUT_ECHO = frozenset(
    {"missing", "extra_forbidden", "builtin_pattern", "duplicate_rule", "metric_exporter", "exporters", ALIAS_CONFLICT}
)


def validate(data: Mapping[str, Any], source_of: SourceOf) -> MonitoringConfig:
    """Validate ``data``; raise ``ConfigError`` with one problem per error.

    Did-you-mean suggestions for keys that came from a variable name the variable to set.
    """
    try:
        return MonitoringConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([to_problem(err, source_of) for err in exc.errors()]) from None


def to_problem(err: ErrorDetails, source_of: SourceOf) -> ConfigProblem:
    loc = tuple(err["loc"])
    if err["type"] == ALIAS_CONFLICT:  # raised by the section; point at the alias' own key
        loc = (*loc, *str((err.get("ctx") or {}).get("key", "")).split("."))
    source, from_env = source_of(loc)
    if err["type"] == "extra_forbidden":
        return ConfigProblem(format_path(loc), _unknown_key(loc, from_env), source)
    return ConfigProblem(format_path(loc), _message(err, loc), source)


def _unknown_key(loc: tuple[str | int, ...], from_env: bool) -> str:
    key = str(loc[-1])
    parent = unwrap(type_at(loc[:-1]))
    keys = list(model_keys(parent)) if is_model(parent) else []
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    if not close:
        accepted = f"; expected one of: {', '.join(keys)}" if keys else ""
        return f"unknown key{accepted}"
    if from_env and not any(isinstance(p, int) for p in loc):  # list entries have no variable of their own
        suggestion = env_var_name([str(p) for p in (*loc[:-1], _field_name(parent, close[0]))])
        return f"unknown key (did you mean {suggestion}?)"
    return f"unknown key (did you mean '{close[0]}'?)"


def _field_name(model: type[BaseModel], key: str) -> str:
    return model_keys(model)[key]


def _message(err: ErrorDetails, loc: Loc) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _EXPECTED:
        message = _EXPECTED[kind]
    elif kind in _BOUNDS:
        message = _BOUNDS[kind].format(**ctx)
    elif kind == "literal_error":
        message = f"expected one of {ctx.get('expected', '')}".replace(" or ", ", ")
    elif kind == "value_error":
        message = str(ctx.get("error", err["msg"]))
    else:
        message = err["msg"]
    value = err.get("input")
    if kind.endswith("_type") and isinstance(value, list | dict):
        message += " (got a list)" if isinstance(value, list) else " (got a mapping)"
    elif kind not in _NO_INPUT_ECHO and not _is_secret(loc):
        message += _got(value)
    return message


def _is_secret(loc: Loc) -> bool:
    return any(isinstance(p, str) and is_secret_name(p) for p in loc) or is_secret_type(type_at(loc))


def _got(value: Any) -> str:
    """`` (got 'abc')`` for scalars (long text shortened, DSN passwords masked)."""
    if isinstance(value, str):
        text = redact_dsn(value)
        shown = repr(text) if len(text) <= 60 else repr(text[:57]) + "..."
        return f" (got {shown})"
    if isinstance(value, bool | int | float):
        return f" (got {value!r})"
    return ""
