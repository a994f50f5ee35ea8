"""The evidence checks run over: the live configuration, the audit journal and the store.

Gathered once per report, each part independently: a part that cannot be read (no journal, no
store, a table not migrated) is ``None`` with the reason in ``problems``, and the checks that
need it report "not evaluated" instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ricecoder_otel.compliance.audit.engine import AuditError, iso_time
from ricecoder_otel.compliance.audit.journal import CHECKPOINTS, JOURNAL, load_key, read_checkpoints
from ricecoder_otel.compliance.audit.signing import SigningKey
from ricecoder_otel.compliance.audit.verify import VerifyResult, verify_journal
from ricecoder_otel.compliance.checks.endpoints import Endpoint, otlp_endpoints
from ricecoder_otel.compliance.checks.pii import PiiScan, scan_store, scanner
from ricecoder_otel.compliance.gdpr.breaches import Breach, BreachRegister
from ricecoder_otel.compliance.gdpr.requests import RequestError, RequestLog, SubjectRequest
from ricecoder_otel.compliance.retention.classes import DataClass, retention_periods
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.errors import StoreError
from ricecoder_otel.store.sql import SqlStore

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig


@dataclass(frozen=True)
class IncidentAck:
    id: str
    triggered_ns: int
    deadline_ns: int
    acknowledged_ns: int | None


@dataclass
class Evidence:
    config: MonitoringConfig
    start: float
    end: float
    endpoints: list[Endpoint]
    retention: dict[DataClass, timedelta]
    journal_dir: Path | None = None
    verify: VerifyResult | None = None
    last_checkpoint_ts: str | None = None
    """The newest signed checkpoint's time (ISO 8601, UTC)."""
    audit_records: list[dict[str, Any]] | None = None
    """Audit records with timestamps in [start, end)."""
    oldest_telemetry_ns: int | None = None
    store_available: bool = False
    requests: list[SubjectRequest] | None = None
    breaches: list[Breach] | None = None
    """Breaches the controller became aware of in the period, plus any not yet notified."""
    incidents: list[IncidentAck] | None = None
    pii: PiiScan | None = None
    """The redaction detectors over a recent sample of the period's stored telemetry."""
    problems: dict[str, str] = field(default_factory=dict)

    def records(self, action: str) -> list[dict[str, Any]]:
        return [r for r in self.audit_records or [] if r.get("action") == action]


def gather(
    config: MonitoringConfig,
    start: float,
    end: float,
    *,
    env: Mapping[str, str],
    store: Store | None,
    journal_dir: Path | None,
    key: bytes | None,
) -> Evidence:
    evidence = Evidence(config, start, end, otlp_endpoints(env), retention_periods(config), journal_dir)
    _audit(evidence, journal_dir, key)
    if store is None:
        evidence.problems["store"] = "no store given"
    else:
        _store(evidence, store)
        _pii(evidence, store)
    return evidence


def _pii(evidence: Evidence, store: Store) -> None:
    try:
        redactor = scanner(evidence.config.compliance.redaction)
        evidence.pii = scan_store(store, redactor, int(evidence.start * 1e9), int(evidence.end * 1e9))
    except (StoreError, ValueError) as error:
        evidence.problems["pii"] = str(error)


def _audit(evidence: Evidence, directory: Path | None, key: bytes | None) -> None:
    if directory is None or not (directory / JOURNAL).is_file():
        evidence.problems["audit"] = f"no audit journal at {directory}" if directory else "no audit journal configured"
        return
    try:
        secret = load_key(directory, key, create=False)
        pem = evidence.config.compliance.audit.signing_key
        public = None if pem is None else SigningKey.load(pem.get_secret_value()).public
        evidence.verify = verify_journal(directory, secret, public_key=public)
        checkpoints = read_checkpoints(directory / CHECKPOINTS)
    except AuditError as error:
        evidence.problems["audit"] = str(error)
        return
    if checkpoints:
        evidence.last_checkpoint_ts = checkpoints[-1].ts
    low, high = iso_time(evidence.start), iso_time(evidence.end)
    found: list[dict[str, Any]] = []
    with (directory / JOURNAL).open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            record = json.loads(line)
            if low <= str(record.get("ts", "")) < high:
                found.append(record)
    evidence.audit_records = found


def _store(evidence: Evidence, store: Store) -> None:
    if not isinstance(store, SqlStore):
        evidence.problems["store"] = f"not a SQL store ({type(store).__name__})"
        return
    try:
        with store._transaction() as cur:
            oldest: list[int] = []
            for table, column in (("spans", "start_ns"), ("metric_points", "time_ns"), ("logs", "time_ns")):
                extra = " WHERE event_name <> 'ricecoder.audit'" if table == "logs" else ""
                cur.execute(f"SELECT MIN({column}) FROM {table}{extra}")
                row = cur.fetchone()
                if row and row[0] is not None:
                    oldest.append(int(row[0]))
            evidence.oldest_telemetry_ns = min(oldest) if oldest else None
            if store._table_exists(cur, "incidents"):
                cur.execute(
                    store._sql(
                        "SELECT id, triggered_ns, ack_deadline_ns, acknowledged_ns FROM incidents"
                        " WHERE ack_deadline_ns IS NOT NULL AND triggered_ns >= ? AND triggered_ns < ?"
                    ),
                    (int(evidence.start * 1e9), int(evidence.end * 1e9)),
                )
                evidence.incidents = [
                    IncidentAck(str(r[0]), int(r[1]), int(r[2]), None if r[3] is None else int(r[3]))
                    for r in cur.fetchall()
                ]
            else:
                evidence.problems["incidents"] = "the store has no incidents table"
        evidence.store_available = True
        evidence.requests = RequestLog(store).list(since_ns=int(evidence.start * 1e9))
    except RequestError as error:
        evidence.problems["requests"] = str(error)
    except StoreError as error:
        evidence.problems["store"] = str(error)
        return
    try:
        register = BreachRegister(store, audit=lambda *args, **kwargs: None, clock=lambda: evidence.end)
        evidence.breaches = register.list(since_ns=int(evidence.start * 1e9))
    except (RequestError, StoreError) as error:
        evidence.problems["breaches"] = str(error)
