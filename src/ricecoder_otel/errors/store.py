"""Error groups in the store (migration 0005): what ``errors list|show|resolve`` read and write.

Several processes (gunicorn workers, earlier runs) share one store, so writes add to totals
instead of replacing them: a group's count grows by what each process counted since its last
write, first and last seen widen, users are a set. A regression reopens a group only if it was
not resolved again after the occurrence. Samples are trimmed to the latest
:data:`SAMPLES_KEPT` per group on every write.

Runs SQL through the SQL store's helpers; both dialects take the same statements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ricecoder_otel.errors.engine import ErrorGroup, Occurrence
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.errors import StoreError
from ricecoder_otel.store.sql import SqlStore, decode_json, encode_json

SAMPLES_KEPT = 20

_GROUP_COLUMNS = (
    "id, fingerprint, error_type, title, culprit, stack_trace, count, first_seen_ns, last_seen_ns, release,"
    " environment, service_name, status, resolved_at_ns"
)
_UPSERT = (
    f"INSERT INTO error_groups ({_GROUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unresolved', NULL)"
    " ON CONFLICT (id) DO UPDATE SET count = error_groups.count + excluded.count,"
    " first_seen_ns = CASE WHEN excluded.first_seen_ns < error_groups.first_seen_ns"
    " THEN excluded.first_seen_ns ELSE error_groups.first_seen_ns END,"
    " last_seen_ns = CASE WHEN excluded.last_seen_ns > error_groups.last_seen_ns"
    " THEN excluded.last_seen_ns ELSE error_groups.last_seen_ns END,"
    " release = COALESCE(excluded.release, error_groups.release),"
    " environment = COALESCE(excluded.environment, error_groups.environment)"
)
_SELECT_GROUPS = (
    f"SELECT {_GROUP_COLUMNS}, (SELECT COUNT(*) FROM error_group_users u WHERE u.group_id = error_groups.id) AS users"
)
_ADD_USER = "INSERT INTO error_group_users (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
_SAMPLE_COLUMNS = (
    "event_id, group_id, time_ns, severity, source, message, stack_trace, trace_id, span_id, user_id, session_id,"
    " context"
)


@dataclass(frozen=True)
class StoredSample:
    """One sample event of a group as stored."""

    event_id: str
    group_id: str
    time_ns: int
    severity: str
    source: str
    message: str
    stack_trace: str
    trace_id: str | None
    span_id: str | None
    user_id: str | None
    session_id: str | None
    context: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, group_id: str, occurrence: Occurrence) -> StoredSample:
        return cls(
            occurrence.event_id, group_id, int(occurrence.timestamp * 1e9), occurrence.severity, occurrence.source,
            occurrence.message, occurrence.stack_trace, occurrence.trace_id, occurrence.span_id, occurrence.user_id,
            occurrence.session_id, dict(occurrence.context),
        )  # fmt: skip


@dataclass(frozen=True)
class StoredGroup:
    """One group as stored, with its number of affected users."""

    id: str
    fingerprint: list[str]
    error_type: str
    title: str
    culprit: str
    stack_trace: str
    count: int
    first_seen_ns: int
    last_seen_ns: int
    release: str | None
    environment: str | None
    service_name: str
    status: str
    resolved_at_ns: int | None
    users: int = 0


class AmbiguousGroupId(StoreError):
    """A prefix matched more than one group."""


class ErrorStore:
    """Error-group queries over a SQL store (opened lazily through ``store``)."""

    def __init__(self, store: Store | Callable[[], Store]) -> None:
        self._get = store if callable(store) and not isinstance(store, Store) else (lambda: store)

    def _sql_store(self) -> SqlStore:
        store = self._get()
        if not isinstance(store, SqlStore):
            raise StoreError(f"store {store.display_location} does not hold error groups")
        return store

    # -- the tracker's writes -----------------------------------------------------------------

    def states(self, group_ids: Sequence[str]) -> list[ErrorGroup]:
        """The stored state of these groups (those that exist), as engine groups."""
        if not group_ids:
            return []
        store = self._sql_store()
        marks = ", ".join("?" * len(group_ids))
        with store._transaction() as cur:
            cur.execute(store._sql(f"SELECT {_GROUP_COLUMNS} FROM error_groups WHERE id IN ({marks})"), list(group_ids))
            rows = cur.fetchall()
        return [
            ErrorGroup(
                id=r[0], fingerprint=tuple(decode_json(r[1])), error_type=r[2], title=r[3], culprit=r[4],
                stack_trace=r[5], count=int(r[6]), first_seen=int(r[7]) / 1e9, last_seen=int(r[8]) / 1e9,
                release=r[9], environment=r[10], status=r[12],
                resolved_at=None if r[13] is None else int(r[13]) / 1e9,
            )
            for r in rows
        ]  # fmt: skip

    def write(
        self,
        pending: Sequence[tuple[ErrorGroup, int, set[str]]],
        samples: Sequence[StoredSample],
        regressions: Sequence[tuple[str, int]],
        *,
        service_name: str | None = None,
    ) -> None:
        """Add counts and users, reopen regressed groups, store samples and trim them; one transaction."""
        store = self._sql_store()
        groups = [
            (g.id, encode_json(list(g.fingerprint)), g.error_type, g.title, g.culprit, g.stack_trace, added,
             int(g.first_seen * 1e9), int(g.last_seen * 1e9), g.release, g.environment, service_name or "")
            for g, added, _ in pending
        ]  # fmt: skip
        users = [(g.id, user) for g, _, new_users in pending for user in sorted(new_users)]
        rows = [
            (s.event_id, s.group_id, s.time_ns, s.severity, s.source, s.message, s.stack_trace, s.trace_id, s.span_id,
             s.user_id, s.session_id, encode_json(s.context))
            for s in samples
        ]  # fmt: skip
        with store._transaction(write=True) as cur:
            if groups:
                cur.executemany(store._sql(_UPSERT), groups)
            if users:
                cur.executemany(store._sql(_ADD_USER), users)
            for gid, at_ns in regressions:
                cur.execute(
                    store._sql(
                        "UPDATE error_groups SET status = 'unresolved', resolved_at_ns = NULL"
                        " WHERE id = ? AND status = 'resolved' AND resolved_at_ns <= ?"
                    ),
                    [gid, at_ns],
                )
            if rows:
                cur.executemany(
                    store._sql(f"INSERT INTO error_samples ({_SAMPLE_COLUMNS}) VALUES ({', '.join('?' * 12)})"), rows
                )
                for gid in sorted({s.group_id for s in samples}):
                    cur.execute(
                        store._sql(
                            "DELETE FROM error_samples WHERE group_id = ? AND id NOT IN (SELECT id FROM error_samples"
                            " WHERE group_id = ? ORDER BY time_ns DESC, id DESC LIMIT ?)"
                        ),
                        [gid, gid, SAMPLES_KEPT],
                    )

    # -- the CLI's reads and writes -----------------------------------------------------------

    def list_groups(self, since_ns: int | None = None, limit: int = 50) -> list[StoredGroup]:
        """Groups last seen at or after ``since_ns``, most frequent first."""
        store = self._sql_store()
        statement = (
            f"{_SELECT_GROUPS} FROM error_groups WHERE last_seen_ns >= ?"
            " ORDER BY error_groups.count DESC, last_seen_ns DESC, id LIMIT ?"
        )
        with store._transaction() as cur:
            cur.execute(store._sql(statement), [since_ns if since_ns is not None else -(2**63), max(0, limit)])
            return [_group(r) for r in cur.fetchall()]

    def find(self, id_or_prefix: str) -> StoredGroup | None:
        """The group with this id, or the only one whose id starts with it (``AmbiguousGroupId`` if several)."""
        store = self._sql_store()
        statement = f"{_SELECT_GROUPS} FROM error_groups WHERE id = ? OR id LIKE ? ORDER BY id LIMIT 2"
        prefix = id_or_prefix.lower().replace("%", "").replace("_", "")
        if not prefix:
            return None
        with store._transaction() as cur:
            cur.execute(store._sql(statement), [id_or_prefix, prefix + "%"])
            rows = cur.fetchall()
        exact = [r for r in rows if r[0] == id_or_prefix]
        if exact:
            return _group(exact[0])
        if len(rows) > 1:
            raise AmbiguousGroupId(f"{id_or_prefix!r} matches more than one group; give more of the id")
        return _group(rows[0]) if rows else None

    def samples(self, group_id: str, limit: int = SAMPLES_KEPT) -> list[StoredSample]:
        """The latest sample events of a group, newest first."""
        store = self._sql_store()
        statement = (
            f"SELECT {_SAMPLE_COLUMNS} FROM error_samples WHERE group_id = ? ORDER BY time_ns DESC, id DESC LIMIT ?"
        )
        with store._transaction() as cur:
            cur.execute(store._sql(statement), [group_id, max(0, limit)])
            return [
                StoredSample(
                    event_id=r[0], group_id=r[1], time_ns=int(r[2]), severity=r[3], source=r[4], message=r[5],
                    stack_trace=r[6], trace_id=r[7], span_id=r[8], user_id=r[9], session_id=r[10],
                    context=decode_json(r[11]) or {},
                )
                for r in cur.fetchall()
            ]  # fmt: skip

    def resolve(self, group_id: str, at_ns: int) -> int:
        """Mark a group resolved; its next occurrence reopens it (a regression). Returns rows changed."""
        store = self._sql_store()
        with store._transaction(write=True) as cur:
            cur.execute(
                store._sql("UPDATE error_groups SET status = 'resolved', resolved_at_ns = ? WHERE id = ?"),
                [at_ns, group_id],
            )
            return max(0, int(cur.rowcount))


def _group(r: Any) -> StoredGroup:
    fingerprint = decode_json(r[1])
    return StoredGroup(
        id=r[0], fingerprint=[str(p) for p in fingerprint] if isinstance(fingerprint, list) else [],
        error_type=r[2], title=r[3], culprit=r[4], stack_trace=r[5], count=int(r[6]), first_seen_ns=int(r[7]),
        last_seen_ns=int(r[8]), release=r[9], environment=r[10], service_name=r[11], status=r[12],
        resolved_at_ns=None if r[13] is None else int(r[13]), users=int(r[14]),
    )  # fmt: skip
