"""The telemetry store: where local spans, metrics and logs land, and what the CLI reads.

``open_store`` picks the backend from a path or URL; the process-wide default store is
what the local exporters write to unless they are given one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ricecoder_otel.store.base import Clock, Store
from ricecoder_otel.store.errors import (
    MissingDriverError,
    SchemaTooNewError,
    StoreBusyError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreLocationError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from ricecoder_otel.store.location import StoreLocation, parse_location
from ricecoder_otel.store.records import (
    LogRow,
    MetricPoint,
    RetentionPolicy,
    RetentionResult,
    SpanRecord,
    StoreCounts,
)

__all__ = [
    "LogRow",
    "MetricPoint",
    "MissingDriverError",
    "RetentionPolicy",
    "RetentionResult",
    "SchemaTooNewError",
    "SpanRecord",
    "Store",
    "StoreBusyError",
    "StoreCorruptError",
    "StoreCounts",
    "StoreError",
    "StoreFullError",
    "StoreLocation",
    "StoreLocationError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "default_store_location",
    "get_default_store",
    "open_store",
    "parse_location",
    "set_default_store",
]


def default_store_location() -> str:
    """RICECODER_STORE_PATH, else RICECODER_STORE_DSN, else the per-user data directory."""
    for variable in ("RICECODER_STORE_PATH", "RICECODER_STORE_DSN"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    data_home = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "ricecoder-otel" / "telemetry.db")


def open_store(
    location: str | os.PathLike[str] | None = None,
    *,
    create: bool = True,
    read_only: bool = False,
    retention: RetentionPolicy | None = None,
    clock: Clock | None = None,
) -> Store:
    """Open the store at ``location``: a path, ``sqlite:///path``, a ``postgresql://`` URL or a
    libpq keyword DSN (``host=db dbname=x user=u password=...``).

    Nothing is opened yet: the connection is made (and the schema migrated) on first use,
    so a store that is unavailable now fails there, with a ``StoreError``, and retries later.
    A location that is neither (an unknown scheme, a mistyped DSN) raises ``StoreLocationError``
    now, its secrets masked, and no file is created. ``create=False`` makes a missing SQLite file
    an error instead of a new empty store. ``read_only=True`` (what ``query`` uses) never writes:
    SQLite is opened with ``mode=ro`` and not migrated, so a store on a full or read-only disk
    stays readable; every write raises ``StoreReadOnlyError``.
    """
    parsed = parse_location(os.fspath(location) if location is not None else default_store_location())
    if parsed.backend == "postgres":
        from ricecoder_otel.store.postgres import PostgresStore

        return PostgresStore(parsed.target, read_only=read_only, retention=retention, clock=clock)
    from ricecoder_otel.store.sqlite import SQLiteStore

    return SQLiteStore(parsed.target, create=create, read_only=read_only, retention=retention, clock=clock)


_default_lock = threading.Lock()
_default_store: Store | None = None
_default_location: str | None = None
_default_retention: RetentionPolicy | None = None


def set_default_store(
    store_or_location: Store | str | os.PathLike[str] | None, *, retention: RetentionPolicy | None = None
) -> None:
    """Choose the process-wide store; a location is opened lazily, ``None`` restores the default.

    ``retention`` applies when a location is given (a ``Store`` carries its own policy).
    """
    global _default_store, _default_location, _default_retention
    with _default_lock:
        if isinstance(store_or_location, Store):
            _default_store, _default_location, _default_retention = store_or_location, None, None
        else:
            _default_store = None
            _default_location = None if store_or_location is None else os.fspath(store_or_location)
            _default_retention = retention


def get_default_store() -> Store:
    """The process-wide store, opened from the configured or default location on first call."""
    global _default_store
    with _default_lock:
        if _default_store is None:
            _default_store = open_store(_default_location, retention=_default_retention)
        return _default_store


def _reset_lock_after_fork() -> None:
    global _default_lock
    _default_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_after_fork)
