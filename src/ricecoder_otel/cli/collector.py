"""``ricecoder-otel collector build|path|validate``: our collector distribution."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ricecoder_otel.cli._util import print_json, progress
from ricecoder_otel.collector import build as builder
from ricecoder_otel.collector.layout import ConfigDirNotFound, shipped_configs
from ricecoder_otel.collector.validate import validate


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("collector", help="build, locate and validate the ricecoder collector")
    commands = parser.add_subparsers(dest="collector_command", metavar="ACTION")
    commands.required = True

    build = commands.add_parser("build", help="build the collector with ocb (cached by manifest hash)")
    build.add_argument("--force", action="store_true", help="rebuild even when a cached binary exists")
    build.set_defaults(func=_build)

    path = commands.add_parser("path", help="print the path of the built collector binary")
    path.set_defaults(func=_path)

    check = commands.add_parser("validate", help="run the collector's validate on collector configs")
    check.add_argument("files", nargs="*", type=Path, help="configs to check (default: every shipped config)")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.set_defaults(func=_validate)


def _build(args: argparse.Namespace) -> int:
    try:
        result = builder.build(progress, force=args.force)
    except (builder.BuildError, ConfigDirNotFound) as exc:
        print(f"collector build failed: {exc}", file=sys.stderr)
        return 1
    print(result.binary)
    return 0


def _path(_: argparse.Namespace) -> int:
    try:
        print(builder.require_binary())
    except (builder.BuildError, ConfigDirNotFound) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def _validate(args: argparse.Namespace) -> int:
    try:
        binary = builder.require_binary()
        files: list[Path] = args.files or shipped_configs()
    except (builder.BuildError, ConfigDirNotFound) as exc:
        print(exc, file=sys.stderr)
        return 1
    problems = {file: validate(binary, file) for file in files}
    if args.json:
        report = [
            {
                "file": str(f),
                "ok": p is None,
                "problem": None if p is None else str(p),
                "component": None if p is None else p.component,
                "field": None if p is None else p.field,
            }
            for f, p in problems.items()
        ]
        print_json(report)
    else:
        for file, problem in problems.items():
            print(f"ok      {file}" if problem is None else f"INVALID {problem}")
    return 0 if all(p is None for p in problems.values()) else 1
