"""``ricecoder-otel alerts list|test|silence|dead-letters``: alerts, silences and failed deliveries.

Reads and writes the store the service uses (``--store``, else ``store.location`` as the service
resolves it). Exit codes: 0 ok, 1 a problem found (a channel refused the test, dead letters
exist, the store cannot be used), 2 bad usage or configuration. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ricecoder_otel.cli._util import print_json, printable
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.duration import parse_duration
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.store import StoreError, open_store
from ricecoder_otel.store.sql import SqlStore

if TYPE_CHECKING:
    from ricecoder_otel.alerting.notify.silences import Silence

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="store location (default: store.location as the service resolves it)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = subparsers.add_parser("alerts", help="alerts, test notifications, silences and dead letters")
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", parents=[common], help="alerts the notifier holds now").set_defaults(func=run_list)
    test = sub.add_parser("test", parents=[common], help="send a test notification to one channel")
    test.add_argument("channel", help="channel name from alerting.channels")
    test.set_defaults(func=run_test)
    dead = sub.add_parser("dead-letters", parents=[common], help="notifications given up after the last attempt")
    dead.add_argument("--limit", type=int, default=100)
    dead.set_defaults(func=run_dead_letters)
    silence = sub.add_parser("silence", help="add, list or expire silences")
    ssub = silence.add_subparsers(dest="silence_command", metavar="ACTION")
    ssub.required = True
    add = ssub.add_parser("add", parents=[common], help="silence alerts matching all MATCHERS")
    add.add_argument("matchers", nargs="+", help='Alertmanager matchers: name=value, name!=value, name=~"re"')
    add.add_argument("--duration", default="1h", help="how long from now (default 1h), e.g. 30m, 2h")
    add.add_argument("--author", required=True, help="who silences (createdBy)")
    add.add_argument("--comment", required=True, help="why")
    add.set_defaults(func=run_silence_add)
    lst = ssub.add_parser("list", parents=[common], help="silences (expired ones only with --all)")
    lst.add_argument("--all", action="store_true", help="include expired silences")
    lst.set_defaults(func=run_silence_list)
    expire = ssub.add_parser("expire", parents=[common], help="end a silence now")
    expire.add_argument("id")
    expire.set_defaults(func=run_silence_expire)


def _time(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(headers), *[[printable(str(c)) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)


def with_store(args: argparse.Namespace, work: Callable[[SqlStore], int], *, read_only: bool = True) -> int:
    """Open the configured store, run ``work``; store and config problems become exit codes."""
    try:
        location = args.store or load_config().store.location
    except ConfigError as error:
        print(f"ricecoder-otel: {redact_dsn(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = open_store(location, read_only=read_only)
        try:
            assert isinstance(store, SqlStore)
            return work(store)
        finally:
            store.close()
    except StoreError as error:
        print(f"ricecoder-otel: {printable(redact_dsn(str(error)))}", file=sys.stderr)
        return EXIT_PROBLEM


def run_list(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.notify.api import active_alerts

    def work(store: SqlStore) -> int:
        alerts = active_alerts(store)
        if args.json:
            print_json({"alerts": [{**a.to_v4(), "value": a.value} for a in alerts]})
        elif not alerts:
            print("no alerts")
        else:
            rows = [(a.name, a.status, a.labels.get("severity", ""), _time(a.starts_at), a.fingerprint,
                     ", ".join(f"{k}={v}" for k, v in sorted(a.labels.items()) if k not in ("alertname", "severity")))
                    for a in alerts]  # fmt: skip
            print(table(("ALERT", "STATUS", "SEVERITY", "SINCE", "FINGERPRINT", "LABELS"), rows))
        return EXIT_OK

    return with_store(args, work)


def run_test(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.notify.api import send_test

    try:
        config = load_config().alerting
    except ConfigError as error:
        print(f"ricecoder-otel alerts test: {redact_dsn(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = send_test(config, args.channel)
    except KeyError as error:
        print(f"ricecoder-otel alerts test: {error.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    answer = {"channel": args.channel, "ok": result.ok, "status": result.status, "detail": result.detail,
              "response": result.response, "retryable": result.retryable,
              "retry_after": result.retry_after}  # fmt: skip
    if args.json:
        print_json(answer)
    else:
        verdict = "delivered" if result.ok else "refused"
        print(f"{args.channel}: {verdict} ({printable(result.detail)})")
        if result.response:
            print(f"receiver answered: {printable(result.response)}")
    return EXIT_OK if result.ok else EXIT_PROBLEM


def run_dead_letters(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.notify.api import dead_letters

    def work(store: SqlStore) -> int:
        rows = dead_letters(store, args.limit)
        if args.json:
            print_json({"dead_letters": [r.summary() for r in rows]})
        elif not rows:
            print("no dead letters")
        else:
            print(table(("ID", "CHANNEL", "ACTION", "ATTEMPTS", "STATUS", "TITLE", "LAST ERROR"),
                        [(r.id, r.channel, r.action, str(r.attempts), str(r.last_status or "-"), r.notification.title(),
                          r.last_error) for r in rows]))  # fmt: skip
        return EXIT_PROBLEM if rows else EXIT_OK

    return with_store(args, work)


def run_silence_add(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.notify.api import add_silence
    from ricecoder_otel.alerting.notify.silences import SilenceError

    try:
        duration = parse_duration(args.duration).total_seconds()
    except ValueError as error:
        print(f"ricecoder-otel alerts silence add: --duration: {error}", file=sys.stderr)
        return EXIT_USAGE

    def work(store: SqlStore) -> int:
        now = time.time()
        try:
            silence = add_silence(store, args.matchers, ends_at=now + duration, created_by=args.author,
                                  comment=args.comment, now=now)  # fmt: skip
        except SilenceError as error:
            print(f"ricecoder-otel alerts silence add: {error}", file=sys.stderr)
            return EXIT_USAGE
        if args.json:
            print_json(silence.to_json(now))
        else:
            print(f"silence {silence.id} active until {_time(silence.ends_at)}")
        return EXIT_OK if _audit_silence("add", silence, "added", now) else EXIT_PROBLEM

    return with_store(args, work, read_only=False)


def run_silence_list(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.notify.api import list_silences

    def work(store: SqlStore) -> int:
        now = time.time()
        silences = [s for s in list_silences(store) if args.all or s.state(now) != "expired"]
        if args.json:
            print_json({"silences": [s.to_json(now) for s in silences]})
        elif not silences:
            print("no silences")
        else:
            print(table(("ID", "STATE", "MATCHERS", "STARTS", "ENDS", "BY", "COMMENT"),
                        [(s.id, s.state(now), " ".join(str(m) for m in s.matchers), _time(s.starts_at),
                          _time(s.ends_at), s.created_by, s.comment) for s in silences]))  # fmt: skip
        return EXIT_OK

    return with_store(args, work)


def run_silence_expire(args: argparse.Namespace) -> int:
    from ricecoder_otel.alerting.notify.api import expire_silence
    from ricecoder_otel.alerting.notify.silences import SilenceError

    def work(store: SqlStore) -> int:
        try:
            silence = expire_silence(store, args.id)
        except SilenceError as error:
            print(f"ricecoder-otel alerts silence expire: {error}", file=sys.stderr)
            return EXIT_PROBLEM
        if args.json:
            print_json(silence.to_json(time.time()))
        else:
            print(f"silence {silence.id} expired")
        return EXIT_OK if _audit_silence("expire", silence, "expired", time.time()) else EXIT_PROBLEM

    return with_store(args, work, read_only=False)


def _audit_silence(command: str, silence: Silence, change: str, now: float) -> bool:
    """Append ``alert.silence.add|expire`` to the configured audit journal (nothing when the audit trail
    is off); False, with the reason on stderr, when the change could not be audited."""
    import getpass

    from ricecoder_otel.alerting.notify.api import silence_event
    from ricecoder_otel.cli.compliance import record_from_cli
    from ricecoder_otel.compliance.audit.capability import silence_action, silence_details

    event = silence_event(silence, change, now)
    action, actor = silence_action(event)
    if actor is None:
        try:
            actor = getpass.getuser()  # the operator who ran the command
        except (OSError, KeyError):
            actor = None
    return record_from_cli(f"alerts silence {command}", action, silence.id, actor=actor, **silence_details(event))
