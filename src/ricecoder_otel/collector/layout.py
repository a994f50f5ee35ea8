"""Where the shipped collector configuration lives and which files in it are collector configs.

The configs ship in the repository's ``collector-config/`` folder; ``RICECODER_COLLECTOR_CONFIG_DIR``
points elsewhere (an installed copy, a user's fork).
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_DIR_ENV = "RICECODER_COLLECTOR_CONFIG_DIR"
MANIFEST_NAME = "builder-config.yaml"
# The collector configs we ship, each validated by the built collector.
COLLECTOR_CONFIGS: tuple[str, ...] = ("agent.yaml", "gateway.yaml")


class ConfigDirNotFound(RuntimeError):
    """No collector-config folder: the message says where we looked and how to point at one."""


def config_dir() -> Path:
    """The collector-config folder: from the environment, else the repository holding this package."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        path = Path(override)
        if not (path / MANIFEST_NAME).is_file():
            raise ConfigDirNotFound(f"{CONFIG_DIR_ENV}={override} has no {MANIFEST_NAME}")
        return path
    looked: list[str] = []
    for parent in [*Path(__file__).resolve().parents, Path.cwd()]:
        candidate = parent / "collector-config"
        if (candidate / MANIFEST_NAME).is_file():
            return candidate
        looked.append(str(candidate))
    raise ConfigDirNotFound(
        f"no collector-config/{MANIFEST_NAME} found (looked in {', '.join(looked[-3:])}); "
        f"set {CONFIG_DIR_ENV} to the folder holding it"
    )


def manifest_path() -> Path:
    return config_dir() / MANIFEST_NAME


def shipped_configs() -> list[Path]:
    """The collector configs we ship, in a fixed order."""
    base = config_dir()
    return [base / name for name in COLLECTOR_CONFIGS]
