"""On PostgreSQL too, reading events by name (``query logs --event NAME``) goes through the
``logs_event_time`` index, not a scan of every log record."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from ricecoder_otel.store import open_store
from ricecoder_otel.store.records import LogRow
from tests.harness.postgres import PostgresServer
from tests.harness.store_rows import NO_RETENTION, SECOND

BASE_NS = 1_700_000_000 * SECOND



def _row(i: int, event_name: str) -> LogRow:
    return LogRow(
        time_ns=BASE_NS + i * SECOND, severity_number=9, severity_text="INFO", body=f"record {i}",
        event_name=event_name, trace_id="", span_id="", attributes={}, service_name="shop",
    )  # fmt: skip


def test_events_by_name_are_read_through_the_event_name_index(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = postgres_server.create_database("event_index")
    with open_store(dsn, retention=NO_RETENTION) as store:
        # Mostly application records, a few alert events: what a running service's store holds.
        store.write_logs([_row(i, "ricecoder.alert" if i % 1000 == 0 else "") for i in range(20_000)])
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ANALYZE logs")

        executed: list[tuple[str, Any]] = []
        execute = psycopg.Cursor.execute

        def recording(self: psycopg.Cursor[Any], query: Any, params: Any = None, **kwargs: Any) -> Any:
            executed.append((str(query), params))
            return execute(self, query, params, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", recording)
        for since_ns in (None, BASE_NS + 5_000 * SECOND):
            executed.clear()
            rows = store.query_logs(since_ns=since_ns, event_name="ricecoder.alert", limit=100)
            assert len(rows) == (20 if since_ns is None else 15) and {r.event_name for r in rows} == {"ricecoder.alert"}
            [(query, params)] = [(q, p) for q, p in executed if "FROM logs" in q]
            with psycopg.connect(dsn) as conn:
                plan = "\n".join(str(r[0]) for r in conn.execute("EXPLAIN " + query, params))
            assert "logs_event_time" in plan, plan
            assert "Seq Scan" not in plan, plan
