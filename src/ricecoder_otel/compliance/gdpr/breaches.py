"""The personal data breach register (GDPR Art. 33): notification within 72 hours, documented.

A breach is recorded with the moment the controller became aware of it and the minimum content
of Art. 33(3): its nature, the categories and approximate numbers of subjects and records, a
contact point, the likely consequences and the measures taken. Notifying the supervisory
authority is recorded with its time; a notification later than 72 hours after awareness must
carry the reasons for the delay (Art. 33(1)). Every entry is audited. The register is table
``gdpr_breaches`` (store migration 0008).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ricecoder_otel.compliance.gdpr.requests import RequestError
from ricecoder_otel.compliance.gdpr.scan import sql_store
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.sql import Cursor

NOTIFY_WITHIN_NS = 72 * 3600 * 1_000_000_000
"""Art. 33(1): "not later than 72 hours after having become aware of it"."""

REQUIRED = ("nature", "categories", "contact", "consequences", "measures")
"""Art. 33(3)(a)-(d): what a notification must at least describe."""

_COLUMNS = (
    "id, aware_ns, recorded_ns, notified_ns, nature, categories, subjects_approx, records_approx, contact, "
    "consequences, measures, delay_reason"
)
AuditFn = Callable[..., Any]


@dataclass(frozen=True)
class Breach:
    id: str
    aware_ns: int
    recorded_ns: int
    notified_ns: int | None
    nature: str
    categories: str
    subjects_approx: int
    records_approx: int
    contact: str
    consequences: str
    measures: str
    delay_reason: str = ""

    @property
    def deadline_ns(self) -> int:
        return self.aware_ns + NOTIFY_WITHIN_NS

    def on_time(self, now_ns: int) -> bool:
        """Notified within 72 hours, or later with reasons, or not yet notified with time left."""
        if self.notified_ns is None:
            return now_ns <= self.deadline_ns
        return self.notified_ns <= self.deadline_ns or bool(self.delay_reason.strip())

    def missing(self) -> list[str]:
        """The Art. 33(3) items not described."""
        absent = [name for name in REQUIRED if not str(getattr(self, name)).strip()]
        return absent + (["approximate numbers"] if self.subjects_approx < 0 or self.records_approx < 0 else [])

    def to_json(self, now_ns: int) -> dict[str, Any]:
        notified = self.notified_ns
        return {
            "id": self.id,
            "aware": _iso(self.aware_ns),
            "deadline": _iso(self.deadline_ns),
            "notified": None if notified is None else _iso(notified),
            "hours_to_notification": None if notified is None else round((notified - self.aware_ns) / 3.6e12, 2),
            "on_time": self.on_time(now_ns),
            "missing": self.missing(),
            "nature": self.nature,
            "categories": self.categories,
            "subjects_approx": self.subjects_approx,
            "records_approx": self.records_approx,
            "contact": self.contact,
            "consequences": self.consequences,
            "measures": self.measures,
            "delay_reason": self.delay_reason,
        }


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class BreachRegister:
    """``gdpr_breaches`` through the SQL store's helpers; every change is audited in its transaction."""

    def __init__(self, store: Store, *, audit: AuditFn, clock: Callable[[], float]) -> None:
        self.store = sql_store(store)
        self.audit = audit
        self.clock = clock

    def record(
        self,
        *,
        aware_s: float,
        nature: str,
        categories: str,
        subjects_approx: int,
        records_approx: int,
        contact: str,
        consequences: str,
        measures: str,
        actor: str | None = None,
    ) -> Breach:
        """Document a breach; raises ValueError naming what Art. 33(3) content is missing."""
        breach = Breach(str(uuid.uuid4()), int(aware_s * 1e9), int(self.clock() * 1e9), None, nature.strip(),
                        categories.strip(), subjects_approx, records_approx, contact.strip(), consequences.strip(),
                        measures.strip())  # fmt: skip
        missing = breach.missing()
        if missing:
            raise ValueError("a breach record needs " + ", ".join(missing) + " (GDPR Art. 33(3))")
        if breach.aware_ns > breach.recorded_ns:
            raise ValueError("the moment of awareness is in the future")
        with self.store._transaction(write=True) as cur:
            self._require(cur)
            cur.execute(
                self.store._sql(f"INSERT INTO gdpr_breaches ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                (breach.id, breach.aware_ns, breach.recorded_ns, None, breach.nature, breach.categories,
                 subjects_approx, records_approx, breach.contact, breach.consequences, breach.measures, ""),
            )  # fmt: skip
            self.audit(
                "gdpr.breach.record", f"breach/{breach.id}", "success", actor=actor, aware=_iso(breach.aware_ns),
                subjects_approx=subjects_approx, records_approx=records_approx,
            )  # fmt: skip
        return breach

    def notify(self, breach_id: str, *, at_s: float, reason: str = "", actor: str | None = None) -> Breach:
        """Record the notification to the supervisory authority; past 72 hours it needs ``reason``."""
        with self.store._transaction(write=True) as cur:
            self._require(cur)
            found = self._get(cur, breach_id)
            if found.notified_ns is not None:
                raise RequestError(f"breach {breach_id} was already notified at {_iso(found.notified_ns)}")
            at_ns = int(at_s * 1e9)
            if at_ns < found.aware_ns:
                raise ValueError("a notification cannot precede the moment of awareness")
            if at_ns > found.deadline_ns and not reason.strip():
                raise ValueError(
                    f"notified {(at_ns - found.aware_ns) / 3.6e12:.1f} hours after awareness: past 72 hours the "
                    "reasons for the delay must accompany the notification (GDPR Art. 33(1)); give --reason"
                )
            cur.execute(
                self.store._sql("UPDATE gdpr_breaches SET notified_ns = ?, delay_reason = ? WHERE id = ?"),
                (at_ns, reason.strip(), breach_id),
            )
            hours = round((at_ns - found.aware_ns) / 3.6e12, 2)
            self.audit("gdpr.breach.notify", f"breach/{breach_id}", "success", actor=actor,
                       hours_after_awareness=hours, late=at_ns > found.deadline_ns)  # fmt: skip
            return self._get(cur, breach_id)

    def list(self, since_ns: int | None = None) -> list[Breach]:
        """Breaches the controller became aware of since ``since_ns``, plus every one not yet notified."""
        with self.store._transaction() as cur:
            self._require(cur)
            cur.execute(
                self.store._sql(
                    f"SELECT {_COLUMNS} FROM gdpr_breaches WHERE aware_ns >= ? OR notified_ns IS NULL ORDER BY aware_ns"
                ),
                (since_ns if since_ns is not None else -(2**63),),
            )
            return [_row(row) for row in cur.fetchall()]

    def _require(self, cur: Cursor) -> None:
        if not self.store._table_exists(cur, "gdpr_breaches"):
            raise RequestError("this store has no gdpr_breaches table (migration 0008 not applied)")

    def _get(self, cur: Cursor, breach_id: str) -> Breach:
        cur.execute(self.store._sql(f"SELECT {_COLUMNS} FROM gdpr_breaches WHERE id = ?"), (breach_id,))
        row = cur.fetchone()
        if row is None:
            raise RequestError(f"no breach {breach_id}")
        return _row(row)


def _row(row: Any) -> Breach:
    notified = None if row[3] is None else int(row[3])
    text = [str(value) for value in row]
    return Breach(text[0], int(row[1]), int(row[2]), notified, text[4], text[5], int(row[6]), int(row[7]), text[8],
                  text[9], text[10], text[11])  # fmt: skip
