"""Turn ``RICECODER_*`` variables into nested config data.

``RICECODER_METRICS__CARDINALITY_LIMIT=500`` sets ``metrics.cardinality_limit``: the double
underscore nests, names are case-insensitive. Lists take JSON (``["a","b"]``) or
comma-separated values, mappings and rule lists take JSON. Scalars stay strings and the model
converts them, so a bad value is reported like any other, naming the variable.

A variable is configuration when its name has a double underscore or names a top-level key
(``RICECODER_SERVICE_NAME``). Other ``RICECODER_*`` names (``RICECODER_CONFIG_FILE``, tool
settings such as ``RICECODER_CACHE_DIR``) are not, and are left alone: treating them as typos
would reject every configuration in a shell that sets them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_origin

from ricecoder_otel.config.errors import ConfigProblem
from ricecoder_otel.config.model import MonitoringConfig
from ricecoder_otel.config.paths import (
    ENV_PREFIX,
    ENV_SEPARATOR,
    format_path,
    is_model,
    is_optional,
    model_keys,
    type_at,
    unwrap,
)

SHORTHAND_VARIABLES: dict[str, tuple[str, ...]] = {
    "RICECODER_STORE_DSN": ("store", "location"),
    "RICECODER_STORE_PATH": ("store", "location"),
}
"""Short names the store also reads; weakest first, below the ``__`` spelling of the same key."""


@dataclass
class EnvOverrides:
    """Nested data from the variables, which variable set each path, and parse problems."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[tuple[str, ...], str] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)


def read_env(env: Mapping[str, str]) -> EnvOverrides:
    """Collect the configuration variables of ``env``; a bad one becomes a problem, not an error."""
    out = EnvOverrides()
    for var, loc in SHORTHAND_VARIABLES.items():
        if env.get(var, "").strip():
            _assign(out.data, loc, env[var].strip())
            out.sources[loc] = var
    for var in sorted(env):
        if not _is_config_variable(var):
            continue
        loc = tuple(part.lower() for part in var[len(ENV_PREFIX) :].split(ENV_SEPARATOR))
        if not all(loc):
            out.problems.append(
                ConfigProblem(
                    "",
                    "malformed name: sections are separated by exactly two underscores, "
                    "like RICECODER_METRICS__CARDINALITY_LIMIT",
                    var,
                )
            )
            continue
        if _inside_list(loc):
            out.problems.append(
                ConfigProblem(
                    format_path([int(p) if p.isdigit() else p for p in loc]),
                    "list entries cannot be set one by one; set the whole list as JSON",
                    var,
                )
            )
            continue
        try:
            value = _parse(env[var], type_at(loc))
        except ValueError as exc:
            out.problems.append(ConfigProblem(format_path(loc), str(exc), var))
            continue
        _assign(out.data, loc, value)
        out.sources[loc] = var
    return out


def _is_config_variable(var: str) -> bool:
    name = var.upper()
    if not name.startswith(ENV_PREFIX) or name in SHORTHAND_VARIABLES:
        return False
    rest = name[len(ENV_PREFIX) :]
    return ENV_SEPARATOR in rest or rest.lower() in model_keys(MonitoringConfig)


def _inside_list(loc: tuple[str, ...]) -> bool:
    """True when a proper prefix of ``loc`` is a list (``alerting.rules.0.threshold``)."""
    return any(get_origin(unwrap(type_at(loc[:end]))) is list for end in range(1, len(loc)))


def _parse(raw: str, tp: Any) -> Any:
    """Shape a variable's text for the field it sets; unknown paths pass through as text."""
    if tp is None:
        return raw
    base = unwrap(tp)
    origin = get_origin(base)
    text = raw.strip()
    if origin is list:
        if text.startswith("["):
            return _json(text, list, "expected a JSON list or comma-separated values")
        return [item.strip() for item in text.split(",")] if text else []
    if origin is dict or is_model(base):
        return _json(text, dict, 'expected a JSON object like {"key": "value"}')
    if text == "" and is_optional(tp):
        return None
    return raw


def _json(text: str, expected: type, message: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{message} (invalid JSON at column {exc.colno}: {exc.msg})") from None
    if not isinstance(value, expected):
        raise ValueError(message)
    return value


def _assign(data: dict[str, Any], loc: tuple[str, ...], value: Any) -> None:
    node = data
    for part in loc[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[loc[-1]] = value


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``; mappings merge, anything else replaces."""
    result = dict(base)
    for key, value in override.items():
        current = result.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            result[key] = merge(dict(current), value)
        else:
            result[key] = value
    return result
