"""``ricecoder-otel compliance report``: evaluate the checks of a standard and write the report.

Exit 0 when the report is compliant or partial (some control could not be evaluated), 1 when
it is non-compliant, 2 for bad usage, an invalid configuration or a store that cannot be opened.
The helpers here (configuration, store, an audit trail outside the pipeline) are shared by the
``retention`` and ``gdpr`` commands.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ricecoder_otel.cli._util import printable, progress
from ricecoder_otel.compliance.audit.api import AuditTrail
from ricecoder_otel.compliance.audit.capability import journal_directory, open_journal, secret_bytes
from ricecoder_otel.compliance.reports.engine import STANDARDS, ComplianceEngine, ComplianceReport
from ricecoder_otel.compliance.reports.formats import FORMATS, render
from ricecoder_otel.config import ConfigError, MonitoringConfig, load_config
from ricecoder_otel.config.duration import parse_duration
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.store import StoreError, open_store
from ricecoder_otel.store.base import Store

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", metavar="LOCATION", help="SQLite path or postgresql:// URL (default: store.location as configured)"
    )


def load(command: str) -> MonitoringConfig | None:
    try:
        return load_config()
    except ConfigError as error:
        print(f"ricecoder-otel {command}: {printable(redact_dsn(str(error)))}", file=sys.stderr)
        return None


def open_configured_store(command: str, config: MonitoringConfig, explicit: str | None) -> Store | None:
    try:
        store = open_store(explicit or config.store.location, create=False)
        store.schema_version()  # connect and migrate now, so a bad location fails here
        return store
    except StoreError as error:
        print(f"ricecoder-otel {command}: {printable(redact_dsn(str(error)))}", file=sys.stderr)
        return None


def audit_function(config: MonitoringConfig) -> tuple[Any, AuditTrail | None]:
    """``audit(...)`` for work done outside the pipeline: the configured journal, or nothing when it is off."""
    if not (config.compliance.enabled and config.compliance.audit_enabled):
        return (lambda *args, **kwargs: None), None
    audit_config = config.compliance.audit
    trail = AuditTrail(lambda: open_journal(audit_config, time.time), clock=time.time,
                       pseudonymise=audit_config.pseudonymise_actors,
                       pseudonym_key=secret_bytes(audit_config.pseudonym_key))  # fmt: skip

    def record(
        action: str, resource: str, outcome: str = "success", *, actor: str | None = None, **details: Any
    ) -> Any:
        return trail.record(action, resource, outcome, actor=actor, trace_id="", span_id="", details=details)

    return record, trail


def record_from_cli(command: str, action: str, resource: str, *, actor: str | None, **details: Any) -> bool:
    """Append one record to the configured audit journal for a command run outside the pipeline
    (nothing when the audit trail is off); False, with the reason on stderr, when it was not audited."""
    from ricecoder_otel.compliance.audit.engine import AuditError

    try:
        record, trail = audit_function(load_config())
    except ConfigError as error:
        print(f"ricecoder-otel {command}: not audited: {redact_dsn(str(error))}", file=sys.stderr)
        return False
    try:
        record(action, resource, "success", actor=actor, **details)
    except AuditError as error:
        print(f"ricecoder-otel {command}: not audited: {printable(str(error))}", file=sys.stderr)
        return False
    finally:
        if trail is not None:
            trail.close()
    return True


@dataclass
class Session:
    """What a compliance command works with: the configuration, the store and ``audit(...)``."""

    config: MonitoringConfig
    store: Store
    audit: Any
    trail: AuditTrail | None

    def close(self) -> None:
        self.store.close()
        if self.trail is not None:
            self.trail.close()


def open_session(command: str, store_location: str | None, *, audited: bool = True) -> Session | None:
    """The configuration, the store (``--store`` or as configured) and, when ``audited``, the audit
    trail; None when one cannot be had (the reason is on stderr: the command exits 2)."""
    config = load(command)
    if config is None:
        return None
    store = open_configured_store(command, config, store_location)
    if store is None:
        return None
    audit, trail = audit_function(config) if audited else ((lambda *args, **kwargs: None), None)
    return Session(config, store, audit, trail)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("compliance", help="compliance reports: SOC 2, GDPR, HIPAA", description=__doc__)
    actions = parser.add_subparsers(dest="compliance_command", metavar="ACTION")
    actions.required = True
    report = actions.add_parser("report", help="evaluate a standard's checks over the configuration and evidence")
    report.add_argument("--standard", required=True, type=str.upper, choices=STANDARDS)
    report.add_argument("--since", default="30d", metavar="DURATION", help="the period: the last DURATION (30d)")
    report.add_argument("--format", choices=FORMATS, default=None, help="json, markdown, html or oscal")
    report.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of stdout")
    report.add_argument("--json", action="store_true", help="the report as JSON (same as --format json)")
    store_argument(report)
    report.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    try:
        period = parse_duration(args.since).total_seconds()
    except ValueError:
        print(f"ricecoder-otel compliance: --since {args.since!r}: expected a duration like 30d", file=sys.stderr)
        return EXIT_USAGE
    fmt = "json" if args.json else (args.format or "markdown")
    session = open_session("compliance", args.store, audited=False)
    if session is None:
        return EXIT_USAGE
    config, store = session.config, session.store
    audit = config.compliance.audit
    try:
        progress(f"evaluating {args.standard} checks over the last {args.since}")
        now = time.time()
        engine = ComplianceEngine(
            config, store=store, env=os.environ, journal_dir=journal_directory(audit),
            key=secret_bytes(audit.checkpoint_key),
        )  # fmt: skip
        report = engine.generate_compliance_report(args.standard, now - period, now)
    finally:
        session.close()
    text = render(report, fmt)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        progress(f"wrote {args.output}")
        print(_summary(report))
    else:
        sys.stdout.write(text)
    return EXIT_PROBLEM if report.status == "non_compliant" else EXIT_OK


def _summary(report: ComplianceReport) -> str:
    lines = [f"{report.standard}: {report.status}"]
    lines += [f"  {c.id:<16} {c.status}" for c in report.controls]
    return printable("\n".join(lines))
