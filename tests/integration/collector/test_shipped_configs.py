"""Every config we ship loads in the real engine that runs it: the built collector, promtool, amtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ricecoder_otel.cli import main as cli_main
from ricecoder_otel.collector.build import load_manifest
from ricecoder_otel.collector.layout import config_dir, shipped_configs
from ricecoder_otel.collector.validate import validate
from tests.harness.collector import collector_binary

SECTIONS = ("receivers", "processors", "exporters", "extensions", "connectors")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: run .ci/steps/prometheus.sh")
    return path


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("config", shipped_configs(), ids=lambda p: p.name)
def test_shipped_collector_config_passes_validate(config: Path) -> None:
    problem = validate(collector_binary(), config)
    assert problem is None, str(problem)


def _types_used(config: Path) -> dict[str, set[str]]:
    document = yaml.safe_load(config.read_text())
    return {section: {cid.split("/")[0] for cid in document.get(section) or {}} for section in SECTIONS}


def test_distribution_has_exactly_the_components_the_configs_use() -> None:
    listed = yaml.safe_load(_run(str(collector_binary()), "components").stdout)
    built = {section: {c["name"] for c in listed.get(section) or []} for section in SECTIONS}
    used: dict[str, set[str]] = {section: set() for section in SECTIONS}
    for config in shipped_configs():
        for section, types in _types_used(config).items():
            used[section] |= types
    assert used == built


def test_configs_use_current_component_names_not_deprecated_aliases() -> None:
    # Deprecated aliases log a warning on every start; the distribution pins names of its release.
    for config in shipped_configs():
        result = _run(str(collector_binary()), "validate", f"--config={config}")
        assert "deprecated" not in (result.stdout + result.stderr).lower(), result.stderr


def test_prometheus_config_and_rules_pass_promtool() -> None:
    promtool = _tool("promtool")
    base = config_dir() / "prometheus"
    checked = _run(promtool, "check", "config", str(base / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "rule files found" in checked.stdout  # the rules/*.yml glob matched our rule files
    rules = _run(promtool, "check", "rules", *map(str, sorted((base / "rules").glob("*.yml"))))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    for test_file in sorted((base / "tests").glob("*.yml")):
        tested = _run(promtool, "test", "rules", str(test_file))
        assert tested.returncode == 0, tested.stdout + tested.stderr


def test_alertmanager_config_passes_amtool() -> None:
    result = _run(_tool("amtool"), "check-config", str(config_dir() / "alertmanager" / "alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((config_dir() / "docker-compose.yaml").read_text())
    return document


def test_compose_mounts_only_files_that_exist() -> None:
    base = config_dir()
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (base / source).exists(), f"service {name} mounts missing {source}"


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> repository path of the service's bind mounts."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            out[target] = (config_dir() / source).resolve()
    return out


def test_compose_runs_the_validated_configs_on_the_pinned_release() -> None:
    services = _compose()["services"]
    version = load_manifest().version
    validated = {p.resolve() for p in shipped_configs()}
    for name in ("agent", "gateway"):
        service = services[name]
        assert service["image"].endswith(f":{version}"), f"{name} image must match the manifest's {version}"
        flag = next(arg for arg in service["command"] if arg.startswith("--config="))
        assert _mounts(service)[flag.removeprefix("--config=")] in validated
    prometheus = services["prometheus"]
    flag = next(arg for arg in prometheus["command"] if arg.startswith("--config.file="))
    assert _mounts(prometheus)[flag.removeprefix("--config.file=")] == (config_dir() / "prometheus/prometheus.yml")
    assert "--web.enable-remote-write-receiver" in prometheus["command"]  # the gateway remote-writes
    alertmanager = services["alertmanager"]
    flag = next(arg for arg in alertmanager["command"] if arg.startswith("--config.file="))
    assert _mounts(alertmanager)[flag.removeprefix("--config.file=")] == (
        config_dir() / "alertmanager/alertmanager.yml"
    )
    provisioning = _mounts(services["grafana"])["/etc/grafana/provisioning"]
    assert any((provisioning / "datasources").glob("*.yaml"))


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    source = (config_dir() / "agent.yaml").read_text()
    assert old in source
    broken = tmp_path / "agent-broken.yaml"
    broken.write_text(source.replace(old, new, 1))
    return broken


def test_validate_names_file_component_and_field_of_an_unknown_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _broken_copy(tmp_path, "      max_megabytes: 100", "      max_megabyte: 100")
    assert cli_main(["collector", "validate", str(broken)]) == 1
    out = capsys.readouterr().out
    assert str(broken) in out
    assert "'file/audit_archive'" in out
    assert "rotation.max_megabyte" in out


def test_validate_names_file_component_and_field_of_a_bad_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _broken_copy(tmp_path, "    timeout: 200ms", "    timeout: soon")
    assert cli_main(["collector", "validate", "--json", str(broken)]) == 1
    report = capsys.readouterr().out
    assert '"component": "batch"' in report
    assert '"field": "timeout"' in report
    assert str(broken) in report


def test_validate_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["collector", "validate", str(tmp_path / "nope.yaml")]) == 1
    assert "file not found" in capsys.readouterr().out
