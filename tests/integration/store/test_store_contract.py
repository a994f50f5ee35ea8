"""The store contract, run against SQLite and a real PostgreSQL server alike."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest

from ricecoder_otel.store import SchemaTooNewError, Store
from ricecoder_otel.store import _connection as connection_module
from ricecoder_otel.store.migrations import latest_version
from ricecoder_otel.store.records import RetentionPolicy
from tests.harness.store_rows import BASE_NS, SECOND, histogram, log, point, span

StoreFactory = Callable[..., Store]
NO_CAPABILITY_ROWS = {"error_groups": 0, "analytics_activity": 0}


def raw_execute(store: Store, statement: str) -> list[Any]:
    """Run SQL on a separate connection, as an operator or another version would."""
    if store.backend == "sqlite":
        conn = sqlite3.connect(store.location)
        try:
            rows = conn.execute(statement).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(store.location, autocommit=True) as pg:
        cur = pg.execute(statement)
        return cur.fetchall() if cur.description else []


def test_round_trip_keeps_every_field(store: Store) -> None:
    spans, points, logs = [span(0), span(4)], [point(1), histogram(2)], [log(1, severity=17), log(2)]
    assert store.write_spans(spans) == 2
    assert store.write_metric_points(points) == 2
    assert store.write_logs(logs) == 2

    assert sorted(store.query_spans(), key=lambda s: s.start_ns) == spans
    assert sorted(store.query_metrics(), key=lambda p: p.time_ns) == points
    assert sorted(store.query_logs(), key=lambda r: r.time_ns) == logs


def test_empty_batches_write_nothing(store: Store) -> None:
    assert store.write_spans([]) == 0
    assert store.counts().as_dict() == {"spans": 0, "metric_series": 0, "logs": 0, **NO_CAPABILITY_ROWS}


def test_queries_filter_and_return_newest_first(store: Store) -> None:
    store.write_spans([span(i, name="GET /a" if i % 2 else "GET /b", trace=1 + i % 3) for i in range(12)])
    store.write_metric_points([point(i, name="a" if i < 3 else "b") for i in range(6)])
    store.write_logs([log(i, severity=17 if i >= 4 else 9) for i in range(6)])

    newest = store.query_spans(limit=3)
    assert [s.start_ns for s in newest] == [BASE_NS + i * SECOND for i in (11, 10, 9)]
    window = store.query_spans(since_ns=BASE_NS + 2 * SECOND, until_ns=BASE_NS + 6 * SECOND)
    assert sorted(s.start_ns for s in window) == [BASE_NS + i * SECOND for i in range(2, 6)]
    assert {s.name for s in store.query_spans(name="GET /a")} == {"GET /a"}
    assert len(store.query_spans(name="GET /a")) == 6
    assert {s.trace_id for s in store.query_spans(trace_id=f"{2:032x}")} == {f"{2:032x}"}

    assert [p.value for p in store.query_metrics(name="a")] == [2.0, 1.0, 0.0]
    assert [p.value for p in store.query_metrics(since_ns=BASE_NS + 4 * SECOND)] == [5.0, 4.0]
    assert [r.body for r in store.query_logs(min_severity=17)] == ["message 5", "message 4"]
    assert len(store.query_logs(since_ns=BASE_NS + 5 * SECOND, limit=10)) == 1


def test_counts_report_distinct_metric_series(store: Store) -> None:
    store.write_spans([span(i) for i in range(3)])
    store.write_metric_points([point(i, route=route) for i in range(4) for route in ("/a", "/b")])
    store.write_metric_points([point(9, name="other")])
    store.write_logs([log(i) for i in range(5)])

    assert store.counts().as_dict() == {"spans": 3, "metric_series": 3, "logs": 5, **NO_CAPABILITY_ROWS}
    recent = store.counts(since_ns=BASE_NS + 2 * SECOND)
    assert (recent.spans, recent.metric_series, recent.logs) == (1, 3, 3)


def test_migrations_are_applied_once_and_recorded(make_store: StoreFactory) -> None:
    first = make_store()
    first.write_spans([span(0)])
    second = make_store()
    assert first.schema_version() == second.schema_version() == latest_version(first.backend)
    recorded = raw_execute(first, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert [row[0] for row in recorded] == list(range(1, latest_version(first.backend) + 1))
    assert recorded[0][1] == "telemetry"
    assert second.query_spans() == [span(0)]


def test_a_schema_newer_than_the_code_is_refused_and_left_untouched(make_store: StoreFactory) -> None:
    original = make_store()
    original.write_spans([span(0), span(1)])
    original.close()
    newer = latest_version(original.backend) + 1
    raw_execute(original, f"INSERT INTO schema_migrations VALUES ({newer}, 'from_the_future', 0)")

    with pytest.raises(SchemaTooNewError, match=rf"schema version {newer}, newer than the {newer - 1}"):
        make_store().write_spans([span(2)])
    assert raw_execute(original, "SELECT COUNT(*) FROM spans") == [(2,)]

    raw_execute(original, f"DELETE FROM schema_migrations WHERE version = {newer}")
    assert len(make_store().query_spans()) == 2


def test_retention_by_age_deletes_old_rows_of_every_signal(make_store: StoreFactory) -> None:
    now = BASE_NS + 100 * SECOND
    store = make_store(retention=RetentionPolicy(max_age_ns=30 * SECOND, max_bytes=None, interval_ns=None))
    ages = [90, 60, 31, 29, 1]
    store.write_spans([span(i, at=now - age * SECOND) for i, age in enumerate(ages)])
    store.write_metric_points([point(i, at=now - age * SECOND) for i, age in enumerate(ages)])
    store.write_logs([log(i, at=now - age * SECOND) for i, age in enumerate(ages)])

    result = store.enforce_retention(now_ns=now)

    assert result.rows_deleted == 9
    assert sorted(now - s.start_ns for s in store.query_spans()) == [1 * SECOND, 29 * SECOND]
    assert len(store.query_metrics()) == len(store.query_logs()) == 2
    assert store.enforce_retention(now_ns=now).rows_deleted == 0


def test_retention_by_size_deletes_oldest_first_until_under_the_limit(make_store: StoreFactory) -> None:
    unlimited = make_store()
    unlimited.write_spans([span(i) for i in range(1500)])
    unlimited.write_logs([log(i) for i in range(1500)])
    used = unlimited.enforce_retention().bytes_after
    limit = used // 3

    store = make_store(retention=RetentionPolicy(max_age_ns=None, max_bytes=limit, interval_ns=None))
    result = store.enforce_retention()

    assert result.bytes_before == used
    assert result.bytes_after <= limit
    remaining = store.query_spans(limit=10_000)
    assert 0 < len(remaining) < 1500
    oldest_kept = min(s.start_ns for s in remaining)
    assert {s.start_ns for s in remaining} == {
        BASE_NS + i * SECOND for i in range(1500) if BASE_NS + i * SECOND >= oldest_kept
    }
    assert result.rows_deleted == 3000 - len(remaining) - len(store.query_logs(limit=10_000))


def test_writers_apply_retention_when_its_interval_has_passed(make_store: StoreFactory) -> None:
    clock = [BASE_NS + 1000 * SECOND]
    policy = RetentionPolicy(max_age_ns=10 * SECOND, max_bytes=None, interval_ns=60 * SECOND)
    store = make_store(retention=policy, clock=lambda: clock[0])

    store.write_spans([span(0, at=clock[0] - 20 * SECOND)])  # first write: retention is due
    assert store.query_spans() == []
    store.write_spans([span(1, at=clock[0] - 20 * SECOND)])  # within the interval: kept for now
    assert len(store.query_spans()) == 1
    clock[0] += 61 * SECOND
    store.write_spans([span(2, at=clock[0])])
    assert [s.span_id for s in store.query_spans()] == [span(2).span_id]


def test_threads_write_and_read_concurrently(store: Store) -> None:
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for batch in range(30):
                base = worker * 1000 + batch * 10
                store.write_spans([span(base + i) for i in range(10)])
                store.write_logs([log(base)])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(30):
                store.counts()
                store.query_spans(limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)] + [threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert store.counts().as_dict() == {"spans": 1800, "metric_series": 0, "logs": 180, **NO_CAPABILITY_ROWS}


def _in_child(action: Any) -> int:
    """Fork, run ``action`` in the child, return the child's exit status."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            action()
            # Finalise whatever the child inherited, as a normal interpreter exit would.
            connection_module._INHERITED.clear()
            gc.collect()
            code = 0
        finally:
            os._exit(code)
    return pid


def test_forked_children_use_their_own_connections(store: Store) -> None:
    store.write_spans([span(0)])  # the parent's connection is open when it forks

    def child_writes(offset: int) -> Any:
        return lambda: [store.write_spans([span(offset + i)]) for i in range(20)]

    children = [_in_child(child_writes(100)), _in_child(child_writes(200))]
    statuses = [os.waitpid(pid, 0)[1] for pid in children]

    assert statuses == [0, 0]
    store.write_spans([span(1)])  # the parent's own connection still works
    assert store.counts().spans == 42


def test_events_are_queried_by_name_through_the_event_index(store: Store) -> None:
    store.write_logs([log(i) for i in range(6)])
    events = store.query_logs(event_name="checkout.completed")
    assert [r.body for r in events] == ["message 5", "message 3", "message 1"]
    assert store.query_logs(event_name="ricecoder.alert") == []
    if store.backend == "sqlite":
        plan = raw_execute(store, "EXPLAIN QUERY PLAN SELECT * FROM logs WHERE event_name = 'x' ORDER BY time_ns DESC")
        assert any("logs_event_time" in str(row) for row in plan), plan
    else:
        indexes = raw_execute(store, "SELECT indexdef FROM pg_indexes WHERE indexname = 'logs_event_time'")
        assert indexes and "event_name, time_ns" in indexes[0][0]
