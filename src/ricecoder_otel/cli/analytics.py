"""``ricecoder-otel analytics report KIND``: usage reports from the store.

KIND is one of active, stickiness, adoption, adoption-curve, retention, funnel, engagement,
lifecycle, segments. The report covers whole UTC days from ``--until`` (default today) minus
``--since`` (default 29 days) to ``--until``, over the rows every replica flushed.
``adoption-curve`` gives, per release that came out in the window, the adoption of each feature
by days (``--interval day``) or weeks since the release. ``--format`` picks json, csv, md or
html (default: a table); ``--json`` is ``--format json``; ``--output FILE`` writes there instead
of stdout. Exit codes: 0 done, 1 the
store cannot be read, 2 bad arguments or an invalid configuration.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from ricecoder_otel.analytics.engine import DAY_S, day_of
from ricecoder_otel.analytics.render import FORMATS, render
from ricecoder_otel.analytics.reports import REPORT_KINDS, Report, build
from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.cli._util import print_json, printable, progress
from ricecoder_otel.cli.query import EXIT_OK, EXIT_STORE, EXIT_USAGE, _table, positive_int, since_argument
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.store import StoreError, open_store

DEFAULT_SINCE_NS = 29 * 86_400 * 10**9


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("analytics", help="usage analytics reports", description=__doc__)
    actions = parser.add_subparsers(dest="analytics_command", metavar="ACTION")
    actions.required = True
    report = actions.add_parser("report", help="one report from the store")
    report.add_argument("kind", choices=REPORT_KINDS)
    report.add_argument("--since", type=since_argument, metavar="DURATION", help="window start (default 29d ago)")
    report.add_argument("--until", type=until_argument, metavar="DATE", help="last day (YYYY-MM-DD, default today)")
    report.add_argument("--format", choices=FORMATS, help="json, csv, md or html (default: a table)")
    report.add_argument("--json", action="store_true", help="same as --format json")
    report.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE")
    report.add_argument("--store", metavar="LOCATION", help="store location (default: store.location)")
    report.add_argument("--funnel", metavar="NAME", help="funnel to report (default: the first configured)")
    report.add_argument("--interval", choices=("week", "day"), default="week", help="retention/lifecycle interval")
    report.add_argument("--feature", metavar="NAME", help="retention or adoption-curve of one feature")
    report.add_argument("--min-uses", type=positive_int, default=3, metavar="N", help="adoption: uses for N-times")
    report.add_argument("--by", choices=("user", "account", "product"), default="user", help="engagement unit")
    report.add_argument("--method", choices=("exact", "hll"), default="exact", help="active users: count method")
    report.set_defaults(func=run)


def run(args: argparse.Namespace, now: Callable[[], float] = time.time) -> int:
    try:
        config = load_config()
    except ConfigError as error:
        print(f"ricecoder-otel analytics: {redact_dsn(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    location = args.store or config.store.location
    until = args.until if args.until is not None else now()
    since = until - (args.since if args.since is not None else DEFAULT_SINCE_NS) / 1e9
    section = config.analytics
    progress("reading analytics rows")
    try:
        store = open_store(location, read_only=True, create=False)
        try:
            margin = max((f.window.total_seconds() for f in section.funnels.values()), default=0.0)
            data = AnalyticsStore(store, "cli").read(
                day_of(until), lg_k=section.sketch_lg_k, sketch_days=section.keep_days, step_margin_s=margin
            )
        finally:
            store.close()
    except StoreError as error:
        print(f"ricecoder-otel analytics: {printable(redact_dsn(str(error)))}", file=sys.stderr)
        return EXIT_STORE
    try:
        report = build(
            args.kind,
            data,
            section,
            day_of(since),
            day_of(until),
            method=args.method,
            min_uses=args.min_uses,
            interval=args.interval,
            feature=args.feature,
            funnel_name=args.funnel,
            by=args.by,
        )
    except ValueError as error:
        print(f"ricecoder-otel analytics: {error}", file=sys.stderr)
        return EXIT_USAGE
    return _emit(report, "json" if args.json else args.format, args.output)


def until_argument(text: str) -> float:
    """``--until 2024-01-16`` -> the last second of that UTC day."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-01-16, got {text!r}") from None
    return (day - date(1970, 1, 1)).days * DAY_S + DAY_S - 1.0


def _emit(report: Report, fmt: str | None, output: Path | None) -> int:
    if fmt is None:
        text = _human(report)
    elif fmt == "json" and output is None:
        print_json(report.as_dict())
        return EXIT_OK
    else:
        text = render(report, fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {report.kind} report ({len(report.rows)} rows) to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _human(report: Report) -> str:
    meta = report.as_dict()
    title = f"{report.kind} report, {meta['since']} to {meta['until']}"
    if not report.rows:
        return f"{title}: no activity\n"
    header = [c.name.upper() for c in report.columns]
    rows = [["" if row.get(c.name) is None else str(row.get(c.name)) for c in report.columns] for row in report.rows]
    notes = "".join(f"\n{note}" for note in report.notes)
    return f"{title}\n{_table(header, rows)}{notes}\n"
