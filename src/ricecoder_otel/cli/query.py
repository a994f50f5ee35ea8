"""``ricecoder-otel query spans|metrics|logs``: read recent telemetry from the store.

The store is the one the service writes to: ``--store``, else ``store.location`` from the
configuration exactly as the service loads it (``RICECODER_CONFIG_FILE``, ``RICECODER_*``
variables). It is opened read-only, so a store on a full or read-only disk stays readable.
Exit codes: 0 rows printed (or none found), 1 the store cannot be read, 2 bad arguments or an
invalid configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ricecoder_otel.cli._util import print_json, printable
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.duration import format_duration, parse_duration
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.store import StoreError, open_store
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.records import LogRow, MetricPoint, SpanRecord

EXIT_OK = 0
EXIT_STORE = 1
EXIT_USAGE = 2
NOUNS = {
    "spans": ("span", "spans"),
    "metrics": ("metric point", "metric points"),
    "logs": ("log record", "log records"),
}
SEVERITIES = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "warning": 13, "error": 17, "fatal": 21}
_MAX_CELL = 60


def since_argument(text: str) -> int:
    """``--since 10m`` -> nanoseconds; argparse turns the error into a usage message (exit 2)."""
    try:
        delta = parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration like 10m, got {text!r}") from None
    return round(delta.total_seconds() * 1e9)


def severity_argument(text: str) -> int:
    if text.isdigit() and 1 <= int(text) <= 24:
        return int(text)
    if text.lower() in SEVERITIES:
        return SEVERITIES[text.lower()]
    raise argparse.ArgumentTypeError(f"expected a severity name ({', '.join(SEVERITIES)}) or 1-24, got {text!r}")


def positive_int(text: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--since", type=since_argument, metavar="DURATION", help="only the last DURATION (10m, 2h, 1d)")
    common.add_argument("--limit", type=positive_int, default=50, metavar="N", help="at most N rows (default 50)")
    common.add_argument(
        "--store",
        metavar="LOCATION",
        help="SQLite path, postgresql:// URL or keyword DSN (default: store.location as the service resolves "
        "it: $RICECODER_STORE__LOCATION, $RICECODER_STORE_PATH, $RICECODER_STORE_DSN, the file in "
        "$RICECODER_CONFIG_FILE, then the user's data directory)",
    )
    common.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    parser = subparsers.add_parser(
        "query",
        help="show recent spans, metric points or logs from the store",
        description="Read what the local exporters stored, newest first.",
    )
    kinds = parser.add_subparsers(dest="query_kind", metavar="KIND")
    kinds.required = True
    spans = kinds.add_parser("spans", parents=[common], help="finished spans", description="Finished spans.")
    spans.add_argument("--name", help="only spans with this name")
    spans.add_argument("--trace-id", help="only spans of this trace (32 hex digits)")
    spans.set_defaults(func=run, fetch=_fetch_spans, render=_span_table)
    metrics = kinds.add_parser("metrics", parents=[common], help="metric points", description="Metric points.")
    metrics.add_argument("--name", help="only points of this metric")
    metrics.set_defaults(func=run, fetch=_fetch_metrics, render=_metric_table)
    logs = kinds.add_parser("logs", parents=[common], help="log records and events", description="Log records.")
    logs.add_argument("--min-severity", type=severity_argument, metavar="LEVEL", help="e.g. warn, error or 17")
    logs.add_argument("--event", metavar="NAME", help="only events called NAME (e.g. ricecoder.alert)")
    logs.set_defaults(func=run, fetch=_fetch_logs, render=_log_table)


def _fetch_spans(store: Store, args: argparse.Namespace, since_ns: int | None) -> Sequence[SpanRecord]:
    return store.query_spans(since_ns=since_ns, name=args.name, trace_id=args.trace_id, limit=args.limit)


def _fetch_metrics(store: Store, args: argparse.Namespace, since_ns: int | None) -> Sequence[MetricPoint]:
    return store.query_metrics(since_ns=since_ns, name=args.name, limit=args.limit)


def _fetch_logs(store: Store, args: argparse.Namespace, since_ns: int | None) -> Sequence[LogRow]:
    return store.query_logs(since_ns=since_ns, min_severity=args.min_severity, limit=args.limit, event_name=args.event)


def store_location(explicit: str | None) -> str | None:
    """``--store``, else the configured ``store.location`` (None: the default data directory).

    Loaded with ``load_config`` like the running service, so the file, ``RICECODER_*`` variables
    and their precedence agree; raises ``ConfigError`` for an invalid configuration.
    """
    if explicit:
        return explicit
    return load_config().store.location


def run(args: argparse.Namespace, now_ns: Callable[[], int] = time.time_ns) -> int:
    since_ns = None if args.since is None else now_ns() - args.since
    try:
        location = store_location(args.store)
    except ConfigError as error:
        print(f"ricecoder-otel query: {redact_dsn(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = open_store(location, read_only=True)  # None: the default location
        try:
            rows = args.fetch(store, args, since_ns)
        finally:
            store.close()
    except StoreError as error:
        print(f"ricecoder-otel query: {printable(redact_dsn(str(error)))}", file=sys.stderr)
        return EXIT_STORE
    kind = args.query_kind
    if args.json:
        print_json({"store": store.display_location, "since_ns": since_ns, kind: [dataclasses.asdict(r) for r in rows]})
        return EXIT_OK
    window = f" in the last {format_duration_ns(args.since)}" if args.since is not None else ""
    one, many = NOUNS[kind]
    where = printable(store.display_location)
    if not rows:
        print(f"no {many}{window} in {where}")
        return EXIT_OK
    print(_table(*args.render(rows)))
    print(f"\n{len(rows)} {one if len(rows) == 1 else many}{window}, newest first, from {where}")
    return EXIT_OK


def format_duration_ns(ns: int) -> str:
    return format_duration(timedelta(microseconds=ns / 1000))


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _attributes(attributes: dict[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in sorted(attributes.items()))


def _span_table(rows: Sequence[SpanRecord]) -> tuple[list[str], list[list[str]]]:
    header = ["START (UTC)", "DURATION", "STATUS", "KIND", "SERVICE", "NAME", "TRACE ID"]
    body = [
        [_time(s.start_ns), f"{s.duration_ns / 1e6:.1f}ms", s.status_code, s.kind, s.service_name, s.name, s.trace_id]
        for s in rows
    ]
    return header, body


def _metric_value(p: MetricPoint) -> str:
    if p.kind == "histogram":
        return f"count={p.count} sum={p.sum:g}" if p.sum is not None else f"count={p.count}"
    return f"{p.value:g}" if p.value is not None else ""


def _metric_table(rows: Sequence[MetricPoint]) -> tuple[list[str], list[list[str]]]:
    header = ["TIME (UTC)", "SERVICE", "NAME", "KIND", "VALUE", "UNIT", "ATTRIBUTES"]
    body = [
        [_time(p.time_ns), p.service_name, p.name, p.kind, _metric_value(p), p.unit, _attributes(p.attributes)]
        for p in rows
    ]
    return header, body


def _log_table(rows: Sequence[LogRow]) -> tuple[list[str], list[list[str]]]:
    header = ["TIME (UTC)", "SEVERITY", "SERVICE", "EVENT", "BODY", "TRACE ID"]
    body = [
        [_time(r.time_ns), r.severity_text or str(r.severity_number or ""), r.service_name, r.event_name,
         r.body, r.trace_id or ""]
        for r in rows
    ]  # fmt: skip
    return header, body


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Every cell goes through ``printable``: stored strings come from any client."""
    escaped = [[printable(c) for c in row] for row in [header, *rows]]
    cells = [[c if len(c) <= _MAX_CELL else c[: _MAX_CELL - 1] + "…" for c in row] for row in escaped]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
