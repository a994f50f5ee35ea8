"""The ``ricecoder-otel`` command line.

Each command group lives in its own module exposing ``register(subparsers)``; the
module sets ``func`` on its parser, and ``func(args) -> int`` is the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each command and the module that registers it, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "config": "config_cmd",
    "query": "query",
    "collector": "collector",
    "doctor": "doctor",
    "anomaly": "anomaly",
    "errors": "errors",
    "perf": "perf",
    "rules": "rules",
    "alerts": "alerts",
    "incidents": "incidents",
    "audit": "audit",
    "dashboard": "dashboard",
    "analytics": "analytics",
    "retention": "retention",
    "gdpr": "gdpr",
    "compliance": "compliance",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line, or, when ``argv`` starts with a known command, only that command:
    its module alone is imported, so a command does not pay for every other command's imports
    (about half a second of start-up). Help, no command and an unknown one get the whole parser."""
    parser = argparse.ArgumentParser(
        prog="ricecoder-otel",
        description="OpenTelemetry-native monitoring for Python services.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    chosen = COMMANDS.get(argv[0]) if argv else None
    for name in (chosen,) if chosen is not None else COMMANDS.values():
        module = importlib.import_module(f"ricecoder_otel.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
