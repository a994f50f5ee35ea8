"""Loading: precedence, environment parsing and one clear problem per mistake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ricecoder_otel.config import ConfigError, MonitoringConfig, load_config


def write(tmp_path: Path, text: str, name: str = "ricecoder.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path | None = None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return [str(p) for p in info.value.problems]


# precedence ---------------------------------------------------------------------------------


def test_no_file_and_no_variables_gives_defaults() -> None:
    config = load_config(env={})
    assert config.metrics.cardinality_limit == 2000


def test_file_overrides_defaults_and_variables_override_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "metrics:\n  cardinality_limit: 100\n  red_metrics: false\nperformance:\n  cpu_threshold_percent: 50\n",
    )
    config = load_config(path, env={"RICECODER_METRICS__CARDINALITY_LIMIT": "500"})
    assert config.metrics.cardinality_limit == 500  # variable beats file
    assert config.metrics.red_metrics is False  # file beats default
    assert config.performance.cpu_threshold_percent == 50
    assert config.metrics.system_metrics is True  # default


def test_file_comes_from_config_file_variable_unless_a_path_is_given(tmp_path: Path) -> None:
    from_env = write(tmp_path, "service_name: from-env-file\n", "a.yaml")
    explicit = write(tmp_path, "service_name: explicit\n", "b.yaml")
    env = {"RICECODER_CONFIG_FILE": str(from_env)}
    assert load_config(env=env).service_name == "from-env-file"
    assert load_config(explicit, env=env).service_name == "explicit"


def test_os_environ_is_the_default_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RICECODER_ANALYTICS__ENABLED", "false")
    assert load_config().analytics.enabled is False


def test_otel_service_name_fills_service_name_only_when_unset(tmp_path: Path) -> None:
    assert load_config(env={"OTEL_SERVICE_NAME": "checkout"}).service_name == "checkout"
    path = write(tmp_path, "service_name: shop\n")
    assert load_config(path, env={"OTEL_SERVICE_NAME": "checkout"}).service_name == "shop"
    assert load_config(env={"OTEL_SERVICE_NAME": "a", "RICECODER_SERVICE_NAME": "b"}).service_name == "b"


def test_service_name_from_otel_resource_attributes() -> None:
    env = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod, service.name=billing"}
    assert load_config(env=env).service_name == "billing"
    env["OTEL_SERVICE_NAME"] = "payments"
    assert load_config(env=env).service_name == "payments"


def test_store_shorthand_variables_set_the_location_below_the_canonical_name() -> None:
    env = {"RICECODER_STORE_DSN": "postgresql://db/tel", "RICECODER_STORE_PATH": "/data/t.db"}
    assert load_config(env=env).store.location == "/data/t.db"
    env["RICECODER_STORE__LOCATION"] = "/other.db"
    assert load_config(env=env).store.location == "/other.db"


# environment parsing ------------------------------------------------------------------------


def test_nested_variables_with_double_underscore() -> None:
    env = {
        "RICECODER_METRICS__CARDINALITY_LIMIT": "500",
        "RICECODER_COMPLIANCE__REDACTION__ENABLED": "false",
        "RICECODER_ALERTING__EVALUATION_INTERVAL": "1m",
        "ricecoder_performance__slow_request_threshold": "250ms",
    }
    config = load_config(env=env)
    assert config.metrics.cardinality_limit == 500
    assert config.compliance.redaction.enabled is False
    assert config.alerting.evaluation_interval == timedelta(minutes=1)
    assert config.performance.slow_request_threshold == timedelta(milliseconds=250)


@pytest.mark.parametrize("value", ['["http.server", "db.client"]', "http.server, db.client"])
def test_lists_as_json_or_comma_separated(value: str) -> None:
    config = load_config(env={"RICECODER_ANOMALY__METRICS": value})
    assert config.anomaly.metrics == ["http.server", "db.client"]


def test_number_lists_and_empty_lists() -> None:
    config = load_config(
        env={"RICECODER_METRICS__DURATION_BUCKETS_SECONDS": "0.1,0.5,1", "RICECODER_ANOMALY__METRICS": ""}
    )
    assert config.metrics.duration_buckets_seconds == [0.1, 0.5, 1.0]
    assert config.anomaly.metrics == []


def test_mappings_and_rules_as_json_and_single_mapping_entries(tmp_path: Path) -> None:
    path = write(tmp_path, "compliance:\n  redaction:\n    patterns:\n      order_id: 'ORD-\\d+'\n")
    env = {
        "RICECODER_COMPLIANCE__REDACTION__PATTERNS__TICKET": r"TCK-\d{4}",
        "RICECODER_ALERTING__RULES": '[{"name": "slow", "metric": "latency", "threshold": 0.5, "for": "2m"}]',
    }
    config = load_config(path, env=env)
    assert config.compliance.redaction.patterns == {"order_id": r"ORD-\d+", "ticket": r"TCK-\d{4}"}
    assert config.alerting.rules[0].for_ == timedelta(minutes=2)


def test_empty_value_clears_an_optional_setting(tmp_path: Path) -> None:
    path = write(tmp_path, "error_tracking:\n  environment: staging\n")
    assert load_config(path, env={"RICECODER_ERROR_TRACKING__ENVIRONMENT": ""}).error_tracking.environment is None


def test_variables_that_are_not_settings_are_ignored() -> None:
    env = {
        "RICECODER_CONFIG_FILE": "",
        "RICECODER_CACHE_DIR": "/tmp/cache",
        "RICECODER_VENV": "/opt/venv",
        "PATH": "/bin",
        "OTEL_TRACES_EXPORTER": "otlp",
    }
    assert load_config(env=env) == load_config(env={})


def test_top_level_keys_and_whole_sections_as_variables() -> None:
    env = {"RICECODER_ENABLED": "false", "RICECODER_DASHBOARDS": '{"port": 8080}', "RICECODER_METRICS": "x"}
    assert problems(env=env) == [
        'RICECODER_METRICS: metrics: expected a JSON object like {"key": "value"} '
        "(invalid JSON at column 1: Expecting value)"
    ]
    del env["RICECODER_METRICS"]
    config = load_config(env=env)
    assert config.enabled is False and config.dashboards.port == 8080


# problems -----------------------------------------------------------------------------------


def test_every_problem_is_reported_with_path_and_expected_form(tmp_path: Path) -> None:
    rules = "".join(f"    - {{name: r{i}, metric: m, threshold: 1, for: 1m}}\n" for i in range(3))
    path = write(
        tmp_path,
        "metrics:\n"
        "  cardinalty_limit: 10\n"
        "  export_interval: -5s\n"
        "alerting:\n"
        "  rules:\n" + rules + "    - {name: r3, metric: m, threshold: 1, for: soon}\n"
        "performance:\n"
        "  cpu_threshold_percent: lots\n",
    )
    found = problems(path)
    assert found == [
        f"{path}:2: metrics.cardinalty_limit: unknown key (did you mean 'cardinality_limit'?)",
        f"{path}:3: metrics.export_interval: expected a duration like 5m (got '-5s')",
        f"{path}:9: alerting.rules[3].for: expected a duration like 5m (got 'soon')",
        f"{path}:11: performance.cpu_threshold_percent: expected a number (got 'lots')",
    ]


def test_config_error_message_lists_all_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics:\n  enabled: maybe\nanalytics: {enabled: sometimes}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    text = str(info.value)
    assert text.startswith("invalid configuration (2 problems):")
    assert "metrics.enabled: expected true or false (got 'maybe')" in text
    assert "analytics.enabled: expected true or false (got 'sometimes')" in text


def test_unknown_section_and_key_without_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "metrix: {}\nstore:\n  zzz: 1\n")
    assert problems(path) == [
        f"{path}:1: metrix: unknown key (did you mean 'metrics'?)",
        f"{path}:3: store.zzz: unknown key; expected one of: location, max_age, max_size_mb",
    ]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("metrics:\n  cardinality_limit: [1]\n", "metrics.cardinality_limit: expected an integer (got a list)"),
        ("metrics: 5\n", "metrics: expected a mapping (got 5)"),
        ("metrics:\n  cardinality_limit: 0\n", "metrics.cardinality_limit: expected a number greater than 0 (got 0)"),
        ("metrics:\n  duration_buckets_seconds: [1, 0.5]\n", "strictly increasing"),
        ("metrics:\n  export_interval: 0s\n", "metrics.export_interval: expected a positive duration like 5m"),
        ("error_tracking: {sample_rate: 1.5}\n", "error_tracking.sample_rate: expected a number of at most 1.0"),
        (
            "alerting: {rules: [{name: x, metric: m, threshold: 1, severity: urgent}]}\n",
            "alerting.rules[0].severity: expected one of 'info', 'warning', 'critical' (got 'urgent')",
        ),
        (
            "alerting: {rules: [{name: x, metric: m, threshold: 1, operator: '=>'}]}\n",
            "alerting.rules[0].operator: expected one of '>', '>=', '<', '<=', '==', '!='",
        ),
        ("alerting: {rules: [{name: x, metric: m}]}\n", "alerting.rules[0].threshold: required key missing"),
        (
            "compliance: {redaction: {builtin: [emial]}}\n",
            "compliance.redaction.builtin[0]: unknown built-in pattern 'emial' (did you mean 'email'?)",
        ),
        ("anomaly: {metrics: latency}\n", "anomaly.metrics: expected a list (got 'latency')"),
    ],
)
def test_wrong_types_and_values(tmp_path: Path, yaml_text: str, expected: str) -> None:
    found = problems(write(tmp_path, yaml_text))
    assert len(found) == 1
    assert expected in found[0]


def test_invalid_redaction_pattern_names_the_pattern(tmp_path: Path) -> None:
    path = write(tmp_path, "compliance:\n  redaction:\n    patterns:\n      ok: 'a+'\n      order_id: '[0-9'\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:5: compliance.redaction.patterns.order_id: invalid regular expression:")


def test_malformed_yaml_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics:\n  enabled: true\n   bad: [1, 2\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}:3:")
    assert "malformed YAML" in found


def test_malformed_yaml_never_quotes_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "store:\n  location: postgresql://app:hunter2@db/tel\n  max_age: [\n")
    assert "hunter2" not in " ".join(problems(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- metrics\n- alerting\n", "expected a mapping of sections at the top level, got a list"),
        ("just text\n", "expected a mapping of sections at the top level, got a str"),
        ("a: 1\n---\nb: 2\n", "malformed YAML"),
    ],
)
def test_document_that_is_not_one_mapping(tmp_path: Path, text: str, expected: str) -> None:
    (found,) = problems(write(tmp_path, text))
    assert expected in found


def test_empty_file_is_valid(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing configured yet\n"), env={}).enabled


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics:\n  cardinality_limit: 10\n  cardinality_limit: 20\n")
    (found,) = problems(path)
    assert (
        found
        == f"{path}:3: metrics.cardinality_limit: duplicate key (also on line 2; one value would be silently lost)"
    )


def test_missing_directory_and_binary_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(missing, env={})
    assert info.value.unreadable and str(info.value.problems[0]) == f"{missing}: file not found"
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert info.value.unreadable and "is a directory" in str(info.value)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError) as info:
        load_config(binary, env={})
    assert not info.value.unreadable and "not UTF-8 text" in str(info.value)


def test_unreadable_path(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\n") / "inside-a-file.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.unreadable
    assert str(info.value.problems[0]) == f"{path}: cannot read the file: Not a directory"


def test_problems_from_variables_name_the_variable() -> None:
    found = problems(
        env={
            "RICECODER_METRICS__CARDINALITY_LIMIT": "lots",
            "RICECODER_METRICS__CARDINALTY_LIMIT": "5",
            "RICECODER_ALERTING__RULES": '[{"name": "x"',
            "RICECODER_COMPLIANCE__REDACTION__PATTERNS": "email",
            "RICECODER_METRICS___ENABLED": "true",
            "RICECODER_METRICS__": "true",
        }
    )
    assert sorted(found) == sorted(
        [
            "RICECODER_METRICS__CARDINALITY_LIMIT: metrics.cardinality_limit: expected an integer (got 'lots')",
            "RICECODER_METRICS__CARDINALTY_LIMIT: metrics.cardinalty_limit: unknown key "
            "(did you mean RICECODER_METRICS__CARDINALITY_LIMIT?)",
            "RICECODER_ALERTING__RULES: alerting.rules: expected a JSON list or comma-separated values "
            "(invalid JSON at column 14: Expecting ',' delimiter)",
            "RICECODER_COMPLIANCE__REDACTION__PATTERNS: compliance.redaction.patterns: expected a JSON object like "
            '{"key": "value"} (invalid JSON at column 1: Expecting value)',
            "RICECODER_METRICS___ENABLED: metrics._enabled: unknown key (did you mean RICECODER_METRICS__ENABLED?)",
            "RICECODER_METRICS__: malformed name: sections are separated by exactly two underscores, "
            "like RICECODER_METRICS__CARDINALITY_LIMIT",
        ]
    )


def test_rule_errors_inside_a_json_variable_name_the_variable() -> None:
    (found,) = problems(
        env={"RICECODER_ALERTING__RULES": '[{"name": "x", "metric": "m", "threshold": 1, "for": "-1m"}]'}
    )
    assert found == "RICECODER_ALERTING__RULES: alerting.rules[0].for: expected a duration like 5m (got '-1m')"


def test_file_and_variable_problems_are_collected_together(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics: {enabled: maybe}\n")
    found = problems(path, env={"RICECODER_STORE__MAX_SIZE_MB": "big"})
    assert found == [
        f"{path}:1: metrics.enabled: expected true or false (got 'maybe')",
        "RICECODER_STORE__MAX_SIZE_MB: store.max_size_mb: expected an integer (got 'big')",
    ]


def test_secrets_never_appear_in_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "alerting:\n"
        "  rules:\n"
        "    - name: x\n"
        "      metric: m\n"
        "      threshold: 1\n"
        "      labels: {api_token: 987654321}\n"
        "error_tracking:\n"
        "  sentry_dsn: [https://abc123key@sentry.example/1]\n"
        "store:\n"
        "  max_size_mb: postgresql://app:hunter2@db/tel\n",
    )
    env = {"RICECODER_DASHBOARDS__PORT": "postgresql://app:swordfish@db/tel"}
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    text = str(info.value) + repr(info.value.problems)
    assert len(info.value.problems) == 4
    for secret in ("987654321", "abc123key", "hunter2", "swordfish"):
        assert secret not in text


def test_list_entries_cannot_be_set_one_by_one() -> None:
    (found,) = problems(env={"RICECODER_ALERTING__RULES__0__THRESHOLD": "5"})
    assert found == (
        "RICECODER_ALERTING__RULES__0__THRESHOLD: alerting.rules[0].threshold: "
        "list entries cannot be set one by one; set the whole list as JSON"
    )


def test_lower_case_variables_and_files_named_like_variables(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics: {cardinalty_limit: 1}\n", "RICECODER_SETTINGS")
    found = problems(path, env={"ricecoder_metrics__enabld": "true"})
    assert found == [
        f"{path}:1: metrics.cardinalty_limit: unknown key (did you mean 'cardinality_limit'?)",
        "ricecoder_metrics__enabld: metrics.enabld: unknown key (did you mean RICECODER_METRICS__ENABLED?)",
    ]


def test_nested_alias_bomb_is_rejected_without_expanding(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = write(tmp_path, "\n".join(levels) + "\n")
    found = problems(path)
    assert len(found) == 9
    sections = ", ".join(MonitoringConfig.model_fields)
    assert found[0] == f"{path}:1: a0: unknown key; expected one of: {sections}"


def test_deeply_nested_yaml_is_a_syntax_problem(tmp_path: Path) -> None:
    (found,) = problems(write(tmp_path, "metrics: " + "[" * 100_000 + "]" * 100_000 + "\n"))
    assert "malformed YAML" in found
