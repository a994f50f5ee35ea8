"""``audit(action, resource, outcome, actor=..., **details)``: record one audited operation.

The record is durable in the local journal (fsynced) before the call returns, then exported
as a ``ricecoder.audit`` log record. The current span's trace and span ids are attached, so a
finding links straight to its trace. Actors are pseudonymised with a keyed hash when
``compliance.audit.pseudonymise_actors`` is on.

The running pipeline's audit capability registers its trail here (the one module global: an
application calls ``audit()`` without holding a pipeline). With the audit trail off, ``audit()``
records nothing and returns None; when the journal cannot record, it raises
:class:`~ricecoder_otel.compliance.audit.engine.AuditError`, so an operation that must not go
unaudited can refuse to proceed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from opentelemetry import trace

from ricecoder_otel.compliance.audit.engine import AuditRecord, record_fields
from ricecoder_otel.compliance.audit.journal import AuditJournal
from ricecoder_otel.compliance.audit.subject_keys import DIRECTORY as KEYS_DIRECTORY
from ricecoder_otel.compliance.audit.subject_keys import SubjectKeys, subject_ref

Clock = Callable[[], float]
Emit = Callable[[AuditRecord], None]

ANONYMOUS = "anonymous"
"""The actor of an audited request that named no user (not a person: never pseudonymised)."""


class Entry(NamedTuple):
    """One record to append with :meth:`AuditTrail.record_many` (the actor not yet pseudonymised)."""

    action: str
    resource: str
    outcome: str
    actor: str | None
    trace_id: str
    span_id: str
    details: Mapping[str, Any]


class AuditTrail:
    """A journal plus what happens around an append: pseudonyms, trace context, export.

    The journal opens on the first record (``open_journal`` is called once), so a process that
    audits nothing touches no disk.
    """

    def __init__(
        self,
        open_journal: Callable[[], AuditJournal],
        *,
        clock: Clock,
        emit: Emit | None = None,
        pseudonymise: bool = False,
        pseudonym_key: bytes | None = None,
    ) -> None:
        self._open_journal = open_journal
        self._journal: AuditJournal | None = None
        self._open_lock = threading.Lock()
        self.clock = clock
        self.emit = emit
        self.pseudonymise = pseudonymise
        self.pseudonym_key = pseudonym_key

    @property
    def journal(self) -> AuditJournal:
        """The journal, opened now if this is the first use (raises AuditError when it cannot be)."""
        if self._journal is None:
            with self._open_lock:
                if self._journal is None:
                    self._journal = self._open_journal()
        return self._journal

    @property
    def opened(self) -> AuditJournal | None:
        """The journal if it has been opened, without opening it."""
        return self._journal

    def record(
        self,
        action: str,
        resource: str,
        outcome: str = "success",
        *,
        actor: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        subject: str | None = None,
        personal: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one record (durable on return) and hand it to the exporter.

        With ``subject`` (a data subject's id), the record names them only by a pseudonym under
        their own key and seals ``personal`` with it (:mod:`.subject_keys`): erasing the subject
        destroys the key, and with it every link from the journal and the exports to them.
        """
        journal = self.journal
        record = journal.append(
            self._entry_fields(journal, action, resource, outcome, actor, trace_id, span_id, details, subject, personal)
        )
        if self.emit is not None:
            self.emit(record)
        return record

    async def record_async(
        self,
        action: str,
        resource: str,
        outcome: str = "success",
        *,
        actor: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        subject: str | None = None,
        personal: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """:meth:`record` for asyncio code: returns once the record is durable, without holding a
        thread while it waits (:meth:`AuditJournal.append_async`: concurrent coroutines share
        group commits and a group wakes its event loop once)."""
        journal = self.journal
        record = await journal.append_async(
            self._entry_fields(journal, action, resource, outcome, actor, trace_id, span_id, details, subject, personal)
        )
        if self.emit is not None:
            self.emit(record)
        return record

    def _entry_fields(
        self,
        journal: AuditJournal,
        action: str,
        resource: str,
        outcome: str,
        actor: str | None,
        trace_id: str | None,
        span_id: str | None,
        details: Mapping[str, Any] | None,
        subject: str | None,
        personal: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The fields of one :meth:`record`/:meth:`record_async` call: the current trace when none is
        given, and a subject's pseudonym and sealed personal fields."""
        if trace_id is None and span_id is None:
            trace_id, span_id = current_trace_ids()
        if subject is not None:
            details = {**(details or {}), **self._about(journal, subject, personal)}
        elif personal:
            raise ValueError("audit personal fields need the subject they belong to (subject=...)")
        return self._fields(journal, action, resource, outcome, actor, trace_id or "", span_id or "", details)

    def record_many(self, entries: Sequence[Entry]) -> list[AuditRecord]:
        """Append ``entries`` in order with one group commit (durable on return), then export them.

        For a background writer draining a queue: one fsync for the batch instead of one per record.
        """
        journal = self.journal
        batch = [self._fields(journal, *entry) for entry in entries]
        records = journal.append_many(batch)
        if self.emit is not None:
            for record in records:
                self.emit(record)
        return records

    def _fields(
        self,
        journal: AuditJournal,
        action: str,
        resource: str,
        outcome: str,
        actor: str | None,
        trace_id: str,
        span_id: str,
        details: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        who = actor if actor is not None else "system"
        if self.pseudonymise and actor is not None and actor != ANONYMOUS:
            who = journal.signer.pseudonym(actor, self.pseudonym_key)
        return record_fields(
            ts=self.clock(),
            actor=who,
            action=action,
            resource=resource,
            outcome=outcome,
            trace_id=trace_id,
            span_id=span_id,
            details=details,
        )

    @staticmethod
    def _about(journal: AuditJournal, subject: str, personal: Mapping[str, Any] | None) -> dict[str, Any]:
        key = SubjectKeys(journal.directory / KEYS_DIRECTORY).get_or_create(subject_ref(subject))
        about: dict[str, Any] = {"subject": key.pseudonym(subject), "subject_key": key.key_id}
        if personal:
            about["sealed"] = key.seal(personal)
        return about

    def close(self) -> None:
        with self._open_lock:
            if self._journal is not None:
                self._journal.close()


def current_trace_ids() -> tuple[str, str]:
    """The current span's ids as hex, or empty strings outside a span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return "", ""
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


_active: AuditTrail | None = None
_active_lock = threading.Lock()


def set_active(trail: AuditTrail | None) -> None:
    """Make ``trail`` the one ``audit()`` writes to (None: the audit trail is off)."""
    global _active
    with _active_lock:
        _active = trail


def deactivate(trail: AuditTrail | None) -> None:
    """Turn ``audit()`` off if ``trail`` is the active one (another pipeline's trail stays)."""
    global _active
    with _active_lock:
        if _active is trail:
            _active = None


def active() -> AuditTrail | None:
    return _active


def audit(
    action: str,
    resource: str,
    outcome: str = "success",
    *,
    actor: str | None = None,
    subject: str | None = None,
    personal: Mapping[str, Any] | None = None,
    **details: Any,
) -> AuditRecord | None:
    """Record ``actor`` doing ``action`` on ``resource`` with ``outcome``; durable on return.

    ``subject`` and ``personal``: the data subject the operation concerned and fields about them,
    pseudonymised and sealed under the subject's own key (crypto-shredded on erasure).
    Returns the record (sequence number, hashes), or None when the audit trail is off.
    """
    trail = _active
    if trail is None:
        return None
    return trail.record(action, resource, outcome, actor=actor, details=details, subject=subject, personal=personal)


async def audit_async(
    action: str,
    resource: str,
    outcome: str = "success",
    *,
    actor: str | None = None,
    subject: str | None = None,
    personal: Mapping[str, Any] | None = None,
    **details: Any,
) -> AuditRecord | None:
    """``await audit_async(...)``: :func:`audit` for asyncio code, durable on return the same way;
    waiting coroutines hold no thread and share group commits."""
    trail = _active
    if trail is None:
        return None
    return await trail.record_async(
        action, resource, outcome, actor=actor, details=details, subject=subject, personal=personal
    )
