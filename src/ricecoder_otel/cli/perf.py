"""``ricecoder-otel perf report|profile``: latency, bottlenecks and profiles kept in the store.

``report`` merges the stored latency summaries of the period (``--since``, default 1h) per
operation: count, p50/p90/p95/p99/max, and for each route the share of its time each kind of
work takes, the biggest one, and which one grew when the route got slower (older half of the
period against the newer half). ``profile TRACE_ID`` prints a slow request's profile as
collapsed stacks, speedscope JSON, a flame graph SVG or gzip-compressed pprof ``profile.proto``
for ``go tool pprof`` (``-o FILE`` writes it to a file; pprof goes to stdout only when that is
not a terminal).
Exit codes: 0 done, 1 the store cannot be read or nothing was stored for that trace, 2 bad
arguments or an invalid configuration.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ricecoder_otel.cli._util import print_json, printable
from ricecoder_otel.cli.query import EXIT_OK, EXIT_STORE, EXIT_USAGE, _table, since_argument, store_location
from ricecoder_otel.config import ConfigError
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.performance.bottleneck import CATEGORIES
from ricecoder_otel.performance.formats import flame_graph_svg, self_samples, speedscope
from ricecoder_otel.performance.pprof import pprof
from ricecoder_otel.performance.report import OperationTotals, PerfReport, StoredProfile, load_profile, load_report
from ricecoder_otel.store import Store, StoreError, open_store

HOUR_NS = 3600 * 10**9
FORMATS = ("collapsed", "speedscope", "svg", "pprof")


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="LOCATION", help="store location (default: store.location as configured)")
    common.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser = subparsers.add_parser("perf", help="latency percentiles, bottlenecks, profiles", description=__doc__)
    actions = parser.add_subparsers(dest="perf_command", metavar="ACTION")
    actions.required = True
    report = actions.add_parser("report", parents=[common], help="percentiles and bottlenecks per operation")
    report.add_argument("--since", type=since_argument, default=HOUR_NS, metavar="DURATION",
                        help="the last DURATION (default 1h)")  # fmt: skip
    report.add_argument("--route", metavar="R", help="only this route (`/orders` or `GET /orders`)")
    report.set_defaults(func=run_report)
    profile = actions.add_parser("profile", parents=[common], help="a slow request's profile")
    profile.add_argument("trace_id", metavar="TRACE_ID", help="32 hex digits")
    profile.add_argument("--format", choices=FORMATS, default="collapsed", help="output format (default collapsed)")
    profile.add_argument("-o", "--output", metavar="FILE", help="write the profile to FILE instead of stdout")
    profile.set_defaults(func=run_profile)


def _with_store(args: argparse.Namespace, work: Callable[[Store], int]) -> int:
    try:
        location = store_location(args.store)
    except ConfigError as error:
        print(f"ricecoder-otel perf: {redact_dsn(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = open_store(location, read_only=True, create=False)
    except StoreError as error:
        print(f"ricecoder-otel perf: {printable(redact_dsn(str(error)))}", file=sys.stderr)
        return EXIT_STORE
    try:
        return work(store)
    except StoreError as error:
        print(f"ricecoder-otel perf: {printable(redact_dsn(str(error)))}", file=sys.stderr)
        return EXIT_STORE
    finally:
        store.close()


def run_report(args: argparse.Namespace, now_ns: Callable[[], int] = time.time_ns) -> int:
    until = now_ns()
    since = until - args.since

    def work(store: Store) -> int:
        report = load_report(store, since, until, args.route)
        if args.json:
            print_json({"since_ns": since, "until_ns": until, "records": report.records, "skipped": report.skipped,
                        "operations": [t.as_dict() for t in report.operations]})  # fmt: skip
            return EXIT_OK
        print(_describe(report))
        return EXIT_OK

    return _with_store(args, work)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _describe(report: PerfReport) -> str:
    if not report.operations:
        return "no latency summaries stored in that period (they are written every window/10 and at shutdown)"
    header = ["KIND", "OPERATION", "COUNT", "P50 MS", "P90 MS", "P95 MS", "P99 MS", "MAX MS"]
    rows = []
    for totals in report.operations:
        s = totals.histogram.summary()
        rows.append([totals.operation.kind, totals.operation.name, str(s.count), _ms(s.p50), _ms(s.p90), _ms(s.p95),
                     _ms(s.p99), _ms(s.max)])  # fmt: skip
    lines = [_table(header, rows)]
    routes = [t for t in report.operations if t.breakdown.count]
    if routes:
        header = ["ROUTE", *(c.upper() for c in CATEGORIES), "BOTTLENECK", "GREW"]
        lines += ["", "where request time went (share of each route's latency):",
                  _table(header, [_breakdown_row(t) for t in routes])]  # fmt: skip
    if report.skipped:
        lines.append(f"\n{report.skipped} damaged summaries skipped")
    return "\n".join(lines)


def _breakdown_row(totals: OperationTotals) -> list[str]:
    shares = totals.breakdown.shares()
    growth = totals.growth()
    grew = "-" if growth is None else (
        f"{growth.category} (+{_ms(growth.category_delta_s)} ms; {_ms(growth.baseline_mean_s)} -> "
        f"{_ms(growth.recent_mean_s)} ms)"
    )  # fmt: skip
    return [totals.operation.name, *(f"{shares[c] * 100:.0f}%" for c in CATEGORIES), totals.breakdown.top() or "-",
            grew]  # fmt: skip


def run_profile(args: argparse.Namespace) -> int:
    trace_id = args.trace_id.strip().lower()
    if len(trace_id) != 32 or any(c not in "0123456789abcdef" for c in trace_id):
        print(f"ricecoder-otel perf: expected a trace id of 32 hex digits, got {printable(args.trace_id)!r}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if args.format == "pprof" and not args.output and not args.json and sys.stdout.isatty():
        print("ricecoder-otel perf: pprof is binary: write it with -o FILE or redirect stdout", file=sys.stderr)
        return EXIT_USAGE

    def work(store: Store) -> int:
        profile = load_profile(store, trace_id)
        if profile is None:
            print(f"ricecoder-otel perf: no profile stored for trace {trace_id} (profiling_enabled, and the request "
                  "at least slow_request_threshold?)", file=sys.stderr)  # fmt: skip
            return EXIT_STORE
        rendered = _render(profile, args.format)
        if args.output:
            Path(args.output).write_bytes(rendered if isinstance(rendered, bytes) else rendered.encode("utf-8"))
        if args.json:
            hottest = list(self_samples((s.split(";"), n) for s, n in profile.stacks.items()).items())[:10]
            print_json({"trace_id": trace_id, "operation": profile.operation, "samples": profile.samples,
                        "rate_hz": profile.rate_hz, "duration_s": profile.duration_s, "format": args.format,
                        "hottest": [{"frame": f, "samples": n} for f, n in hottest], "output": args.output,
                        **({} if args.output else {"profile": _json_profile(rendered, args.format)})})  # fmt: skip
        elif not args.output:
            if isinstance(rendered, bytes):
                sys.stdout.flush()
                sys.stdout.buffer.write(rendered)
                sys.stdout.buffer.flush()
            else:
                sys.stdout.write(rendered)
        else:
            print(f"wrote {args.format} profile of trace {trace_id} ({profile.samples} samples) to {args.output}")
        return EXIT_OK

    return _with_store(args, work)


def _json_profile(rendered: str | bytes, fmt: str) -> object:
    """The profile inside ``--json`` output: speedscope as JSON, pprof as base64, text as text."""
    if isinstance(rendered, bytes):
        return base64.b64encode(rendered).decode("ascii")
    return json.loads(rendered) if fmt == "speedscope" else rendered


def _render(profile: StoredProfile, fmt: str) -> str | bytes:
    stacks = [(stack.split(";"), n) for stack, n in profile.stacks.most_common()]
    title = f"{profile.operation or 'trace'} {profile.trace_id}"
    if fmt == "pprof":
        return pprof(stacks, rate_hz=profile.rate_hz, trace_id=profile.trace_id, comments=[title],
                     time_ns=profile.time_ns, duration_s=profile.duration_s)  # fmt: skip
    if fmt == "speedscope":
        return json.dumps(speedscope(stacks, title, profile.rate_hz), separators=(",", ":")) + "\n"
    if fmt == "svg":
        return flame_graph_svg(stacks, title) + "\n"
    return "".join(f"{stack} {n}\n" for stack, n in profile.stacks.most_common())
