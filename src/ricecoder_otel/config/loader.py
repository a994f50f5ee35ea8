"""Load the effective configuration: defaults < YAML file < ``RICECODER_*`` variables.

The file is the ``path`` argument, else ``RICECODER_CONFIG_FILE``; with neither, defaults and
variables apply. ``OTEL_SERVICE_NAME`` (then ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``)
fills ``service_name`` when neither the file nor a variable sets it. Every problem in every
source is collected before ``ConfigError`` is raised.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ricecoder_otel.config.env_source import merge, read_env
from ricecoder_otel.config.errors import ConfigError, ConfigProblem
from ricecoder_otel.config.model import SEED_ALIASES, MonitoringConfig
from ricecoder_otel.config.validation import validate
from ricecoder_otel.config.yaml_source import YamlDocument, read_yaml

CONFIG_FILE_VARIABLE = "RICECODER_CONFIG_FILE"
_LINE = re.compile(r":(\d+)(?::\d+)?$")


def config_path_from(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """The file to read: the explicit ``path``, else ``RICECODER_CONFIG_FILE``, else none."""
    if path is not None:
        return Path(path)
    value = env.get(CONFIG_FILE_VARIABLE, "").strip()
    return Path(value) if value else None


def load_config(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> MonitoringConfig:
    """Return the validated configuration or raise ``ConfigError`` listing every problem."""
    env = os.environ if env is None else env
    file = config_path_from(path, env)
    return build_config(read_yaml(file) if file is not None else YamlDocument(), file, env)


def build_config(doc: YamlDocument, file: Path | None, env: Mapping[str, str]) -> MonitoringConfig:
    """Apply ``env`` over an already parsed file and validate; used by the file watcher."""
    overrides = read_env(env)
    problems: list[ConfigProblem] = [*doc.problems, *overrides.problems]
    data = merge(_without_overridden_aliases(doc.data, overrides.data), overrides.data)
    if data.get("service_name") in (None, ""):
        service = _otel_service_name(env)
        if service:
            data["service_name"] = service

    def source_of(loc: tuple[str | int, ...]) -> tuple[str | None, bool]:
        var = _variable_for(loc, overrides.sources)
        if var is not None:
            return var, True
        for end in range(len(loc), 0, -1):
            line = doc.lines.get(loc[:end])
            if line is not None:
                return f"{file}:{line}", False
        return (str(file) if file is not None and doc.data else None), False

    try:
        config = validate(data, source_of)
    except ConfigError as error:
        problems.extend(error.problems)
    if problems:
        variables = {*overrides.sources.values(), *(p.source for p in overrides.problems)}
        raise ConfigError(sorted(problems, key=lambda p: _reading_order(p, variables)))
    return config


def _without_overridden_aliases(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the file's value of a seed alias pair when a variable sets either spelling.

    ``collection_interval: 5s`` in the file and ``RICECODER_METRICS__EXPORT_INTERVAL=6s`` would
    otherwise disagree; variables win over the file, whichever name each one uses.
    """
    result = data
    for alias, target in SEED_ALIASES.items():
        if _has(overrides, alias) or _has(overrides, target):
            for loc in (alias, target):
                if _has(result, loc):
                    result = _dropped(result, loc)
    return result


def _has(data: Mapping[str, Any], loc: tuple[str, ...]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _dropped(data: Mapping[str, Any], loc: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``data`` without ``loc``; the file's own data is never changed."""
    copy = dict(data)
    if len(loc) == 1:
        copy.pop(loc[0], None)
    else:
        copy[loc[0]] = _dropped(copy[loc[0]], loc[1:])
    return copy


def _variable_for(loc: tuple[str | int, ...], sources: Mapping[tuple[str, ...], str]) -> str | None:
    """The variable that set ``loc``, one of its parents, or (failing that) one of its children."""
    key = tuple(str(part) for part in loc)
    for end in range(len(key), 0, -1):
        if key[:end] in sources:
            return sources[key[:end]]
    return next((var for path, var in sources.items() if path[: len(key)] == key), None)


def _reading_order(problem: ConfigProblem, variables: set[str | None]) -> tuple[bool, bool, int]:
    """Whole-file problems first, then the file's in line order, then variables."""
    match = _LINE.search(problem.source or "")
    return (problem.kind == "invalid", problem.source in variables, int(match.group(1)) if match else 0)


def _otel_service_name(env: Mapping[str, str]) -> str | None:
    name = env.get("OTEL_SERVICE_NAME", "").strip()
    if name:
        return name
    for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, _, value = item.partition("=")
        if key.strip() == "service.name" and value.strip():
            return value.strip()
    return None
