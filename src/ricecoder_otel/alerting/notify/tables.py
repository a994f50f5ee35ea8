"""The notification tables (migration 0004): outbox, notification log, held alerts and silences.

Everything goes through the store's own transactions, so SQLite and PostgreSQL behave alike and
several replicas can share one PostgreSQL store: a delivery is claimed with a conditional update
(only one replica wins it) and a flush's outbox rows and log entries commit together.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.dispatcher import LogEntry
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.alerting.notify.silences import Silence
from ricecoder_otel.store.sql import SqlStore, decode_json, encode_json

NS = 1_000_000_000
_OUTBOX_COLUMNS = (
    "id, channel, action, group_key, incident_id, payload, state, attempts, next_attempt_ns, lease_until_ns,"
    " created_ns, updated_ns, last_status, last_error"
)


def to_ns(seconds: float) -> int:
    return round(seconds * NS)


_sequence = itertools.count()


def new_message_id() -> str:
    """A Standard Webhooks message id; it stays the same across retries (receivers dedup on it).

    Ids sort in creation order within a process (messages of one flush go out in order).
    """
    return f"msg_{time.time_ns():016x}{next(_sequence) % 0x10000:04x}{secrets.token_hex(4)}"


@dataclass(frozen=True)
class OutboxRow:
    id: str
    channel: str
    action: str
    group_key: str
    incident_id: str | None
    notification: Notification
    state: str
    attempts: int
    next_attempt_ns: int
    created_ns: int
    updated_ns: int
    last_status: int | None
    last_error: str

    def summary(self) -> dict[str, Any]:
        """What the CLI shows: no payload bodies, no channel settings (so no secrets)."""
        return {
            "id": self.id, "channel": self.channel, "action": self.action, "group_key": self.group_key,
            "state": self.state, "attempts": self.attempts, "status": self.notification.status,
            "title": self.notification.title(), "created_ns": self.created_ns, "updated_ns": self.updated_ns,
            "last_status": self.last_status, "last_error": self.last_error,
        }  # fmt: skip


@dataclass(frozen=True)
class NewMessage:
    channel: str
    notification: Notification
    id: str = ""


class NotifyTables:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    # -- outbox -------------------------------------------------------------------------------------
    def commit_flush(
        self,
        messages: Sequence[NewMessage],
        log: Sequence[tuple[str, LogEntry]] = (),
        forget: Iterable[str] = (),
        now: float = 0.0,
    ) -> list[str]:
        """Queue ``messages``, record the log entries and drop forgotten alerts, in one transaction."""
        now_ns = to_ns(now)
        ids: list[str] = []
        s = self.store
        with s._transaction(write=True) as cur:
            for message in messages:
                msg_id = message.id or new_message_id()
                n = message.notification
                cur.execute(
                    s._sql(f"INSERT INTO notify_outbox ({_OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?,"
                           " NULL, ?, ?, NULL, '')"),
                    (msg_id, message.channel, n.action, n.group_key, n.incident_id, encode_json(n.to_json()),
                     now_ns, now_ns, now_ns),
                )  # fmt: skip
                ids.append(msg_id)
            for key, entry in log:
                cur.execute(s._sql("DELETE FROM notify_log WHERE key = ?"), (key,))
                cur.execute(
                    s._sql("INSERT INTO notify_log (key, firing, resolved, sent_ns) VALUES (?, ?, ?, ?)"),
                    (key, encode_json(sorted(entry.firing)), encode_json(sorted(entry.resolved)), to_ns(entry.sent_at)),
                )
            for fp in forget:
                cur.execute(s._sql("DELETE FROM notify_alerts WHERE fingerprint = ?"), (fp,))
        return ids

    def due(self, now: float, limit: int = 20, exclude: Sequence[str] = ()) -> list[OutboxRow]:
        """Due messages (pending, or sending with an expired lease after a crash), oldest first."""
        now_ns = to_ns(now)
        s = self.store
        skip = f" AND channel NOT IN ({', '.join('?' * len(exclude))})" if exclude else ""
        with s._transaction() as cur:
            cur.execute(
                s._sql(f"SELECT {_OUTBOX_COLUMNS} FROM notify_outbox"
                       " WHERE ((state = 'pending' AND next_attempt_ns <= ?)"
                       f" OR (state = 'sending' AND lease_until_ns <= ?)){skip}"
                       " ORDER BY created_ns, id LIMIT ?"),
                (now_ns, now_ns, *exclude, limit),
            )  # fmt: skip
            return [_row(r) for r in cur.fetchall()]

    def claim(self, row: OutboxRow, now: float, lease: float) -> OutboxRow | None:
        """Mark ``row`` as being sent (one more attempt); None when another worker took it first."""
        now_ns = to_ns(now)
        s = self.store
        with s._transaction(write=True) as cur:
            cur.execute(
                s._sql("UPDATE notify_outbox SET state = 'sending', lease_until_ns = ?, attempts = attempts + 1,"
                       " updated_ns = ? WHERE id = ? AND state = ? AND attempts = ?"),
                (now_ns + to_ns(lease), now_ns, row.id, row.state, row.attempts),
            )  # fmt: skip
            won = cur.rowcount == 1
        return replace(row, state="sending", attempts=row.attempts + 1, updated_ns=now_ns) if won else None

    def finish(self, row: OutboxRow, state: str, now: float, status: int | None, error: str,
               next_attempt: float | None = None) -> None:  # fmt: skip
        """Record the outcome of one attempt: ``delivered``, ``pending`` (retry at ``next_attempt``) or ``dead``."""
        s = self.store
        next_ns = to_ns(next_attempt) if next_attempt is not None else row.next_attempt_ns
        with s._transaction(write=True) as cur:
            cur.execute(
                s._sql("UPDATE notify_outbox SET state = ?, next_attempt_ns = ?, lease_until_ns = NULL, updated_ns = ?,"
                       " last_status = ?, last_error = ? WHERE id = ?"),
                (state, next_ns, to_ns(now), status, error[:2000], row.id),
            )  # fmt: skip

    def rows(self, states: Sequence[str] = (), limit: int = 100) -> list[OutboxRow]:
        s = self.store
        where = f" WHERE state IN ({', '.join('?' * len(states))})" if states else ""
        with s._transaction() as cur:
            cur.execute(s._sql(f"SELECT {_OUTBOX_COLUMNS} FROM notify_outbox{where} ORDER BY updated_ns DESC, id"
                               " LIMIT ?"), (*states, limit))  # fmt: skip
            return [_row(r) for r in cur.fetchall()]

    def pending_count(self) -> int:
        s = self.store
        with s._transaction() as cur:
            cur.execute("SELECT COUNT(*) FROM notify_outbox WHERE state IN ('pending', 'sending')")
            return int(cur.fetchone()[0])

    # -- notification log ---------------------------------------------------------------------------
    def log_entry(self, key: str) -> LogEntry | None:
        s = self.store
        with s._transaction() as cur:
            cur.execute(s._sql("SELECT firing, resolved, sent_ns FROM notify_log WHERE key = ?"), (key,))
            row = cur.fetchone()
        if row is None:
            return None
        return LogEntry(frozenset(decode_json(row[0])), frozenset(decode_json(row[1])), int(row[2]) / NS)

    # -- alerts held by the dispatcher --------------------------------------------------------------
    def save_alert(self, alert: Alert, now: float) -> None:
        s = self.store
        with s._transaction(write=True) as cur:
            cur.execute(s._sql("DELETE FROM notify_alerts WHERE fingerprint = ?"), (alert.fingerprint,))
            cur.execute(
                s._sql("INSERT INTO notify_alerts (fingerprint, alert, updated_ns) VALUES (?, ?, ?)"),
                (alert.fingerprint, encode_json(alert.to_json()), to_ns(now)),
            )

    def alerts(self) -> list[Alert]:
        s = self.store
        with s._transaction() as cur:
            cur.execute("SELECT alert FROM notify_alerts ORDER BY fingerprint")
            return [Alert.from_json(decode_json(r[0])) for r in cur.fetchall()]

    # -- silences -----------------------------------------------------------------------------------
    def save_silence(self, silence: Silence) -> None:
        s = self.store
        data = silence.to_json()
        with s._transaction(write=True) as cur:
            cur.execute(s._sql("DELETE FROM silences WHERE id = ?"), (silence.id,))
            cur.execute(
                s._sql("INSERT INTO silences (id, matchers, starts_ns, ends_ns, created_by, comment, updated_ns)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)"),
                (silence.id, json.dumps(data["matchers"]), to_ns(silence.starts_at), to_ns(silence.ends_at),
                 silence.created_by, silence.comment, to_ns(silence.updated_at)),
            )  # fmt: skip

    def silences(self) -> list[Silence]:
        s = self.store
        with s._transaction() as cur:
            cur.execute("SELECT id, matchers, starts_ns, ends_ns, created_by, comment, updated_ns FROM silences"
                        " ORDER BY starts_ns, id")  # fmt: skip
            rows = cur.fetchall()
        return [
            Silence.from_json({"id": r[0], "matchers": decode_json(r[1]), "startsAt": int(r[2]) / NS,
                               "endsAt": int(r[3]) / NS, "createdBy": r[4], "comment": r[5],
                               "updatedAt": int(r[6]) / NS})
            for r in rows
        ]  # fmt: skip


def _row(r: Sequence[Any]) -> OutboxRow:
    return OutboxRow(
        id=r[0], channel=r[1], action=r[2], group_key=r[3], incident_id=r[4],
        notification=Notification.from_json(decode_json(r[5])), state=r[6], attempts=int(r[7]),
        next_attempt_ns=int(r[8]), created_ns=int(r[10]), updated_ns=int(r[11]),
        last_status=None if r[12] is None else int(r[12]), last_error=r[13] or "",
    )  # fmt: skip
