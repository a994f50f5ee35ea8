from pathlib import Path

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.config.reference import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_committed_reference_is_up_to_date() -> None:
    assert DOC.is_file(), f"{DOC} is missing"
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `python -m ricecoder_otel.config.reference > docs/configuration.md`"
    )


def test_reference_lists_every_field_with_type_default_and_variable() -> None:
    page = render()
    for name, info in MonitoringConfig.model_fields["metrics"].annotation.model_fields.items():  # type: ignore[union-attr]
        assert f"| `metrics.{name}` |" in page
        assert f"`RICECODER_METRICS__{name.upper()}`" in page
        assert info.description and info.description in page
    assert "| `compliance.redaction.patterns` |" in page
    assert "| `alerting.rules[].for` | duration | `0s` | — |" in page
    assert (
        "| `metrics.export_interval` | duration (> 0, <= 1d) | `10s` | `RICECODER_METRICS__EXPORT_INTERVAL` |" in page
    )
    assert "| `error_tracking.sentry_dsn` | secret string or null | `null` |" in page
    assert "| `alerting.rules[].threshold` | number or null | `null` | — |" in page  # required by some kinds


def test_reference_marks_what_is_not_built_yet() -> None:
    page = render()
    assert "| `performance.anomaly_detection_enabled` | boolean | `true` | " in page
    assert "`RICECODER_PERFORMANCE__ANOMALY_DETECTION_ENABLED` | **Not built yet:**" in page
    assert "`RICECODER_DASHBOARDS__REFRESH_INTERVAL` | **Not built yet:**" not in page
    for section in ("metrics", "anomaly", "store", "compliance.redaction", "error_tracking", "analytics", "alerting"):
        table = page.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        assert "Nothing reads this section" not in table, section
    # what is built carries no marker
    assert (
        "| `metrics.cardinality_limit` | integer (> 0) | `2000` | `RICECODER_METRICS__CARDINALITY_LIMIT` | Most" in page
    )
    assert "| `store.max_age` | duration (> 0) | `7d` | `RICECODER_STORE__MAX_AGE` | Telemetry older" in page


def test_reference_shows_the_seed_aliases() -> None:
    page = render()
    assert "| `metrics.collection_interval` | duration (> 0, <= 1d) or null | `null` |" in page
    assert "| `metrics.retention_period` | duration (> 0) or null | `null` |" in page
    assert "| `metrics.exporters` | list of strings or null | `null` | `RICECODER_METRICS__EXPORTERS` |" in page
