"""Every command and subcommand answers ``--help`` with exit code 0."""

from __future__ import annotations

import argparse

import pytest

from ricecoder_otel.cli import build_parser, main


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
