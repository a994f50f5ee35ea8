"""``ricecoder-otel incidents list|show|ack|resolve|postmortem``: incidents in the store.

``ack`` and ``resolve`` also queue the acknowledgement / resolution for the PagerDuty and OpsGenie
channels that were told about the incident (the running service delivers them). No pipeline runs in
the command, so ``ack`` appends the ``incident.acknowledge`` audit record (actor: ``--actor``, else
the operator) to the configured audit journal itself; exit 1 when it could not be audited. ``postmortem``
writes Markdown, or JSON with ``--json``. Exit codes: 0 ok, 1 unknown or closed incident or store
problem, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ricecoder_otel.cli._util import print_json, printable
from ricecoder_otel.cli.alerts import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, table, with_store
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.duration import format_duration
from ricecoder_otel.store.sql import SqlStore

if TYPE_CHECKING:
    from ricecoder_otel.alerting.incidents.model import Incident


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="store location (default: store.location as the service resolves it)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = subparsers.add_parser("incidents", help="incidents: list, show, acknowledge, resolve, postmortem")
    sub = parser.add_subparsers(dest="incidents_command", metavar="ACTION")
    sub.required = True
    lst = sub.add_parser("list", parents=[common], help="recent incidents with MTTA and MTTR")
    lst.add_argument("--state", choices=("triggered", "acknowledged", "resolved"), action="append")
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(func=run_list)
    show = sub.add_parser("show", parents=[common], help="one incident and its timeline")
    show.add_argument("id")
    show.set_defaults(func=run_show)
    for verb, text in (("ack", "acknowledge"), ("resolve", "resolve")):
        act = sub.add_parser(verb, parents=[common], help=f"{text} an incident")
        act.add_argument("id")
        act.add_argument("--actor", "--by", dest="actor", default=None, help="who (default: the current user)")
        act.add_argument("--note", default="", help="note for the timeline and the paging service")
        act.set_defaults(func=run_act, verb=text)
    pm = sub.add_parser("postmortem", parents=[common], help="postmortem export (Markdown, or JSON with --json)")
    pm.add_argument("id")
    pm.set_defaults(func=run_postmortem)


def _time(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _span(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def run_list(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.incidents.api import list_incidents
    from ricecoder_otel.alerting.incidents.model import mean_times

    def work(store: SqlStore) -> int:
        incidents = list_incidents(store, args.state or (), args.limit)
        stats = mean_times(incidents)
        if args.json:
            print_json({"incidents": [i.to_json() for i in incidents], "statistics": stats})
            return EXIT_OK
        if not incidents:
            print("no incidents")
            return EXIT_OK
        print(table(("ID", "STATE", "SEVERITY", "TRIGGERED", "TTA", "TTR", "LEVEL", "TITLE"),
                    [(i.id, i.state, i.severity, _time(i.triggered_at), _span(i.time_to_acknowledge),
                      _span(i.time_to_resolve), str(i.level), i.title) for i in incidents]))  # fmt: skip
        print(f"\nMTTA {_span(stats['mtta_seconds'])}, MTTR {_span(stats['mttr_seconds'])} over {len(incidents)} "
              "incident(s)")  # fmt: skip
        return EXIT_OK

    return with_store(args, work)


def run_show(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.incidents.api import show

    def work(store: SqlStore) -> int:
        found = show(store, args.id)
        if found is None:
            print(f"ricecoder-otel incidents show: no incident {printable(args.id)}", file=sys.stderr)
            return EXIT_PROBLEM
        incident, timeline = found
        if args.json:
            print_json({"incident": incident.to_json(), "timeline": [e.to_json() for e in timeline]})
            return EXIT_OK
        print(f"{incident.id}  {incident.state}  {incident.severity}  {printable(incident.title)}")
        print(f"triggered {_time(incident.triggered_at)}, acknowledged {_time(incident.acknowledged_at)}, "
              f"resolved {_time(incident.resolved_at)}, escalation level {incident.level}\n")  # fmt: skip
        print(table(("TIME", "ACTOR", "ACTION", "CHANNEL", "DETAIL"),
                    [(_time(e.at), e.actor, e.action, e.channel,
                      ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))) for e in timeline]))  # fmt: skip
        return EXIT_OK

    return with_store(args, work)


def run_act(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.incidents import api
    from ricecoder_otel.alerting.incidents.manager import IncidentError

    try:
        config = load_config().alerting.incidents
    except ConfigError as error:
        print(f"ricecoder-otel incidents: {error}", file=sys.stderr)
        return EXIT_USAGE
    actor = args.actor or getpass.getuser()

    def work(store: SqlStore) -> int:
        act = api.acknowledge if args.verb == "acknowledge" else api.resolve
        try:
            incident = act(store, args.id, actor, note=args.note, config=config, now=time.time())
        except IncidentError as error:
            print(f"ricecoder-otel incidents: {error}", file=sys.stderr)
            return EXIT_PROBLEM
        if args.json:
            print_json(incident.to_json())
        else:
            print(f"incident {incident.id} {incident.state} by {printable(actor)}")
        if args.verb == "acknowledge" and not _audit_acknowledgement(incident, actor):
            return EXIT_PROBLEM
        return EXIT_OK

    return with_store(args, work, read_only=False)


def _audit_acknowledgement(incident: Incident, actor: str) -> bool:
    """Append ``incident.acknowledge`` (the same record the audit capability makes of the hub event) to the
    configured journal (nothing when the audit trail is off); False, with the reason on stderr, when not."""
    from ricecoder_otel.alerting.incidents.events import incident_event
    from ricecoder_otel.cli.compliance import record_from_cli

    details = incident_event(incident, "acknowledged", actor).attributes()
    return record_from_cli("incidents ack", "incident.acknowledge", incident.id, actor=actor, **details)


def run_postmortem(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.incidents.api import report
    from ricecoder_otel.alerting.incidents.postmortem import markdown

    def work(store: SqlStore) -> int:
        found = report(store, args.id)
        if found is None:
            print(f"ricecoder-otel incidents postmortem: no incident {printable(args.id)}", file=sys.stderr)
            return EXIT_PROBLEM
        if args.json:
            print_json(found)
        else:
            print(markdown(found), end="")
        return EXIT_OK

    return with_store(args, work)
