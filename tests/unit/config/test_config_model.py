from datetime import timedelta

import pytest
from pydantic import SecretStr, ValidationError

from ricecoder_otel.config import AlertRule, MonitoringConfig
from ricecoder_otel.config.model import BUILTIN_REDACTION_PATTERNS, DEFAULT_DURATION_BUCKETS_SECONDS


def test_empty_config_is_valid_with_documented_defaults() -> None:
    config = MonitoringConfig.model_validate({})
    assert config.enabled and config.service_name is None
    assert config.metrics.cardinality_limit == 2000
    assert config.metrics.duration_buckets_seconds == list(DEFAULT_DURATION_BUCKETS_SECONDS)
    assert config.metrics.export_interval == timedelta(seconds=10)
    assert config.performance.slow_request_threshold == timedelta(seconds=1)
    assert config.performance.cpu_threshold_percent == 80
    assert config.performance.memory_threshold_percent == 90
    assert config.compliance.retention == timedelta(days=30)
    assert config.compliance.redaction.builtin == list(BUILTIN_REDACTION_PATTERNS)
    assert config.store.max_age == timedelta(days=7) and config.store.max_size_mb == 512
    sections = (
        "metrics",
        "alerting",
        "error_tracking",
        "performance",
        "anomaly",
        "analytics",
        "compliance",
        "dashboards",
    )
    assert all(getattr(config, name).enabled for name in sections)


def test_every_field_has_a_description() -> None:
    from pydantic import BaseModel

    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        seen.add(model)
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"
            for candidate in _models_in(info.annotation):
                if candidate not in seen:
                    walk(candidate)

    walk(MonitoringConfig)
    assert AlertRule in seen


def _models_in(annotation: object) -> list[type]:
    from typing import get_args

    from pydantic import BaseModel

    found = [annotation] if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found  # type: ignore[return-value]


def test_alert_rule_accepts_for_alias_and_field_name() -> None:
    from_file = AlertRule.model_validate({"name": "r", "metric": "m", "threshold": 1, "for": "5m"})
    from_code = AlertRule(name="r", metric="m", threshold=1, for_=timedelta(minutes=5))
    assert from_file == from_code
    assert from_file.model_dump(by_alias=True, mode="json")["for"] == "5m"


def test_rule_names_must_be_unique() -> None:
    rule = {"name": "high-latency", "metric": "m", "threshold": 1}
    with pytest.raises(ValidationError, match="duplicate rule name 'high-latency'"):
        MonitoringConfig.model_validate({"alerting": {"rules": [rule, rule]}})


def test_configs_are_immutable() -> None:
    config = MonitoringConfig()
    with pytest.raises(ValidationError, match="frozen"):
        config.metrics.cardinality_limit = 0  # type: ignore[misc]
    changed = config.model_copy(update={"service_name": "shop"})
    assert changed.service_name == "shop" and config.service_name is None


def test_sentry_dsn_is_hidden_in_repr_and_json() -> None:
    config = MonitoringConfig.model_validate({"error_tracking": {"sentry_dsn": "https://key@sentry.example/1"}})
    assert isinstance(config.error_tracking.sentry_dsn, SecretStr)
    assert "key@" not in repr(config)
    assert "key@" not in config.model_dump_json()
    assert config.error_tracking.sentry_dsn.get_secret_value() == "https://key@sentry.example/1"
