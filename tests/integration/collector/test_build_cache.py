"""The collector build is cached by the manifest's hash: reused when unchanged, rebuilt when changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ricecoder_otel.cli import main as cli_main
from ricecoder_otel.collector.build import BuildError, binary_path, load_manifest
from ricecoder_otel.collector.layout import CONFIG_DIR_ENV, config_dir
from tests.harness.collector import collector_binary


def test_build_reuses_the_cached_binary(capsys: pytest.CaptureFixture[str]) -> None:
    built = collector_binary()
    assert cli_main(["collector", "build"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(built)
    assert "using cached collector" in captured.err
    assert cli_main(["collector", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(built)


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "collector-config"
    shutil.copytree(config_dir(), copy)
    monkeypatch.setenv(CONFIG_DIR_ENV, str(copy))
    return copy


def test_the_cache_key_follows_the_manifest_and_the_modules_it_replaces(config_copy: Path) -> None:
    original = binary_path()
    assert original == collector_binary()  # same content in another folder: same binary
    manifest = config_copy / "builder-config.yaml"
    manifest.write_text(manifest.read_text() + "\n# changed\n")
    changed_manifest = binary_path()
    assert changed_manifest != original
    stub = next((config_copy / "detector-stubs").rglob("detector.go"))
    stub.write_text(stub.read_text() + "\n// changed\n")
    assert binary_path() not in (original, changed_manifest)


def test_path_says_how_to_build_when_nothing_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RICECODER_CACHE_DIR", str(tmp_path / "empty-cache"))
    assert cli_main(["collector", "path"]) == 1
    assert "ricecoder-otel collector build" in capsys.readouterr().err


def test_a_broken_manifest_is_named(config_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (config_copy / "builder-config.yaml").write_text("receivers: []\n")
    assert cli_main(["collector", "build"]) == 1
    err = capsys.readouterr().err
    assert "builder-config.yaml: not an ocb manifest (no 'dist' section)" in err
    with pytest.raises(BuildError, match="not an ocb manifest"):
        load_manifest()


def test_a_manifest_that_is_not_yaml_is_named_with_its_line(
    config_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_copy / "builder-config.yaml").write_text("dist:\n  name: [unclosed\n")
    assert cli_main(["collector", "build"]) == 1
    assert "builder-config.yaml:3: not valid YAML" in capsys.readouterr().err
