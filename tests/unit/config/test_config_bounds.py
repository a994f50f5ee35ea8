"""Values that used to crash validation or slip through it are located problems.

Each case goes through ``load_config`` (file and variables) and ``ricecoder-otel config check``:
one problem with its path, never a traceback.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.duration import MAX_DURATION, MAX_INTERVAL, DurationTooLongError, parse_duration


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("RICECODER_", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES")):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ricecoder.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def only_problem(path: Path | None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    (problem,) = info.value.problems
    return str(problem)


RULE = "alerting:\n  rules:\n    - {{name: r, metric: m, {field}}}\n"

CASES = [
    # a duration beyond timedelta's range used to be an OverflowError traceback
    (
        "metrics:\n  export_interval: 99999999999w\n",
        ":2: metrics.export_interval: expected a duration of at most 1d (got '99999999999w')",
    ),
    # a representable but absurd interval used to kill the SDK's reader thread
    (
        "metrics:\n  export_interval: 999999d\n",
        ":2: metrics.export_interval: expected a duration of at most 1d (got '999999d')",
    ),
    (
        "alerting:\n  evaluation_interval: 2d\n",
        ":2: alerting.evaluation_interval: expected a duration of at most 1d (got '2d')",
    ),
    (
        "dashboards:\n  refresh_interval: 25h\n",
        ":2: dashboards.refresh_interval: expected a duration of at most 1d (got '25h')",
    ),
    # ages may be long, but must fit in int64 nanoseconds where the store converts them
    ("store:\n  max_age: 40000d\n", ":2: store.max_age: expected a duration of at most 36500d (got '40000d')"),
    (
        "compliance:\n  retention: 99999999999999999999\n",
        ":2: compliance.retention: expected a duration of at most 36500d (got 99999999999999999999)",
    ),
    (
        RULE.format(field="threshold: 1, for: 9999999999999999999999d"),
        ":3: alerting.rules[0].for: expected a duration of at most 36500d (got '9999999999999999999999d')",
    ),
    # NaN and infinities
    (
        "metrics:\n  duration_buckets_seconds: [0.1, .nan, 1]\n",
        ":2: metrics.duration_buckets_seconds[1]: expected a finite number (got nan)",
    ),
    (
        "metrics:\n  duration_buckets_seconds: [0.1, 1, .inf]\n",
        ":2: metrics.duration_buckets_seconds[2]: expected a finite number (got inf)",
    ),
    (RULE.format(field="threshold: .nan"), ":3: alerting.rules[0].threshold: expected a finite number (got nan)"),
    (RULE.format(field="threshold: -.inf"), ":3: alerting.rules[0].threshold: expected a finite number (got -inf)"),
    ("error_tracking:\n  sample_rate: .nan\n", ":2: error_tracking.sample_rate: expected a finite number (got nan)"),
    # booleans where a number is expected
    ("metrics:\n  cardinality_limit: true\n", ":2: metrics.cardinality_limit: expected an integer (got True)"),
    ("dashboards:\n  port: true\n", ":2: dashboards.port: expected an integer (got True)"),
    ("store:\n  max_size_mb: false\n", ":2: store.max_size_mb: expected an integer (got False)"),
    (
        "metrics:\n  duration_buckets_seconds: [true]\n",
        ":2: metrics.duration_buckets_seconds[0]: expected a number (got True)",
    ),
    (RULE.format(field="threshold: true"), ":3: alerting.rules[0].threshold: expected a number (got True)"),
    (
        "performance:\n  cpu_threshold_percent: true\n",
        ":2: performance.cpu_threshold_percent: expected a number (got True)",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_bad_value_in_a_file_is_one_located_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert only_problem(path) == f"{path}{expected}"


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_config_check_lists_it_and_exits_1(
    tmp_path: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, text)
    assert main(["config", "check", str(path)]) == 1
    assert capsys.readouterr().out == f"{path}: 1 problem\n  - {path}{expected}\n"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("RICECODER_METRICS__EXPORT_INTERVAL", "99999999999w", "expected a duration of at most 1d"),
        ("RICECODER_METRICS__DURATION_BUCKETS_SECONDS", "0.1,nan", "expected a finite number (got 'nan')"),
        ("RICECODER_ERROR_TRACKING__SAMPLE_RATE", "1e999", "expected a finite number (got '1e999')"),
        ("RICECODER_METRICS__CARDINALITY_LIMIT", "true", "expected an integer (got 'true')"),
    ],
)
def test_bad_value_in_a_variable_names_the_variable(variable: str, value: str, expected: str) -> None:
    problem = only_problem(None, {variable: value})
    assert problem.startswith(f"{variable}: ")
    assert expected in problem


def test_numbers_from_variables_are_still_read() -> None:
    config = load_config(None, env={"RICECODER_METRICS__CARDINALITY_LIMIT": "300", "RICECODER_DASHBOARDS__PORT": "0"})
    assert config.metrics.cardinality_limit == 300


def test_the_bounds_themselves_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics: {export_interval: 1d}\nstore: {max_age: 36500d}\n")
    config = load_config(path, env={})
    assert config.metrics.export_interval == MAX_INTERVAL
    assert config.store.max_age == MAX_DURATION
    assert int(config.store.max_age.total_seconds() * 1e9) < 2**63  # the store's nanoseconds


@pytest.mark.parametrize("text", ["99999999999w", "9" * 400, 10**400])
def test_parse_duration_says_too_long_instead_of_overflowing(text: object) -> None:
    with pytest.raises(DurationTooLongError, match="at most 36500d"):
        parse_duration(text)


def test_negative_numbers_are_malformed_not_too_long() -> None:
    with pytest.raises(ValueError, match="expected a duration like 5m") as info:
        parse_duration(-(10**400))
    assert not isinstance(info.value, DurationTooLongError)
    assert parse_duration("1d") == timedelta(days=1)
