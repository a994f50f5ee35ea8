"""``ricecoder-otel config check FILE`` and ``ricecoder-otel config show``.

Exit codes: 0 valid, 1 invalid (every problem is listed), 2 the file cannot be read.
``config show`` also says which settings nothing reads yet, so nobody tunes a key that does nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from ricecoder_otel.cli._util import print_json
from ricecoder_otel.config.errors import ConfigError
from ricecoder_otel.config.loader import config_path_from, load_config
from ricecoder_otel.config.model import MonitoringConfig
from ricecoder_otel.config.secrets import mask_secrets
from ricecoder_otel.config.status import NOT_BUILT, unbuilt_settings, unbuilt_values

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "config",
        help="validate a config file or show the effective configuration",
        description="Validate configuration files and show the configuration in force.",
    )
    commands = parser.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    commands.required = True

    check = commands.add_parser(
        "check",
        help="validate a YAML config file and list every problem",
        description="Validate FILE against the configuration model. Prints OK and exits 0 when it is "
        "valid; otherwise lists every problem with its path and exits 1 (2 when FILE cannot be read).",
    )
    check.add_argument("file", type=Path, metavar="FILE", help="YAML config file")
    check.add_argument(
        "--with-env",
        action="store_true",
        help="also apply the RICECODER_* variables of this environment, as the service would",
    )
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=run_check)

    show = commands.add_parser(
        "show",
        help="print the effective configuration, secrets masked",
        description="Print the configuration in force after defaults, the YAML file and RICECODER_* "
        "variables are applied. Secrets are masked.",
    )
    show.add_argument("--file", type=Path, help="YAML config file (default: $RICECODER_CONFIG_FILE)")
    show.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    show.set_defaults(func=run_show)


def run_check(args: argparse.Namespace) -> int:
    env = os.environ if args.with_env else {}
    try:
        load_config(args.file, env)
    except ConfigError as error:
        if args.json:
            print_json({"valid": False, "file": str(args.file), "problems": _problems(error)})
        else:
            count = len(error.problems)
            print(f"{args.file}: {count} problem{'s' if count != 1 else ''}")
            for problem in error.problems:
                print(f"  - {problem}")
        return EXIT_UNREADABLE if error.unreadable else EXIT_INVALID
    if args.json:
        print_json({"valid": True, "file": str(args.file), "problems": []})
    else:
        print(f"OK: {args.file} is valid")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_UNREADABLE if error.unreadable else EXIT_INVALID
    data = shown(config)
    note = unbuilt_note(config)
    if args.json:
        print_json(data)
        print("\n".join(note), file=sys.stderr)  # stdout stays a configuration that reads back
    else:
        file = config_path_from(args.file, os.environ)
        source = f"defaults < {file} < RICECODER_* variables" if file else "defaults < RICECODER_* variables"
        print(f"# effective configuration: {source}; secrets masked")
        print("\n".join(f"# {line}" for line in note))
        print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return EXIT_OK


def unbuilt_note(config: MonitoringConfig) -> list[str]:
    """Lines naming the settings nothing reads yet, the partly built ones, and values in this
    configuration that have no effect (an alert rule of a kind that is not evaluated)."""
    settings = unbuilt_settings(MonitoringConfig)
    missing = [u.path for u in settings if u.status.status == NOT_BUILT]
    lines = textwrap.wrap("not built yet (accepted, no effect): " + ", ".join(missing), 96, subsequent_indent="  ")
    lines += [f"partly built: {u.path}: {u.status.note}" for u in settings if u.status.status != NOT_BUILT]
    lines += [f"no effect: {u.path} is {u.status.note}" for u in unbuilt_values(config)]
    return lines if settings else []


def shown(config: MonitoringConfig) -> dict[str, Any]:
    """The configuration as printable data: durations as text, every secret masked."""
    raw: dict[str, Any] = config.model_dump(mode="json", by_alias=True)
    data: dict[str, Any] = mask_secrets(raw)
    # Redaction patterns are regular expressions named after what they hide, not secrets.
    data["compliance"]["redaction"]["patterns"] = raw["compliance"]["redaction"]["patterns"]
    return data


def _problems(error: ConfigError) -> list[dict[str, str | None]]:
    return [{"path": p.path, "message": p.message, "source": p.source, "kind": p.kind} for p in error.problems]
