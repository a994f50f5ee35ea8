"""``ricecoder-otel retention run``: enforce every data class's retention now, each purge audited.

Exit 0 when every class was enforced, 1 when a class failed (its rows are kept and the reason
printed), 2 for an invalid configuration or a store that cannot be opened. ``--dry-run``
counts what would go and changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ricecoder_otel.cli._util import print_json, printable, progress
from ricecoder_otel.cli.compliance import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, open_session, store_argument
from ricecoder_otel.compliance.retention.classes import retention_periods
from ricecoder_otel.compliance.retention.engine import RetentionEngine, RetentionRun


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("retention", help="retention per data class: run", description=__doc__)
    actions = parser.add_subparsers(dest="retention_command", metavar="ACTION")
    actions.required = True
    run = actions.add_parser("run", help="purge what is past its retention now (audited)")
    run.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    store_argument(run)
    run.set_defaults(func=run_retention)


def run_retention(args: argparse.Namespace) -> int:
    session = open_session("retention", args.store)
    if session is None:
        return EXIT_USAGE
    try:
        progress("enforcing retention" + (" (dry run)" if args.dry_run else ""))
        engine = RetentionEngine(session.store, session.audit, time.time)
        result = engine.run(retention_periods(session.config), dry_run=args.dry_run)
    finally:
        session.close()
    if args.json:
        print_json({**result.to_json(), "dry_run": args.dry_run})
    else:
        print(_table(result, args.dry_run))
    for purge in result.classes:
        if purge.error:
            print(f"ricecoder-otel retention: {purge.data_class}: {printable(purge.error)}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_PROBLEM


def _table(run: RetentionRun, dry_run: bool) -> str:
    verb = "would delete" if dry_run else "deleted"
    lines = [f"{'class':<10} {'keep (days)':>12} {verb:>13}  tables"]
    for purge in run.classes:
        tables = ", ".join(f"{t}={n}" for t, n in purge.deleted.items() if n) or "-"
        if purge.error:
            tables = f"FAILED: {purge.error}"
        lines.append(f"{purge.data_class:<10} {purge.retention_days:>12g} {purge.rows:>13}  {tables}")
    if run.audit_seq is not None:
        lines.append(f"audited as record {run.audit_seq}")
    return printable("\n".join(lines))
