"""The audit trail as a capability: ``audit()`` goes to its journal, and so do configuration changes.

On when ``compliance.enabled`` and ``compliance.audit_enabled`` are both true. The journal opens
on the first record (a process that audits nothing touches no disk). Automatic records come
from the event hub: every accepted or rejected configuration change (:class:`ConfigChanged`)
and every incident acknowledgement (``ricecoder.incident`` events whose change is
``acknowledged``, matched by name so the audit trail does not depend on the alerting code), every
alert silence added or expired (:class:`SilenceChanged`), and
from spans: a span that ``compliance.audit.operations`` tags ``phi`` or ``admin`` (a span hook,
switched on only while there are patterns) is queued for :class:`~.operations.AuditWriter`,
whose thread appends it, so the application never waits for an fsync. A background thread signs
checkpoints at ``compliance.audit.checkpoint_interval`` even when no new record arrives to
trigger one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ricecoder_otel.compliance.audit.api import AuditTrail, deactivate, set_active
from ricecoder_otel.compliance.audit.engine import AuditError, CheckpointPolicy, iso_time
from ricecoder_otel.compliance.audit.journal import AuditJournal
from ricecoder_otel.compliance.audit.operations import AuditWriter, OperationMatcher
from ricecoder_otel.compliance.audit.otel import AuditLogEmitter, span_entry
from ricecoder_otel.compliance.audit.signing import SigningKey
from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.events import ConfigChanged, Event, SilenceChanged, Subscription
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.span_hooks import SpanHook, SpanHooks

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import AuditConfig
    from ricecoder_otel.kernel.capability import Clock

_ACKNOWLEDGED = ("ricecoder.incident", "acknowledged")


def journal_directory(config: AuditConfig) -> Path:
    """``compliance.audit.path``, else ``ricecoder-otel/audit`` in the user's data directory."""
    if config.path:
        return Path(config.path).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(data_home) / "ricecoder-otel" / "audit"


def secret_bytes(value: Any) -> bytes | None:
    return None if value is None else str(value.get_secret_value()).encode()


def signing_key(config: AuditConfig) -> SigningKey | None:
    """The configured Ed25519 signing key (raises AuditError when it is not one)."""
    pem = secret_bytes(config.signing_key)
    return None if pem is None else SigningKey.load(pem)


def open_journal(config: AuditConfig, clock: Clock) -> AuditJournal:
    """The journal ``config`` describes (created if absent)."""
    policy = CheckpointPolicy(config.checkpoint_records, config.checkpoint_interval.total_seconds())
    return AuditJournal(
        journal_directory(config),
        key=secret_bytes(config.checkpoint_key),
        clock=clock,
        policy=policy,
        signing_key=signing_key(config),
    )


def make_trail(config: AuditConfig, clock: Clock, emitter: AuditLogEmitter) -> AuditTrail:
    """The trail for ``config``; its journal opens on the first record."""
    return AuditTrail(
        lambda: open_journal(config, clock),
        clock=clock,
        emit=emitter.emit,
        pseudonymise=config.pseudonymise_actors,
        pseudonym_key=secret_bytes(config.pseudonym_key),
    )


def silence_action(event: SilenceChanged) -> tuple[str, str | None]:
    """``alert.silence.add`` by its author, or ``alert.silence.expire`` (whoever expired it is not known here)."""
    if event.change == "added":
        return "alert.silence.add", event.created_by or None
    return "alert.silence.expire", None


def silence_details(event: SilenceChanged) -> dict[str, Any]:
    """What an auditor needs of a silence: what it mutes, who set it, why, and its window."""
    return {
        "matchers": list(event.matchers),
        "created_by": event.created_by,
        "comment": event.comment,
        "starts_at": iso_time(event.starts_at),
        "ends_at": iso_time(event.ends_at),
    }


class AuditCapability(Capability):
    name = "audit"
    section = "compliance"

    def __init__(self) -> None:
        self.trail: AuditTrail | None = None
        self._emitter: AuditLogEmitter | None = None
        self._clock: Clock | None = None
        self._subscriptions: list[Subscription[Any]] = []
        self._on = False
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._hooks: SpanHooks | None = None
        self._hook: SpanHook | None = None
        self._matcher = OperationMatcher(())
        self.writer = AuditWriter(lambda: self.trail, 1)

    def enabled_in(self, config: MonitoringConfig) -> bool:
        return super().enabled_in(config) and config.compliance.audit_enabled

    def install(self, context: InstallContext) -> None:
        self._clock = context.clock
        self._emitter = AuditLogEmitter(context.logger_provider, context.hub)
        self.trail = make_trail(context.config.compliance.audit, context.clock, self._emitter)
        self._hooks = context.span_hooks
        context.self_telemetry.register_queue("audit", self.writer.pending)
        self._configure_operations(context.config.compliance.audit)
        self._subscriptions = [
            context.hub.subscribe(ConfigChanged, self._on_config_changed, name="audit.config"),
            context.hub.subscribe(Event, self._on_event, name="audit.events"),
        ]

    # -- automatic records --------------------------------------------------------------------

    def _on_config_changed(self, event: ConfigChanged) -> None:
        # The change that switched the audit trail off is itself recorded.
        if not self._on and not any(p.startswith(("compliance", "enabled")) for p in event.changed_paths):
            return
        self._record(
            "config.change",
            event.source or "configuration",
            "success" if event.accepted else "rejected",
            {"changed_paths": list(event.changed_paths), "problems": list(event.problems)},
        )

    def _on_event(self, event: Event) -> None:
        if self._on and isinstance(event, SilenceChanged):
            action, actor = silence_action(event)
            self._record(action, event.silence_id or "silence", "success", silence_details(event), actor=actor)
        elif self._on and (event.event_name, getattr(event, "change", None)) == _ACKNOWLEDGED:
            attributes = dict(event.attributes())
            self._record(
                "incident.acknowledge",
                str(attributes.get("ricecoder.incident.id", "")) or "incident",
                "success",
                attributes,
                actor=getattr(event, "actor", None),
            )

    def _on_span_end(self, span: ReadableSpan) -> None:
        entry = span_entry(span, self._matcher)
        if entry is not None:
            self.writer.offer(entry)

    def _configure_operations(self, config: AuditConfig) -> None:
        """Compile ``operations``; the hook sees SERVER spans only unless span names are matched too."""
        matcher = OperationMatcher(config.operations)
        self._matcher = matcher
        self.writer.capacity = config.operations_queue
        hook = SpanHook("audit", on_end=self._on_span_end, server_only=not matcher.names) if matcher else None
        if hook != self._hook:
            self._switch_hook(False)
            self._hook = hook
        self._switch_hook(self._on)

    def _switch_hook(self, on: bool) -> None:
        if self._hook is not None and self._hooks is not None:
            self._hooks.switch(self._hook, on)
        if on and self._hook is not None:
            self.writer.start()

    def _record(
        self, action: str, resource: str, outcome: str, details: dict[str, Any], *, actor: str | None = None
    ) -> None:
        trail = self.trail
        if trail is None:
            return
        try:
            trail.record(action, resource, outcome, actor=actor, trace_id="", span_id="", details=details)
        except AuditError as error:
            SELF_TELEMETRY.count_drop("audit")
            report_once("audit", "audit record for %s not written: %s", action, error)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._on = True
        set_active(self.trail)
        self._switch_hook(True)
        self._halt.clear()
        self._thread = threading.Thread(target=self._sign_loop, name="ricecoder-audit-checkpoints", daemon=True)
        self._thread.start()

    def _sign_loop(self) -> None:
        while not self._halt.wait(1.0):
            self._sign(force=False)

    def _sign(self, *, force: bool) -> None:
        journal = self.trail.opened if self.trail is not None else None
        if journal is None:
            return
        try:
            journal.checkpoint_if_due(force=force)
        except (OSError, AuditError) as error:
            SELF_TELEMETRY.count_error("audit.checkpoint")
            report_once("audit", "audit checkpoint not written: %s", error)

    def stop(self) -> None:
        self._on = False
        self._switch_hook(False)
        self.writer.stop()  # what the application had audited is appended before the trail goes off
        deactivate(self.trail)
        self._halt.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._sign(force=True)

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        if old.compliance.audit == new.compliance.audit or self._emitter is None or self._clock is None:
            return
        previous = self.trail
        self.writer.flush()  # queued entries go to the journal they were audited under
        self.trail = make_trail(new.compliance.audit, self._clock, self._emitter)
        self._configure_operations(new.compliance.audit)
        if self._on:
            set_active(self.trail)
        if previous is not None:
            deactivate(previous)
            previous.close()

    def after_fork(self) -> None:
        journal = self.trail.opened if self.trail is not None else None
        if journal is not None:
            journal.after_fork()
        self.writer.after_fork()
        if self._on:
            self._halt.clear()
            self._thread = threading.Thread(target=self._sign_loop, name="ricecoder-audit-checkpoints", daemon=True)
            self._thread.start()

    def shutdown(self) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()
        if self.trail is not None:
            self.trail.close()
