"""Keyword DSNs, read-only sessions and strict JSON columns against a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
import itertools
import time

import psycopg
import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.config.secrets import MASK
from ricecoder_otel.store import StoreReadOnlyError, StoreUnavailableError, open_store
from ricecoder_otel.store.postgres import PostgresStore
from tests.harness.postgres import PostgresServer
from tests.harness.store_rows import NO_RETENTION, log, point
from tests.integration.store.conftest import StoreFactory

_numbers = itertools.count(1)


def _keyword_dsn(server: PostgresServer, database: str) -> str:
    # Trust authentication ignores the password; it is here to be masked.
    return f"host=127.0.0.1 port={server.port} dbname={database} user={server.user} password='hunter 2'"


def _tables(server: PostgresServer, database: str) -> list[str]:
    with psycopg.connect(server.dsn(database)) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def test_a_keyword_dsn_is_a_working_postgres_store(postgres_server: PostgresServer) -> None:
    database = f"keyword_{next(_numbers)}"
    postgres_server.create_database(database)
    with open_store(_keyword_dsn(postgres_server, database), retention=NO_RETENTION) as store:
        assert isinstance(store, PostgresStore)
        assert store.display_location.endswith(f"password={MASK}")
        store.write_logs([log(0), log(1)])
        assert [row.body for row in store.query_logs()] == ["message 1", "message 0"]


def test_query_reads_postgres_read_only_and_never_migrates(
    postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = f"empty_{next(_numbers)}"
    postgres_server.create_database(empty)
    assert main(["query", "spans", "--store", _keyword_dsn(postgres_server, empty)]) == 1
    err = capsys.readouterr().err
    assert "holds no ricecoder-otel tables" in err and "hunter" not in err
    assert _tables(postgres_server, empty) == []

    filled = f"filled_{next(_numbers)}"
    postgres_server.create_database(filled)
    with open_store(postgres_server.dsn(filled), retention=NO_RETENTION) as store:
        store.write_logs([log(0, at=time.time_ns())])
    assert main(["query", "logs", "--store", _keyword_dsn(postgres_server, filled)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("1 log record, newest first, from host=127.0.0.1")
    assert "hunter" not in out

    with open_store(postgres_server.dsn(filled), read_only=True) as reader:
        with pytest.raises(StoreReadOnlyError):
            reader.write_logs([log(1)])
        assert len(reader.query_logs()) == 1


def test_a_read_only_session_is_refused_by_the_server_too(postgres_server: PostgresServer) -> None:
    """Belt and braces: even SQL that slips past the store's own check meets a read-only session."""
    database = f"session_{next(_numbers)}"
    postgres_server.create_database(database)
    with open_store(postgres_server.dsn(database)) as store:
        store.write_logs([log(0)])
    reader = open_store(postgres_server.dsn(database), read_only=True)
    assert isinstance(reader, PostgresStore)
    try:
        with reader._slot.use() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM logs")
    finally:
        reader.close()
    missing = open_store(f"host=127.0.0.1 port={postgres_server.port} dbname=nope user=postgres", read_only=True)
    with pytest.raises(StoreUnavailableError):
        missing.query_logs()


def test_non_finite_attributes_are_stored_as_null_on_every_backend(make_store: StoreFactory) -> None:
    """PostgreSQL's JSONB rejects NaN: without this the whole batch would be dropped."""
    nan, inf = float("nan"), float("inf")
    store = make_store()
    store.write_metric_points([dataclasses.replace(point(0), attributes={"ratio": nan, "list": [inf, 1.5]})])
    store.write_logs([dataclasses.replace(log(0), attributes={"load": -inf})])
    assert store.query_metrics()[0].attributes == {"ratio": None, "list": [None, 1.5]}
    assert store.query_logs()[0].attributes == {"load": None}
