"""Rows of every data class written straight into a store, for retention and erasure tests.

Tables of capabilities a store lacks are skipped (``present`` says which were written), so the
helpers run on any schema version.
"""

from __future__ import annotations

import json
from typing import Any

from ricecoder_otel.store.base import Store
from ricecoder_otel.store.records import LogRow, MetricPoint, SpanRecord
from ricecoder_otel.store.sql import SqlStore

DAY_NS = 86_400 * 1_000_000_000


def insert(store: Store, table: str, row: dict[str, Any]) -> bool:
    """Insert ``row`` into ``table`` if the store has it; True when written."""
    assert isinstance(store, SqlStore)
    with store._transaction(write=True) as cur:
        if not store._table_exists(cur, table):
            return False
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        cur.execute(store._sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), tuple(row.values()))
    return True


def subject_rows(store: Store, user: str, pseudonym: str, at_ns: int, *, tag: str, profile: bool = True) -> set[str]:
    """One row per table that can hold a user, each holding ``user`` (or its ``pseudonym``); ``profile``:
    also the user's analytics profile (one per user)."""
    written: set[str] = set()
    store.write_spans([
        SpanRecord(trace_id=f"{abs(hash(tag)) % 10**30:032x}", span_id="1" * 16, parent_span_id=None,
                   name=f"GET /orders {tag}", kind="SERVER", start_ns=at_ns, end_ns=at_ns + 1000, status_code="OK",
                   service_name="shop", attributes={"user.id": user, "http.route": "/orders"},
                   events=[], resource={"service.name": "shop"})
    ])  # fmt: skip
    store.write_logs(
        [
            LogRow(time_ns=at_ns, severity_number=9, body=f"checkout by {user}", service_name="shop", attributes={}),
        ]
    )
    store.write_metric_points(
        [MetricPoint(time_ns=at_ns, name=f"orders.{tag}", kind="counter", attributes={"enduser.id": user}, value=1.0)]
    )
    written |= {"spans", "logs", "metric_points"}
    gid = f"group-{tag}"
    rows: list[tuple[str, dict[str, Any]]] = [
        ("error_groups", {"id": gid, "fingerprint": f"fp-{tag}", "error_type": "ValueError",
                          "title": f"bad order {tag}", "count": 1, "first_seen_ns": at_ns, "last_seen_ns": at_ns}),
        ("error_group_users", {"group_id": gid, "user_id": user}),
        ("error_samples", {"event_id": f"ev-{tag}", "group_id": gid, "time_ns": at_ns, "severity": "error",
                           "source": "span", "message": "boom", "stack_trace": "", "user_id": user,
                           "context": json.dumps({"email": user})}),
        ("incidents", {"id": f"inc-{tag}", "dedup_key": f"d-{tag}", "title": "High latency", "severity": "critical",
                       "state": "resolved", "group_key": "g", "channels": "[]", "labels": "{}", "alerts": "[]",
                       "triggered_ns": at_ns, "acknowledged_ns": at_ns, "resolved_ns": at_ns, "updated_ns": at_ns}),
        ("incident_timeline", {"incident_id": f"inc-{tag}", "at_ns": at_ns, "actor": user, "action": "acknowledged"}),
        ("silences", {"id": f"sil-{tag}", "matchers": "[]", "starts_ns": at_ns, "ends_ns": at_ns + 1,
                      "created_by": user, "comment": "maintenance", "updated_ns": at_ns}),
        ("analytics_activity", {"day": at_ns // DAY_NS, "user_hash": pseudonym, "feature": f"checkout-{tag}",
                                "uses": 1, "first_ns": at_ns, "last_ns": at_ns, "sessions": 1}),
        ("analytics_steps", {"user_hash": pseudonym, "feature": "checkout", "at_ns": at_ns}),
        ("analytics_profiles", {"user_hash": pseudonym, "traits": "{}", "account": None, "updated_ns": at_ns}),
    ]  # fmt: skip
    for table, row in rows:
        if table == "analytics_profiles" and not profile:
            continue
        if insert(store, table, row):
            written.add(table)
    return written


def count(store: Store, table: str) -> int:
    assert isinstance(store, SqlStore)
    with store._transaction() as cur:
        if not store._table_exists(cur, table):
            return 0
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cur.fetchone()[0])


def audit_log(at_ns: int) -> LogRow:
    return LogRow(time_ns=at_ns, severity_number=9, body="order.refund order/1: success", event_name="ricecoder.audit",
                  attributes={"ricecoder.audit.seq": 1}, service_name="shop")  # fmt: skip
