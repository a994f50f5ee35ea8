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
    assert "| `metrics.export_interval` | duration (> 0) | `10s` | `RICECODER_METRICS__EXPORT_INTERVAL` |" in page
    assert "| `error_tracking.sentry_dsn` | secret string or null | `null` |" in page
    assert "| `alerting.rules[].threshold` | number | required |" in page
