"""The tamper-evident audit trail: ``audit()``, its fsynced hash-chained journal, checkpoints, verification."""

from ricecoder_otel.compliance.audit.api import AuditTrail, audit, audit_async
from ricecoder_otel.compliance.audit.engine import AuditError, AuditRecord
from ricecoder_otel.compliance.audit.journal import AuditJournal
from ricecoder_otel.compliance.audit.verify import VerifyResult, WrongKeyError, verify_journal

__all__ = [
    "AuditError",
    "AuditJournal",
    "AuditRecord",
    "AuditTrail",
    "VerifyResult",
    "WrongKeyError",
    "audit",
    "audit_async",
    "verify_journal",
]
