"""Run the built collector's ``validate`` on a config and explain a failure by file, component and field.

The collector reports problems as nested decoder messages; ``explain`` pulls out the section
(receivers, processors, ...), the component id and the offending field so the user sees one line
that says where to look.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SECTIONS = "receivers|processors|exporters|extensions|connectors"
VALIDATE_TIMEOUT_S = 120
_READING = re.compile(rf"'({SECTIONS})' error reading configuration for \"([^\"]+)\"")
_UNKNOWN = re.compile(rf"'({SECTIONS})' unknown type: \"([^\"]+)\"")
_PATH = re.compile(rf"\b({SECTIONS})::([^\s:]+):\s*(.*)")
_PIPELINE = re.compile(r"\b(service::pipelines::[^\s:]+):\s*(.*)")
_INVALID_KEYS = re.compile(r"'([^']*)' has invalid keys: ([^\n]+)")
_FIELD = re.compile(r"^'([^']+)' (.+)$")


@dataclass(frozen=True)
class Problem:
    """One validation failure, located as precisely as the collector's message allows."""

    file: Path
    message: str
    section: str | None = None
    component: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [str(self.file)]
        if self.component:
            where.append(f"{self.section or 'component'} {self.component!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{': '.join(where)}: {self.message}"


def validate(binary: Path, config: Path, env: Mapping[str, str] | None = None) -> Problem | None:
    """None when the collector accepts ``config``, else the located problem."""
    if not config.is_file():
        return Problem(config, "file not found")
    try:
        result = subprocess.run(
            [str(binary), "validate", f"--config={config}"],
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=VALIDATE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Problem(config, f"the collector's validate did not finish within {VALIDATE_TIMEOUT_S} s")
    except OSError as error:
        return Problem(config, f"could not run the collector {binary}: {error.strerror or error}")
    if result.returncode == 0:
        return None
    return explain(config, result.stderr + result.stdout)


def explain(config: Path, output: str) -> Problem:
    """Turn the collector's error text into a Problem naming section, component and field."""
    text = output.strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("Error:")), lines[-1] if lines else "validate failed")
    match = _UNKNOWN.search(text)
    if match:
        section, component = match.groups()
        valid = re.search(r"\(valid values: \[([^\]]*)\]\)", text)
        known = f"; this collector has: {', '.join(valid.group(1).split())}" if valid else ""
        return Problem(config, f"unknown component type {component.split('/')[0]!r}{known}", section, component)
    match = _READING.search(text)
    if match:
        section, component = match.groups()
        detail = text[match.end() :]
        return Problem(config, _detail_message(detail, match.group(0)), section, component, _field(detail))
    match = _PATH.search(text)
    if match:
        section, component, rest = match.groups()
        field, message = _split_path_field(rest)
        return Problem(config, message, section, component, field)
    match = _PIPELINE.search(text)
    if match:
        return Problem(config, match.group(2), "service", match.group(1).split("::")[-1])
    return Problem(config, error.removeprefix("Error:").strip())


def _field(detail: str) -> str | None:
    keys = _INVALID_KEYS.search(detail)
    if keys:
        prefix, names = keys.groups()
        return ", ".join(f"{prefix}.{name.strip()}" if prefix else name.strip() for name in names.split(","))
    for line in detail.splitlines():
        match = _FIELD.match(line.strip())
        if match and match.group(1):
            return match.group(1)
    return None


def _detail_message(detail: str, headline: str) -> str:
    keys = _INVALID_KEYS.search(detail)
    if keys:
        return f"unknown key(s) {keys.group(2).strip()}"
    for line in reversed(detail.splitlines()):
        line = line.strip()
        if line and not line.endswith("following error(s):"):
            match = _FIELD.match(line)
            return match.group(2) if match else line
    return headline


def _split_path_field(rest: str) -> tuple[str | None, str]:
    """``"timeout: must be positive"`` style tails carry the field before the first colon."""
    head, sep, tail = rest.partition(": ")
    if sep and re.fullmatch(r"[A-Za-z_][\w.:\[\]-]*", head):
        return head.replace("::", "."), tail
    return None, rest
