"""``ricecoder-otel doctor``: does telemetry from this environment reach the collector, and if not, why."""

from __future__ import annotations

import argparse
from typing import Any

from ricecoder_otel.cli._util import print_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="send a probe span, metric and log through the configured OTLP exporters and explain failures",
        description="Reads the standard OTEL_EXPORTER_OTLP_* variables, checks each hop (connect, TLS, protocol) "
        "and sends one probe per signal. Exit 0 only when all three were accepted.",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from ricecoder_otel.collector.doctor import run

    reports = run()
    ok = all(report.ok for report in reports)
    if args.json:
        print_json({"ok": ok, "signals": {report.signal: report.as_dict() for report in reports}})
    else:
        for report in reports:
            print(f"{report.signal:<8} {report.protocol or '?'} {report.endpoint or '(no endpoint)'}")
            for hop in report.hops:
                print(f"  {'ok  ' if hop.ok else 'FAIL'} {hop.hop:<9} {hop.detail}")
                if hop.fix:
                    print(f"       fix: {hop.fix}")
        print("all signals went through" if ok else "some signals did not go through")
    return 0 if ok else 1
