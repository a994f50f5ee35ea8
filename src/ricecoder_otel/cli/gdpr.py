"""``ricecoder-otel gdpr erase|export|requests|ropa|breach``: subject rights over the store.

``erase SUBJECT`` deletes every stored row holding the subject's id (raw, JSON-escaped, or its
pseudonyms under the configured keys, plus ``--pseudonym`` values) and records the request as
completed, destroying the subject's audit key (crypto-shredding the pseudonyms and sealed fields
of audit records made with ``subject=``); ``export SUBJECT`` writes everything held about the
subject as JSON, sealed audit fields opened; ``requests``
lists requests with their one-month deadlines (exit 1 when one is late); ``ropa`` prints the
record of processing activities generated from the configuration; ``breach record|notify|list``
keeps the Art. 33 breach register (``list`` exits 1 when a breach was not notified within 72
hours without reasons, or is incompletely documented). Subject ids are never printed back or
written to the audit trail (requests keep a reference, ``subject_ref``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ricecoder_otel.cli._util import print_json, printable, progress
from ricecoder_otel.cli.compliance import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, load, open_session, store_argument
from ricecoder_otel.compliance.audit.capability import journal_directory
from ricecoder_otel.compliance.audit.engine import AuditError
from ricecoder_otel.compliance.audit.subject_keys import DIRECTORY as KEYS_DIRECTORY
from ricecoder_otel.compliance.audit.subject_keys import SubjectKeys
from ricecoder_otel.compliance.gdpr.breaches import BreachRegister
from ricecoder_otel.compliance.gdpr.requests import RequestError, RequestLog
from ricecoder_otel.compliance.gdpr.ropa import record_of_processing
from ricecoder_otel.compliance.gdpr.scan import count_rows
from ricecoder_otel.compliance.gdpr.service import access_export, erase
from ricecoder_otel.compliance.gdpr.subjects import SubjectError, subject
from ricecoder_otel.store import StoreError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("gdpr", help="subject rights: erase, export, requests, ropa", description=__doc__)
    actions = parser.add_subparsers(dest="gdpr_command", metavar="ACTION")
    actions.required = True
    for name, helptext in (("erase", "delete every stored row holding a subject"),
                           ("export", "everything held about a subject, as JSON")):  # fmt: skip
        action = actions.add_parser(name, help=helptext)
        action.add_argument("subject", help="the subject's id (user id, email, ...)")
        action.add_argument("--pseudonym", action="append", default=[], metavar="VALUE",
                            help="another stored form of the subject's id (repeatable)")  # fmt: skip
        action.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        store_argument(action)
        if name == "erase":
            action.add_argument("--dry-run", action="store_true", help="count the rows; delete nothing")
            action.set_defaults(func=run_erase)
        else:
            action.add_argument("--output", type=Path, metavar="FILE", help="write the export here")
            action.set_defaults(func=run_export)
    requests = actions.add_parser("requests", help="subject requests and their deadlines")
    requests.add_argument("--extend", metavar="ID", help="extend request ID to three months (Art. 12(3))")
    requests.add_argument("--reason", default="", help="why the extension is needed (told to the subject)")
    requests.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    store_argument(requests)
    requests.set_defaults(func=run_requests)
    _register_breach(actions)
    ropa = actions.add_parser("ropa", help="record of processing activities from the live configuration")
    ropa.add_argument("--json", action="store_true", help="print JSON instead of text")
    ropa.set_defaults(func=run_ropa)


def _fail(message: str, code: int = EXIT_PROBLEM) -> int:
    print(f"ricecoder-otel gdpr: {printable(message)}", file=sys.stderr)
    return code


def run_erase(args: argparse.Namespace) -> int:
    session = open_session("gdpr", args.store)
    if session is None:
        return EXIT_USAGE
    config, store, audit = session.config, session.store, session.audit
    try:
        who = subject(args.subject, config, tuple(args.pseudonym))
        if args.dry_run:
            counts = count_rows(store, who)
            result: dict[str, Any] = {"subject_ref": who.ref, "dry_run": True, "rows": counts}
        else:
            progress("erasing the subject from every table")
            keys = SubjectKeys(journal_directory(config.compliance.audit) / KEYS_DIRECTORY)
            done = erase(store, who, audit=audit, clock=time.time, keys=keys)
            result = {
                "subject_ref": who.ref,
                "dry_run": False,
                "request": done.request.to_json(time.time_ns()),
                "rows": done.deleted,
                "audit_seq": done.audit_seq,
                "audit_key_shredded": done.key_shredded,
            }
    except SubjectError as error:
        return _fail(str(error), EXIT_USAGE)
    except (RequestError, AuditError, StoreError) as error:
        return _fail(f"nothing erased: {error}")
    finally:
        session.close()
    if args.json:
        print_json(result)
    else:
        verb = "would delete" if args.dry_run else "deleted"
        rows: dict[str, int] = result["rows"]
        lines = [f"subject {who.ref[:16]}: {verb} {sum(rows.values())} rows"]
        if result.get("audit_key_shredded"):
            lines.append("  audit key destroyed: the subject's audit pseudonyms and sealed fields are unlinkable")
        lines += [f"  {table:<24} {n}" for table, n in sorted(rows.items())]
        print(printable("\n".join(lines)))
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    session = open_session("gdpr", args.store)
    if session is None:
        return EXIT_USAGE
    config, store, audit = session.config, session.store, session.audit
    try:
        who = subject(args.subject, config, tuple(args.pseudonym))
        data = access_export(
            store, who, audit=audit, clock=time.time, journal=journal_directory(config.compliance.audit)
        )
    except SubjectError as error:
        return _fail(str(error), EXIT_USAGE)
    except (AuditError, StoreError) as error:
        return _fail(f"nothing exported: {error}")
    finally:
        session.close()
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    if args.output:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        summary = {table: len(rows) for table, rows in data["tables"].items()}
        if args.json:
            print_json({"output": str(args.output), "rows": summary, "audit_records": len(data["audit_records"])})
        else:
            print(f"wrote {args.output}: " + (", ".join(f"{t}={n}" for t, n in summary.items()) or "no rows"))
    else:
        sys.stdout.write(text)
    return EXIT_OK


def run_requests(args: argparse.Namespace) -> int:
    session = open_session("gdpr", args.store, audited=False)
    if session is None:
        return EXIT_USAGE
    try:
        log = RequestLog(session.store)
        if args.extend:
            if not args.reason.strip():
                return _fail("--extend needs --reason (the subject must be told why)", EXIT_USAGE)
            log.extend(args.extend, args.reason)
        found = log.list()
    except (RequestError, StoreError) as error:
        return _fail(str(error))
    finally:
        session.close()
    now = time.time_ns()
    late = [r for r in found if not r.on_time(now)]
    if args.json:
        print_json({"requests": [r.to_json(now) for r in found], "late": len(late)})
    else:
        lines = [f"{'id':<36}  {'kind':<8} {'state':<9} {'received':<20} {'due':<20} on time"]
        for r in found:
            data = r.to_json(now)
            lines.append(
                f"{r.id:<36}  {r.kind:<8} {r.state:<9} {data['received']:<20} {data['due']:<20} "
                f"{'yes' if data['on_time'] else 'LATE'}"
            )
        print(printable("\n".join(lines)))
    return EXIT_PROBLEM if late else EXIT_OK


def _register_breach(actions: Any) -> None:
    parser = actions.add_parser("breach", help="the Art. 33 breach register: record, notify, list")
    steps = parser.add_subparsers(dest="breach_command", metavar="STEP")
    steps.required = True
    record = steps.add_parser("record", help="document a personal data breach (Art. 33(3) content)")
    record.add_argument("--aware-at", default="", metavar="TIME", help="ISO 8601 time of awareness (default: now)")
    described = (
        ("nature", "what happened"), ("categories", "categories of subjects and records"),
        ("contact", "the data protection officer or other contact point"),
        ("consequences", "the likely consequences"), ("measures", "measures taken or proposed"),
    )  # fmt: skip
    for name, helptext in described:
        record.add_argument(f"--{name}", required=True, help=helptext)
    record.add_argument("--subjects", type=int, required=True, metavar="N", help="approximate number of subjects")
    record.add_argument("--records", type=int, required=True, metavar="N", help="approximate number of records")
    notify = steps.add_parser("notify", help="record the notification to the supervisory authority")
    notify.add_argument("id", help="the breach's id")
    notify.add_argument("--at", default="", metavar="TIME", help="ISO 8601 time of notification (default: now)")
    notify.add_argument("--reason", default="", help="reasons for a delay past 72 hours (then required)")
    listing = steps.add_parser("list", help="breaches with their 72-hour deadlines")
    for step in (record, notify, listing):
        step.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        store_argument(step)
        step.set_defaults(func=run_breach)


def _moment(text: str) -> float:
    if not text:
        return time.time()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time (2026-12-01T09:30:00Z)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def run_breach(args: argparse.Namespace) -> int:
    session = open_session("gdpr", args.store, audited=args.breach_command != "list")
    if session is None:
        return EXIT_USAGE
    register = BreachRegister(session.store, audit=session.audit, clock=time.time)
    try:
        if args.breach_command == "record":
            found = [register.record(aware_s=_moment(args.aware_at), nature=args.nature, categories=args.categories,
                                     subjects_approx=args.subjects, records_approx=args.records, contact=args.contact,
                                     consequences=args.consequences, measures=args.measures)]  # fmt: skip
        elif args.breach_command == "notify":
            found = [register.notify(args.id, at_s=_moment(args.at), reason=args.reason)]
        else:
            found = register.list()
    except ValueError as error:
        return _fail(str(error), EXIT_USAGE)
    except (RequestError, AuditError, StoreError) as error:
        return _fail(str(error))
    finally:
        session.close()
    now = time.time_ns()
    problems = [b for b in found if not b.on_time(now) or b.missing()]
    if args.json:
        print_json({"breaches": [b.to_json(now) for b in found], "problems": len(problems)})
    else:
        lines = [f"{'id':<36}  {'aware':<20} {'deadline':<20} {'notified':<20} on time"]
        for breach in found:
            data = breach.to_json(now)
            lines.append(f"{breach.id:<36}  {data['aware']:<20} {data['deadline']:<20} {data['notified'] or '-':<20} "
                         f"{'yes' if data['on_time'] else 'LATE'}")  # fmt: skip
        print(printable("\n".join(lines)))
    return EXIT_PROBLEM if args.breach_command == "list" and problems else EXIT_OK


def run_ropa(args: argparse.Namespace) -> int:
    config = load("gdpr")
    if config is None:
        return EXIT_USAGE
    record = record_of_processing(config, os.environ)
    if args.json:
        print_json(record)
        return EXIT_OK
    lines = [f"Record of processing activities: {record['controller']}", ""]
    for activity in record["activities"]:
        lines.append(f"{activity['data_class']}: {activity['purpose']}")
        lines.append(f"  personal data: {activity['personal_data']}")
        lines.append(f"  erased after: {activity['time_limit_for_erasure_days']:g} days")
    lines += ["", "Recipients:", *(f"  {r}" for r in record["activities"][0]["recipients"])]
    lines += ["", "Security measures:", *(f"  {m}" for m in record["security_measures"])]
    print(printable("\n".join(lines)))
    return EXIT_OK
