"""The seed's ``metrics`` shape: ``collection_interval``, ``retention_period`` and ``exporters``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from ricecoder_otel.config import ConfigError, MetricsConfig, MonitoringConfig, load_config
from ricecoder_otel.config.model import installed_metric_exporters, metrics_exporters


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ricecoder.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path | None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return [str(p) for p in info.value.problems]


SEED = """\
metrics:
  enabled: true
  collection_interval: 30s
  retention_period: 3d
  exporters: [otlp, prometheus]
"""


def test_the_seed_shape_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SEED), env={})
    assert config.metrics.enabled
    assert config.metrics.export_interval == timedelta(seconds=30)
    assert config.metrics.collection_interval == timedelta(seconds=30)
    assert config.store.max_age == timedelta(days=3)
    assert config.metrics.retention_period == timedelta(days=3)
    assert config.metrics.exporters == ["otlp", "prometheus"]


def test_aliases_read_the_same_as_their_keys_when_not_given() -> None:
    config = MonitoringConfig.model_validate({"metrics": {"export_interval": "20s"}, "store": {"max_age": "2d"}})
    assert config.metrics.collection_interval == timedelta(seconds=20)
    assert config.metrics.retention_period == timedelta(days=2)
    assert config.metrics.exporters is None


def test_aliases_are_not_shown_twice_and_the_shown_config_reads_back(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SEED), env={})
    data = config.model_dump(mode="json", by_alias=True)
    assert "collection_interval" not in data["metrics"] and "retention_period" not in data["metrics"]
    assert MonitoringConfig.model_validate(yaml.safe_load(yaml.safe_dump(data))) == config


def test_same_value_in_both_spellings_is_fine(tmp_path: Path) -> None:
    text = "metrics: {collection_interval: 30s, export_interval: 30s, retention_period: 3d}\nstore: {max_age: 72h}\n"
    config = load_config(write(tmp_path, text), env={})
    assert config.metrics.export_interval == timedelta(seconds=30) and config.store.max_age == timedelta(days=3)


def test_conflicting_spellings_are_located_at_the_alias(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "metrics:\n  export_interval: 10s\n  collection_interval: 30s\n  retention_period: 3d\nstore:\n  max_age: 7d\n",
    )
    (found,) = problems(path)  # the section's problem stops MonitoringConfig's check
    assert found == (
        f"{path}:3: metrics.collection_interval: differs from metrics.export_interval; "
        "they are the same setting, give one"
    )
    path = write(tmp_path, "metrics:\n  retention_period: 3d\nstore:\n  max_age: 7d\n")
    assert problems(path) == [
        f"{path}:2: metrics.retention_period: differs from store.max_age; they are the same setting, give one"
    ]


def test_alias_values_are_validated_like_their_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics:\n  collection_interval: 2d\n  retention_period: soon\n")
    assert problems(path) == [
        f"{path}:2: metrics.collection_interval: expected a duration of at most 1d (got '2d')",
        f"{path}:3: metrics.retention_period: expected a duration like 5m (got 'soon')",
    ]


def test_aliases_from_variables() -> None:
    env = {
        "RICECODER_METRICS__COLLECTION_INTERVAL": "45s",
        "RICECODER_METRICS__RETENTION_PERIOD": "14d",
        "RICECODER_METRICS__EXPORTERS": "otlp,ricecoder_local",
    }
    config = load_config(None, env=env)
    assert config.metrics.export_interval == timedelta(seconds=45)
    assert config.store.max_age == timedelta(days=14)
    assert config.metrics.exporters == ["otlp", "ricecoder_local"]
    assert load_config(None, env={"RICECODER_METRICS__EXPORTERS": '["console"]'}).metrics.exporters == ["console"]


def test_a_variable_in_either_spelling_wins_over_the_file_in_the_other(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics:\n  collection_interval: 5s\n  retention_period: 3d\n")
    env = {"RICECODER_METRICS__EXPORT_INTERVAL": "6s", "RICECODER_STORE__MAX_AGE": "4d"}
    config = load_config(path, env=env)
    assert config.metrics.export_interval == timedelta(seconds=6)
    assert config.store.max_age == timedelta(days=4)
    path = write(tmp_path, "metrics:\n  export_interval: 5s\nstore:\n  max_age: 3d\n")
    env = {"RICECODER_METRICS__COLLECTION_INTERVAL": "6s", "RICECODER_METRICS__RETENTION_PERIOD": "4d"}
    config = load_config(path, env=env)
    assert config.metrics.export_interval == timedelta(seconds=6)
    assert config.store.max_age == timedelta(days=4)


def test_two_variables_that_disagree_name_the_variable() -> None:
    env = {"RICECODER_METRICS__COLLECTION_INTERVAL": "6s", "RICECODER_METRICS__EXPORT_INTERVAL": "7s"}
    (found,) = problems(None, env)
    assert found.startswith("RICECODER_METRICS__COLLECTION_INTERVAL: metrics.collection_interval: differs from")


def test_exporter_names_are_the_installed_entry_points() -> None:
    installed = installed_metric_exporters()
    assert {"otlp", "prometheus", "console", "ricecoder_local"} <= set(installed)
    assert MetricsConfig(exporters=installed).exporters == installed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[otlpp]", "metrics.exporters[0]: unknown metric exporter 'otlpp' (did you mean 'otlp'?); installed: "),
        ("[console, zipkinx]", "metrics.exporters[1]: unknown metric exporter 'zipkinx'; installed: "),
        ("[]", "metrics.exporters: expected at least one exporter name; [none] exports nowhere"),
        ("[none, otlp]", "metrics.exporters: 'none' cannot be combined with other exporters"),
        ("[otlp, otlp]", "metrics.exporters: exporter 'otlp' is listed twice (it would export twice)"),
        ("otlp", "metrics.exporters: expected a list (got 'otlp')"),
    ],
)
def test_bad_exporter_lists_are_located(tmp_path: Path, value: str, expected: str) -> None:
    path = write(tmp_path, f"metrics:\n  exporters: {value}\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:2: {expected}")


def test_unknown_exporter_from_a_variable_suggests_the_name() -> None:
    (found,) = problems(None, {"RICECODER_METRICS__EXPORTERS": "prometheous"})
    assert found.startswith(
        "RICECODER_METRICS__EXPORTERS: metrics.exporters[0]: unknown metric exporter 'prometheous' "
        "(did you mean 'prometheus'?)"
    )


@pytest.mark.parametrize(
    ("configured", "variable", "expected"),
    [
        (None, None, None),
        (["otlp", "prometheus"], None, ["otlp", "prometheus"]),
        (["otlp"], "console, ricecoder_local", ["console", "ricecoder_local"]),
        (["otlp"], "none", []),
        (["none"], None, []),
        (["otlp"], "  ", ["otlp"]),
    ],
)
def test_the_variable_wins_over_metrics_exporters(
    configured: list[str] | None, variable: str | None, expected: list[str] | None
) -> None:
    env = {} if variable is None else {"OTEL_METRICS_EXPORTER": variable}
    assert metrics_exporters(MetricsConfig(exporters=configured), env) == expected
