"""The incident tables (migration 0004): incidents and their append-only timeline."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from ricecoder_otel.alerting.incidents.model import Incident, TimelineEntry
from ricecoder_otel.alerting.notify.tables import NS, to_ns
from ricecoder_otel.store.sql import Cursor, SqlStore, decode_json, encode_json

_COLUMNS = (
    "id, dedup_key, title, severity, state, group_key, channels, labels, alerts, level, loops, next_escalation_ns,"
    " ack_deadline_ns, triggered_ns, acknowledged_ns, resolved_ns, updated_ns"
)


def _ns(value: float | None) -> int | None:
    return None if value is None else to_ns(value)


def _s(value: Any) -> float | None:
    return None if value is None else int(value) / NS


def new_incident_id() -> str:
    return "inc_" + secrets.token_hex(6)


class IncidentTables:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def save(self, incident: Incident, entries: Sequence[TimelineEntry] = ()) -> None:
        """Insert or update ``incident`` and append ``entries`` to its timeline, in one transaction."""
        s = self.store
        i = incident
        row = (i.id, i.dedup_key, i.title, i.severity, i.state, i.group_key, encode_json(i.channels),
               encode_json(i.labels), encode_json(i.alerts), i.level, i.loops, _ns(i.next_escalation),
               _ns(i.ack_deadline), to_ns(i.triggered_at), _ns(i.acknowledged_at), _ns(i.resolved_at),
               to_ns(i.updated_at))  # fmt: skip
        with s._transaction(write=True) as cur:
            cur.execute(s._sql("DELETE FROM incidents WHERE id = ?"), (i.id,))
            cur.execute(s._sql(f"INSERT INTO incidents ({_COLUMNS}) VALUES ({', '.join('?' * len(row))})"), row)
            for e in entries:
                self._append(cur, i.id, e)

    def _append(self, cur: Cursor, incident_id: str, e: TimelineEntry) -> None:
        cur.execute(
            self.store._sql("INSERT INTO incident_timeline (incident_id, at_ns, actor, action, channel, detail)"
                            " VALUES (?, ?, ?, ?, ?, ?)"),
            (incident_id, to_ns(e.at), e.actor, e.action, e.channel, encode_json(e.detail)),
        )  # fmt: skip

    def append(self, incident_id: str, entry: TimelineEntry) -> None:
        with self.store._transaction(write=True) as cur:
            self._append(cur, incident_id, entry)

    def get(self, incident_id: str) -> Incident | None:
        found = self._query("WHERE id = ?", (incident_id,))
        return found[0] if found else None

    def open_for(self, dedup_key: str) -> Incident | None:
        found = self._query("WHERE dedup_key = ? AND state != 'resolved' ORDER BY triggered_ns DESC", (dedup_key,))
        return found[0] if found else None

    def find(self, states: Sequence[str] = (), limit: int = 100) -> list[Incident]:
        where = f"WHERE state IN ({', '.join('?' * len(states))}) " if states else ""
        return self._query(f"{where}ORDER BY triggered_ns DESC, id LIMIT ?", (*states, limit))

    def due(self, now: float) -> list[Incident]:
        """Open incidents whose escalation or acknowledgement timer has run out."""
        n = to_ns(now)
        return self._query(
            "WHERE (state = 'triggered' AND next_escalation_ns IS NOT NULL AND next_escalation_ns <= ?)"
            " OR (state = 'acknowledged' AND ack_deadline_ns IS NOT NULL AND ack_deadline_ns <= ?)"
            " ORDER BY triggered_ns", (n, n))  # fmt: skip

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        s = self.store
        with s._transaction() as cur:
            cur.execute(s._sql("SELECT at_ns, actor, action, channel, detail FROM incident_timeline"
                               " WHERE incident_id = ? ORDER BY id"), (incident_id,))  # fmt: skip
            return [TimelineEntry(int(r[0]) / NS, r[1], r[2], r[3], decode_json(r[4]) or {}) for r in cur.fetchall()]

    def _query(self, tail: str, params: Sequence[Any]) -> list[Incident]:
        s = self.store
        with s._transaction() as cur:
            cur.execute(s._sql(f"SELECT {_COLUMNS} FROM incidents {tail}"), tuple(params))
            rows = cur.fetchall()
        return [
            Incident(
                id=r[0], dedup_key=r[1], title=r[2], severity=r[3], state=r[4], group_key=r[5],
                channels=decode_json(r[6]), labels=decode_json(r[7]), alerts=decode_json(r[8]), level=int(r[9]),
                loops=int(r[10]), next_escalation=_s(r[11]), ack_deadline=_s(r[12]), triggered_at=int(r[13]) / NS,
                acknowledged_at=_s(r[14]), resolved_at=_s(r[15]), updated_at=int(r[16]) / NS,
            )
            for r in rows
        ]  # fmt: skip
