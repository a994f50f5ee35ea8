"""Numbered schema migrations, one SQL file per step and backend.

A migration is a file ``migrations/<backend>/NNNN_name.sql``; adding a capability's tables
means adding the next-numbered file for each backend (``0002_alerts.sql``). Versions
must run 1..N without gaps, so a missing file is caught at start-up, not in production.
Applied versions are recorded in the ``schema_migrations`` table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from ricecoder_otel.store.errors import SchemaTooNewError

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

BOOTSTRAP_SQL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at_ns BIGINT NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations_for(backend: str) -> tuple[Migration, ...]:
    """The migrations of ``backend`` ("sqlite" or "postgres") in version order."""
    return load_migrations(resources.files("ricecoder_otel.store").joinpath("migrations", backend))


def load_migrations(folder: Traversable) -> tuple[Migration, ...]:
    """Read ``NNNN_name.sql`` files from ``folder``; versions must run 1..N without gaps."""
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match["version"]), match["name"], entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    actual = [m.version for m in found]
    if actual != expected:
        raise RuntimeError(f"migrations in {folder} must be numbered 1..{len(found)} without gaps, found {actual}")
    return tuple(found)


def applied_version(conn: Any) -> int:
    """The highest migration recorded in ``schema_migrations`` (0 on a new store).

    ``conn`` is a DB-API connection with ``execute`` (sqlite3 or psycopg 3).
    """
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def latest_version(backend: str) -> int:
    return len(migrations_for(backend))


def check_not_newer(backend: str, applied: int, location: str) -> None:
    """Refuse a store migrated past what this code knows: writing could corrupt it."""
    known = latest_version(backend)
    if applied > known:
        raise SchemaTooNewError(
            f"store {location} has schema version {applied}, newer than the {known} this ricecoder-otel "
            "knows; it was left untouched: upgrade ricecoder-otel or point it at another store"
        )
