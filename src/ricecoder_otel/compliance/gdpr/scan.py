"""Find, export and delete every stored row that holds one of a subject's forms.

Tables and their text columns are discovered from the live schema, so the scan covers every
table the store has (including capabilities migrated after this code was written) and skips
those it lacks. A row matches when any text or JSON column contains any form of the subject
(case-sensitive substring: ``instr`` in SQLite, ``strpos`` in PostgreSQL). Deleting is
deliberately broad: a span whose attributes mention the subject goes, whole. Binary columns
(HyperLogLog sketches) hold no ids and are not scanned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ricecoder_otel.compliance.gdpr.subjects import Subject
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.sql import Cursor, SqlStore

NOT_SCANNED = frozenset({"schema_migrations", "gdpr_requests", "gdpr_breaches", "compliance_purge_guard"})
"""Bookkeeping: migrations, the request log (it holds only subject references), the breach register
(a record Art. 33(5) requires, holding no subject ids) and the guard."""

GUARDED = "incident_timeline"
_TEXT_TYPES = frozenset({"text", "jsonb", "json", "character varying", "character"})


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    """Every column (for export)."""
    text_columns: tuple[str, ...]
    """Columns scanned for the subject."""
    json_columns: tuple[str, ...] = ()
    """PostgreSQL JSON columns (compared through ``::text``)."""


def sql_store(store: Store) -> SqlStore:
    if not isinstance(store, SqlStore):
        raise TypeError(f"subject requests need a SQL store, got {type(store).__name__}")
    return store


def tables(store: SqlStore, cur: Cursor) -> list[Table]:
    """The store's tables with their columns, from the live schema."""
    if store.backend == "postgres":
        cur.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        found: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in cur.fetchall():
            found.setdefault(str(table), []).append((str(column), str(kind).lower()))
        return [
            Table(
                name,
                tuple(c for c, _ in cols),
                tuple(c for c, k in cols if k in _TEXT_TYPES),
                tuple(c for c, k in cols if k in ("jsonb", "json")),
            )
            for name, cols in sorted(found.items())
            if name not in NOT_SCANNED
        ]
    cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    names = [str(row[0]) for row in cur.fetchall()]
    result = []
    for name in names:
        if name in NOT_SCANNED:
            continue
        cur.execute(f'PRAGMA table_info("{name}")')
        cols = [(str(row[1]), str(row[2]).upper()) for row in cur.fetchall()]
        text = tuple(c for c, kind in cols if kind in ("", "TEXT") or "CHAR" in kind or "CLOB" in kind)
        result.append(Table(name, tuple(c for c, _ in cols), text))
    return result


def _match(store: SqlStore, table: Table, subject: Subject) -> tuple[str, list[str]]:
    """A WHERE clause matching rows that hold any form, and its parameters."""
    clauses: list[str] = []
    params: list[str] = []
    for column in table.text_columns:
        ref = f'"{column}"::text' if column in table.json_columns else f'"{column}"'
        for form in subject.forms:
            clauses.append(f"strpos({ref}, ?) > 0" if store.backend == "postgres" else f"instr({ref}, ?) > 0")
            params.append(form)
    return " OR ".join(clauses), params


def matching_rows(store: Store, subject: Subject) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every stored row holding the subject, as (table, row), table by table."""
    sql = sql_store(store)
    with sql._transaction() as cur:
        for table in tables(sql, cur):
            if not table.text_columns:
                continue
            where, params = _match(sql, table, subject)
            columns = ", ".join(f'"{c}"' for c in table.columns)
            cur.execute(sql._sql(f'SELECT {columns} FROM "{table.name}" WHERE {where}'), params)
            for row in cur.fetchall():
                yield table.name, {c: _plain(v) for c, v in zip(table.columns, row, strict=True)}


def count_rows(store: Store, subject: Subject) -> dict[str, int]:
    """How many rows of each table hold the subject (tables with none are left out)."""
    counts: dict[str, int] = {}
    for table, _ in matching_rows(store, subject):
        counts[table] = counts.get(table, 0) + 1
    return counts


def delete_rows(store: SqlStore, cur: Cursor, subject: Subject) -> dict[str, int]:
    """Delete every row holding the subject inside the caller's transaction; rows per table."""
    deleted: dict[str, int] = {}
    found = tables(store, cur)
    guard = store._table_exists(cur, "compliance_purge_guard")
    for table in found:
        if not table.text_columns:
            continue
        where, params = _match(store, table, subject)
        guarded = table.name == GUARDED and guard
        if guarded:
            cur.execute(store._sql("INSERT INTO compliance_purge_guard (active) VALUES (1)"))
        cur.execute(store._sql(f'DELETE FROM "{table.name}" WHERE {where}'), params)
        rows = max(0, int(cur.rowcount))
        if guarded:
            cur.execute(store._sql("DELETE FROM compliance_purge_guard"))
        if rows:
            deleted[table.name] = rows
    return deleted


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value
