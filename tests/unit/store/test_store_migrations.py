"""Schema migrations: numbered files per backend, applied in order, each once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ricecoder_otel.store import sqlite as sqlite_module
from ricecoder_otel.store.migrations import Migration, latest_version, load_migrations, migrations_for
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.harness.store_rows import NO_RETENTION, span


def test_every_backend_has_the_same_numbered_migrations() -> None:
    sqlite_names = [(m.version, m.name) for m in migrations_for("sqlite")]
    postgres_names = [(m.version, m.name) for m in migrations_for("postgres")]
    assert sqlite_names == postgres_names
    assert sqlite_names[0] == (1, "telemetry")


def test_a_gap_in_the_numbering_is_reported(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    (tmp_path / "0003_third.sql").write_text("CREATE TABLE c (x INTEGER);")
    (tmp_path / "notes.txt").write_text("ignored")
    with pytest.raises(RuntimeError, match=r"numbered 1\.\.2 without gaps, found \[1, 3\]"):
        load_migrations(tmp_path)


def test_an_added_migration_is_applied_to_an_existing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "telemetry.db"
    SQLiteStore(path, retention=NO_RETENTION).write_spans([span(0)])
    known = migrations_for("sqlite")
    added = Migration(
        len(known) + 1,
        "alerts",
        "-- alert state; a comment with a ; inside\nCREATE TABLE alerts (id INTEGER PRIMARY KEY, name TEXT);\n"
        "CREATE INDEX alerts_name ON alerts (name);\n",
    )
    monkeypatch.setattr(sqlite_module, "migrations_for", lambda backend: (*known, added))
    monkeypatch.setattr("ricecoder_otel.store.migrations.latest_version", lambda backend: len(known) + 1)

    store = SQLiteStore(path, retention=NO_RETENTION)
    assert store.schema_version() == len(known) + 1
    assert store.query_spans() == [span(0)]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'alerts%' ORDER BY name").fetchall() == [
        ("alerts",),
        ("alerts_name",),
    ]
    conn.close()


def test_a_failing_migration_leaves_the_previous_schema_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "telemetry.db"
    SQLiteStore(path, retention=NO_RETENTION).write_spans([span(0)])
    known = migrations_for("sqlite")
    broken = Migration(len(known) + 1, "broken", "CREATE TABLE half (x INTEGER);\nCREATE TABLE spans (x INTEGER);\n")
    monkeypatch.setattr(sqlite_module, "migrations_for", lambda backend: (*known, broken))

    with pytest.raises(sqlite_module.StoreError, match="already exists"):
        SQLiteStore(path, retention=NO_RETENTION).write_spans([span(1)])
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").fetchone() == (0,)
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone() == (latest_version("sqlite"),)
    conn.close()
