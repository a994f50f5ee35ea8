"""``ricecoder-otel config check`` and ``config show``: exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ricecoder_otel.cli import main
from ricecoder_otel.config import MonitoringConfig

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("RICECODER_", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES")):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ricecoder.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "metrics:\n  cardinality_limit: 100\n")
    assert main(["config", "check", str(path)]) == 0
    assert capsys.readouterr().out == f"OK: {path} is valid\n"


def test_check_lists_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "metrics:\n  cardinalty_limit: 1\nalerting:\n  rules:\n    - {name: a, metric: m, threshold: 1, for: x}\n",
    )
    assert main(["config", "check", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{path}: 2 problems",
        f"  - {path}:2: metrics.cardinalty_limit: unknown key (did you mean 'cardinality_limit'?)",
        f"  - {path}:5: alerting.rules[0].for: expected a duration like 5m (got 'x')",
    ]


def test_check_malformed_yaml_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "metrics: {enabled: true\n")
    assert main(["config", "check", str(path)]) == 1
    assert "malformed YAML" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["missing.yaml", "."])
def test_check_unreadable_file_exits_2(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / name)]) == 2
    out = capsys.readouterr().out
    assert "file not found" in out or "is a directory" in out


def test_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "store: {max_size_mb: big}\n")
    assert main(["config", "check", str(path), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result == {
        "valid": False,
        "file": str(path),
        "problems": [
            {
                "path": "store.max_size_mb",
                "message": "expected an integer (got 'big')",
                "source": f"{path}:1",
                "kind": "invalid",
            }
        ],
    }
    assert main(["config", "check", str(write(tmp_path, "{}\n")), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_check_ignores_the_environment_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "{}\n")
    monkeypatch.setenv("RICECODER_METRICS__CARDINALITY_LIMIT", "lots")
    assert main(["config", "check", str(path)]) == 0
    assert main(["config", "check", str(path), "--with-env"]) == 1
    assert "RICECODER_METRICS__CARDINALITY_LIMIT: metrics.cardinality_limit" in capsys.readouterr().out


def test_show_applies_precedence_and_masks_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "service_name: shop\n"
        "error_tracking: {sentry_dsn: 'https://abc123key@sentry.example/1'}\n"
        "compliance: {redaction: {patterns: {password: 'pw=\\S+'}}}\n"
        "alerting: {rules: [{name: slow, metric: latency, threshold: 1, for: 90s, labels: {team_token: t0k3n}}]}\n",
    )
    monkeypatch.setenv("RICECODER_STORE__LOCATION", "postgresql://app:hunter2@db:5432/tel")
    monkeypatch.setenv("RICECODER_METRICS__CARDINALITY_LIMIT", "300")
    assert main(["config", "show", "--file", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    for secret in ("abc123key", "hunter2", "t0k3n"):
        assert secret not in out
    data = json.loads(out)
    assert data["service_name"] == "shop"
    assert data["metrics"]["cardinality_limit"] == 300
    assert data["error_tracking"]["sentry_dsn"] == "********"
    assert data["store"]["location"] == "postgresql://app:********@db:5432/tel"
    assert data["alerting"]["rules"][0]["for"] == "1m30s"
    assert data["alerting"]["rules"][0]["labels"] == {"team_token": "********"}
    assert data["compliance"]["redaction"]["patterns"] == {"password": r"pw=\S+"}


def test_show_yaml_uses_the_config_file_variable_and_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "metrics: {export_interval: 30s}\nstore: {max_age: 2d}\n")
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(path))
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# effective configuration: defaults < {path} < RICECODER_* variables; secrets masked\n")
    config = MonitoringConfig.model_validate(yaml.safe_load(out))
    assert config.metrics.export_interval.total_seconds() == 30
    assert config.store.max_age.days == 2


def test_show_invalid_configuration_exits_1_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RICECODER_DASHBOARDS__PORT", "70000")
    assert main(["config", "show"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        "RICECODER_DASHBOARDS__PORT: dashboards.port: expected a number of at most 65535 (got '70000')" in captured.err
    )


def test_show_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--file", str(tmp_path / "nope.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_entry_point_exit_codes_in_a_real_process(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics: {enabled: maybe}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RICECODER_")}
    env["PYTHONPATH"] = str(SRC)
    result = subprocess.run(
        [sys.executable, "-m", "ricecoder_otel.cli", "config", "check", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "metrics.enabled: expected true or false (got 'maybe')" in result.stdout


def test_show_lists_what_nothing_reads_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "alerting:\n  rules:\n"
        "    - {name: slow, metric: latency, threshold: 1}\n"
        "    - {name: odd, kind: anomaly, metric: latency, threshold: 0.9}\n",
    )
    assert main(["config", "show", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    header = "\n".join(line for line in out.splitlines() if line.startswith("#"))
    listed = header.replace("\n#  ", "")
    assert "# not built yet (accepted, no effect): performance.anomaly_detection_enabled" in listed
    assert "dashboards.refresh_interval" not in listed  # the live view's default refresh
    for built in ("metrics.cardinality_limit", "store", "anomaly", "service_name", "alerting", "analytics",
                  "compliance", "error_tracking"):
        assert f" {built}," not in listed and not listed.endswith(f" {built}")
    assert "no effect: alerting.rules" not in header  # every rule kind is evaluated
    yaml.safe_load(out)  # the notes are comments: the output still reads back


def test_show_json_keeps_the_note_off_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "metrics: {cardinality_limit: 100}\n")
    assert main(["config", "show", "--file", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert MonitoringConfig.model_validate(json.loads(captured.out)).metrics.cardinality_limit == 100
    assert captured.err.startswith("not built yet (accepted, no effect): performance.anomaly_detection_enabled")
    assert "no effect:" not in captured.err  # no rules, so no rule of an unevaluated kind
