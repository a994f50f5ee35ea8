"""Firing alerts in the store (table ``alert_state``, migration 0003), read back after a restart.

Only transitions write: an upsert when an instance fires, a delete when it resolves, so the
evaluation loop does no I/O while nothing changes. Pending alerts are not kept: after a
restart their ``for`` starts over (Prometheus does the same beyond its outage tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass

from ricecoder_otel.alerting.state import Instance
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.sql import SqlStore, decode_json, encode_json


@dataclass(frozen=True)
class SavedAlert:
    rule: str
    fingerprint: str
    instance: Instance


class AlertStateStore:
    """Reads and writes ``alert_state`` through a SQL store's transactions."""

    def __init__(self, store: Store) -> None:
        if not isinstance(store, SqlStore):
            raise TypeError(f"alert state needs a SQL store, got {type(store).__name__}")
        self.store = store

    def fired(self, rule: str, fingerprint: str, instance: Instance, now: float) -> None:
        statement = (
            "INSERT INTO alert_state (rule, fingerprint, labels, active_at, fired_at, value, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule, fingerprint) DO UPDATE SET"
            " labels = excluded.labels, active_at = excluded.active_at, fired_at = excluded.fired_at,"
            " value = excluded.value, updated_at = excluded.updated_at"
        )
        row = (rule, fingerprint, encode_json(instance.labels), instance.active_at,
               instance.fired_at if instance.fired_at is not None else now, _finite(instance.value), now)  # fmt: skip
        with self.store._transaction(write=True) as cur:
            cur.execute(self.store._sql(statement), row)

    def resolved(self, rule: str, fingerprint: str) -> None:
        with self.store._transaction(write=True) as cur:
            cur.execute(self.store._sql("DELETE FROM alert_state WHERE rule = ? AND fingerprint = ?"),
                        (rule, fingerprint))  # fmt: skip

    def forget_rules_except(self, rules: set[str]) -> None:
        """Drop the rows of rules that no longer exist."""
        with self.store._transaction(write=True) as cur:
            cur.execute("SELECT DISTINCT rule FROM alert_state")
            gone = [r[0] for r in cur.fetchall() if r[0] not in rules]
            for rule in gone:
                cur.execute(self.store._sql("DELETE FROM alert_state WHERE rule = ?"), (rule,))

    def load(self) -> list[SavedAlert]:
        with self.store._transaction() as cur:
            cur.execute("SELECT rule, fingerprint, labels, active_at, fired_at, value FROM alert_state"
                        " ORDER BY rule, fingerprint")  # fmt: skip
            rows = cur.fetchall()
        saved: list[SavedAlert] = []
        for rule, fp, labels, active_at, fired_at, value in rows:
            last = float(value) if value is not None else 0.0
            instance = Instance(dict(decode_json(labels)), float(active_at), "firing", last, float(fired_at))
            saved.append(SavedAlert(rule, fp, instance))
        return saved


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None
