"""Reports and dashboards carry nothing sensitive: they are built from the store, which the
redaction policy guards on write, and from error groups the policy scrubbed before grouping.

A real pipeline with the embedded SQLite store receives PII on every signal (span names and
attributes, an exception, logs, metric attributes); then every built-in dashboard is exported
as HTML and JSON through the CLI, and a compliance report of every standard is rendered in every
format. No sensitive value appears in any of them, while the dashboards did render the data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind, Status, StatusCode

from ricecoder_otel.cli import main as cli
from ricecoder_otel.compliance.reports.engine import STANDARDS, ComplianceEngine
from ricecoder_otel.compliance.reports.formats import FORMATS, render
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.store import open_store

EMAIL = "ana.souza@example.com.br"
CARD = "4111 1111 1111 1111"
IBAN = "DE89370400440532013000"
IP = "203.0.113.77"
AWS = "AKIAIOSFODNN7EXAMPLE"
NEEDLES = [EMAIL, CARD, "4111111111111111", IBAN, IP, AWS]


def _emit(store_path: Path) -> None:
    config = MonitoringConfig.model_validate({"store": {"location": str(store_path)}})
    pipeline = build_pipeline(config, set_global=False, watch_config=False)
    try:
        tracer = pipeline.tracer_provider.get_tracer("shop")
        for _ in range(3):
            with tracer.start_as_current_span(
                f"POST /refund/{EMAIL}", kind=SpanKind.SERVER,
                attributes={"http.request.method": "POST", "http.route": f"/refund/{EMAIL}",
                            "http.response.status_code": 500, "client.address": IP, "iban": IBAN},
            ) as span:  # fmt: skip
                try:
                    raise ValueError(f"refund to {IBAN} for {EMAIL} with card {CARD} failed (key {AWS})")
                except ValueError as error:
                    span.record_exception(error)
                    span.set_status(Status(StatusCode.ERROR, str(error)))
        logger = pipeline.logger_provider.get_logger("shop")
        logger.emit(body=f"refund failed for {EMAIL} from {IP}", severity_number=None,
                    attributes={"card": CARD})  # fmt: skip
        counter = pipeline.meter_provider.get_meter("shop").create_counter("refunds")
        counter.add(1, {"customer": EMAIL, "from": IP})
        pipeline.force_flush()
    finally:
        pipeline.shutdown()


def _leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redaction-reports") / "telemetry.db"
    _emit(path)
    return path


def test_the_store_holds_the_data_redacted(store_path: Path) -> None:
    raw = b"".join(p.read_bytes() for p in store_path.parent.iterdir()).decode("latin-1")
    assert "[REDACTED:email]" in raw and "refund" in raw
    assert _leaks(raw) == []


@pytest.mark.parametrize("fmt", ["html", "json"])
def test_no_exported_dashboard_holds_a_sensitive_value(store_path: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / fmt
    code = cli(["dashboard", "export", "--all", "--format", fmt, "--since", "1h", "--store", str(store_path),
                "--out", str(out)])  # fmt: skip
    assert code == 0
    files = sorted(out.iterdir())
    assert {f.stem for f in files} >= {"service-overview", "errors", "performance", "compliance"}
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    assert "[REDACTED:email]" in text  # the redacted route, span names and error groups were rendered
    assert _leaks(text) == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_no_compliance_report_holds_a_sensitive_value(store_path: Path, standard: str) -> None:
    config = MonitoringConfig.model_validate({"store": {"location": str(store_path)}})
    store = open_store(str(store_path), create=False)
    try:
        report = ComplianceEngine(config, store=store, env={}).generate_compliance_report(standard, 0.0, 4e9)
    finally:
        store.close()
    for fmt in FORMATS:
        text = render(report, fmt)
        assert text and _leaks(text) == [], fmt
