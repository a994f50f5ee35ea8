"""Every command and subcommand answers ``--help`` with exit code 0."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

import pytest

from ricecoder_otel.cli import COMMANDS, build_parser, main


def _all_command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    paths.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return paths


def test_the_commands_users_are_told_about_exist() -> None:
    paths = {" ".join(p) for p in _all_command_paths()}
    assert {"demo", "config check", "config show", "query spans", "query metrics", "query logs"} <= paths


@pytest.mark.parametrize("path", [[], *_all_command_paths()], ids=lambda p: " ".join(p) or "top")
def test_help_everywhere(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    assert "usage: ricecoder-otel" in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "required" in capsys.readouterr().err


def test_demo_rejects_a_non_positive_duration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--duration", "0"]) == 2
    assert "--duration must be positive" in capsys.readouterr().err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_is_registered_by_the_module_named_for_it(command: str) -> None:
    """``build_parser`` imports only the named module for a command: the map must say where each lives."""
    subparsers = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"ricecoder_otel.cli.{COMMANDS[command]}").register(subparsers)
    assert list(subparsers.choices) == [command]


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import json, sys; from ricecoder_otel.cli import build_parser; build_parser(['audit', 'verify']); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ricecoder_otel.cli.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["ricecoder_otel.cli._util", "ricecoder_otel.cli.audit"]
    full = subprocess.run(
        [sys.executable, "-c", code.replace("['audit', 'verify']", "['no-such-command']")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert {f"ricecoder_otel.cli.{module}" for module in COMMANDS.values()} <= set(json.loads(full))
