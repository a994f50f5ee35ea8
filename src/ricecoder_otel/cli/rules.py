"""``ricecoder-otel rules check FILE`` and ``rules export --format prometheus FILE``.

``check`` lists every problem with its path and line (exit 1 on errors, 0 with warnings only).
``export`` writes a Prometheus rule file to stdout (or ``--output``) and lists the rules it
skipped with the reason on stderr; an invalid file or ``--metric`` is exit 2. ``--via`` names the
path the metrics take to Prometheus (names differ for unit ``1`` gauges); ``--metric`` declares
the kind and unit of the application's own metrics so rules on them are exported too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from ricecoder_otel.alerting.check import read_rules
from ricecoder_otel.alerting.promexport import PATHS, ExportKind, export
from ricecoder_otel.cli._util import print_json, printable


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("rules", help="check alert rules and export them for Prometheus")
    sub = parser.add_subparsers(dest="rules_command", metavar="ACTION")
    sub.required = True
    check = sub.add_parser("check", help="list every problem of a rule file, with its line")
    check.add_argument("file", type=Path, help="a config file (alerting.rules) or a rule file (rules:)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=run_check)
    exp = sub.add_parser("export", help="write the rules as a Prometheus rule file")
    exp.add_argument("file", type=Path, help="a config file (alerting.rules) or a rule file (rules:)")
    exp.add_argument("--format", choices=["prometheus"], default="prometheus", help="output format")
    exp.add_argument("--output", "-o", type=Path, help="write here instead of stdout")
    exp.add_argument("--via", choices=PATHS, default="scrape",
                     help="how metrics reach Prometheus: scrape of the app's endpoint, or the collector")  # fmt: skip
    exp.add_argument("--metric", action="append", default=[], metavar="NAME=KIND:UNIT",
                     help="kind (gauge, updowncounter, counter, histogram) and unit; repeatable")  # fmt: skip
    exp.add_argument("--json", action="store_true", help="print the document and the skipped rules as JSON")
    exp.set_defaults(func=run_export)


def run_check(args: argparse.Namespace) -> int:
    result = read_rules(args.file)
    if args.json:
        print_json({"ok": result.ok, "rules": len(result.rules),
                    "findings": [vars(f) for f in result.findings]})  # fmt: skip
    else:
        for finding in result.findings:
            print(printable(str(finding)))
        errors = sum(f.level == "error" for f in result.findings)
        print(f"{len(result.rules)} rules, {errors} errors, {len(result.findings) - errors} warnings")
    return 0 if result.ok else 1


def run_export(args: argparse.Namespace) -> int:
    result = read_rules(args.file)
    if not result.ok:
        for finding in result.findings:
            print(printable(str(finding)), file=sys.stderr)
        return 2
    try:
        metrics = dict(_metric_option(text) for text in args.metric)
    except ValueError as error:
        print(printable(f"--metric: {error}"), file=sys.stderr)
        return 2
    exported = export(result.rules, metrics=metrics, path=args.via)
    if args.json:
        print_json({"document": exported.document,
                    "skipped": [{"rule": r, "reason": why} for r, why in exported.skipped]})  # fmt: skip
        return 0
    text = yaml.safe_dump(exported.document, sort_keys=False, allow_unicode=True, width=10_000)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for rule, reason in exported.skipped:
        print(printable(f"skipped {rule}: {reason}"), file=sys.stderr)
    return 0


_KINDS: dict[str, ExportKind] = {"gauge": "gauge", "updowncounter": "updowncounter", "counter": "counter",
                                 "histogram": "histogram"}  # fmt: skip


def _metric_option(text: str) -> tuple[str, tuple[ExportKind, str]]:
    """``shop.saturation=gauge:1`` -> ``("shop.saturation", ("gauge", "1"))``."""
    name, _, spec = text.partition("=")
    kind, _, unit = spec.partition(":")
    if not name or kind not in _KINDS:
        raise ValueError(f"{text!r}: expected NAME=KIND:UNIT with KIND one of {', '.join(_KINDS)}")
    return name, (_KINDS[kind], unit)
