"""Check the embedded store the way the ``ricecoder_local`` exporters will use it.

With no OTLP endpoint configured a service writes to this store, so for ``doctor`` a usable
store is a healthy setup, not a missing collector. The location is resolved like the pipeline
resolves it (config file and ``RICECODER_*`` variables, then the per-user default). Nothing is
created: a store that does not exist yet is fine when its directory can be created and written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ricecoder_otel.config.model import MonitoringConfig

RECENT_S = 3600  # row counts cover the last hour: index range scans, and they show current activity


@dataclass(frozen=True)
class StoreReport:
    """Where the store is, whether the service can write it, and what it recently received."""

    ok: bool
    location: str
    backend: str
    exists: bool
    writable: bool | None  # None: a PostgreSQL store, whose grants doctor does not test
    detail: str
    fix: str | None = None
    recent: dict[str, int] | None = None
    config_problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "location": self.location,
            "backend": self.backend,
            "exists": self.exists,
            "writable": self.writable,
            "detail": self.detail,
            "fix": self.fix,
            "recent_rows": self.recent,
            "recent_seconds": RECENT_S,
            "config_problem": self.config_problem,
        }


def service_config(env: Mapping[str, str]) -> tuple[MonitoringConfig | None, str | None]:
    """The config the service would load, or None and the problem (the service then runs on defaults)."""
    from ricecoder_otel.config.errors import ConfigError
    from ricecoder_otel.config.loader import load_config

    try:
        return load_config(env=env), None
    except ConfigError as exc:  # the pipeline logs this and runs on defaults; so do we
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot read the config file: {exc}"


def store_location(env: Mapping[str, str]) -> tuple[str, str | None]:
    """The location the pipeline would open, and the config problem that made it fall back, if any."""
    from ricecoder_otel.store import default_store_location

    config, problem = service_config(env)
    location = None if config is None else config.store.location
    return location or default_store_location(), problem


def check_store(env: Mapping[str, str] | None = None, now: float | None = None) -> StoreReport:
    """Probe the store read-only, without creating it; counts are for the last hour."""
    from ricecoder_otel.config.secrets import redact_dsn
    from ricecoder_otel.store import StoreError, open_store, parse_location

    env = os.environ if env is None else env
    location, problem = store_location(env)
    shown = redact_dsn(location)
    try:
        parsed = parse_location(location)
    except StoreError as exc:
        return StoreReport(
            False, shown, "unknown", False, False, str(exc),
            "set RICECODER_STORE_PATH (or store.location) to a file path or a postgresql:// DSN",
            config_problem=problem,
        )  # fmt: skip
    path = Path(parsed.target).expanduser() if parsed.backend == "sqlite" else None
    exists = True if path is None else path.is_file()
    problem_writing = None if path is None else _write_problem(path)
    writable = None if path is None else problem_writing is None
    if problem_writing is not None:
        return StoreReport(
            False, shown, parsed.backend, exists, False, f"the service cannot write {shown}: {problem_writing}",
            "make it writable, or set RICECODER_STORE_PATH to a writable location", config_problem=problem,
        )  # fmt: skip
    if path is not None and not exists:
        return StoreReport(
            True, shown, parsed.backend, False, True,
            f"no store yet at {shown}; the service creates it on its first export (the directory is writable)",
            config_problem=problem,
        )  # fmt: skip
    since_ns = int(((time.time() if now is None else now) - RECENT_S) * 1e9)
    store = open_store(location, create=False, read_only=True)
    try:
        counts = store.counts(since_ns=since_ns).as_dict()
    except StoreError as exc:
        return StoreReport(
            False, shown, parsed.backend, exists, writable, f"cannot read {shown}: {exc}",
            "fix the store location (RICECODER_STORE_PATH / store.location) or the database", config_problem=problem,
        )  # fmt: skip
    finally:
        store.close()
    summary = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items())
    state = "reachable" if writable is None else "writable"
    return StoreReport(
        True, shown, parsed.backend, exists, writable, f"{shown} ({parsed.backend}) is {state}; last hour: {summary}",
        recent=counts, config_problem=problem,
    )  # fmt: skip


def _write_problem(path: Path) -> str | None:
    """Why the service could not write the store at ``path`` (None: it can), without creating anything."""
    if path.exists():
        if not path.is_file():
            return f"{path} is not a file"
        # WAL mode makes -wal and -shm files beside the database: the directory must be writable too.
        if not os.access(path, os.W_OK):
            return "the file is read-only for this user"
        return None if os.access(path.parent, os.W_OK) else "its directory is read-only for this user"
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{ancestor} is a file, so the store's directory cannot be created"
            if not os.access(ancestor, os.W_OK | os.X_OK):
                return f"{ancestor} is read-only for this user, so the store cannot be created"
            return None
    return "no part of its path exists"
