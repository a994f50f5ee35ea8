"""The ``ricecoder-otel`` command line.

Each command group lives in its own module exposing ``register(subparsers)``; the
module sets ``func`` on its parser, and ``func(args) -> int`` is the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# One module per command group, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "config_cmd",
    "query",
    "collector",
    "doctor",
    "anomaly",
    "errors",
    "perf",
    "rules",
    "alerts",
    "incidents",
    "audit",
    "dashboard",
    "analytics",
    "retention",
    "gdpr",
    "compliance",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ricecoder-otel",
        description="OpenTelemetry-native monitoring for Python services.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"ricecoder_otel.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
