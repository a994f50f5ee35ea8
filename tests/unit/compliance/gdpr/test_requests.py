"""Subject request deadlines (GDPR Art. 12(3)): one calendar month, three when extended; the RoPA."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ricecoder_otel.compliance.gdpr.requests import RequestLog, add_months
from ricecoder_otel.compliance.gdpr.ropa import record_of_processing
from ricecoder_otel.compliance.gdpr.subjects import subject_ref
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import Store


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_one_month_is_a_calendar_month_clamped_to_its_last_day() -> None:
    assert add_months(ts("2025-01-31T10:00:00"), 1) == ts("2025-02-28T10:00:00")
    assert add_months(ts("2024-01-31T10:00:00"), 1) == ts("2024-02-29T10:00:00")
    assert add_months(ts("2025-11-15T00:00:00"), 3) == ts("2026-02-15T00:00:00")


def test_open_requests_turn_late_after_a_month_unless_extended(make_store: Callable[..., Store]) -> None:
    store = make_store()
    log = RequestLog(store)
    received = ts("2025-03-10T09:00:00")
    with log.store._transaction(write=True) as cur:
        late = log.open(cur, "erasure", subject_ref("late-subject"), received)
        extended = log.open(cur, "access", subject_ref("extended-subject"), received)
    log.extend(extended.id, "several systems to search")
    after_a_month = int(ts("2025-04-10T09:00:01") * 1e9)
    found = {r.id: r for r in log.list()}
    assert not found[late.id].on_time(after_a_month)
    assert found[extended.id].on_time(after_a_month) and found[extended.id].extended
    assert found[extended.id].due_ns == int(ts("2025-06-10T09:00:00") * 1e9)
    assert found[extended.id].detail == {"extension_reason": "several systems to search"}
    with log.store._transaction(write=True) as cur:
        log.complete(cur, late.id, ts("2025-04-20T00:00:00"), 3, {})
    done = {r.id: r for r in log.list()}[late.id]
    assert done.state == "completed" and not done.on_time(after_a_month)  # completed, but after its deadline


def test_the_record_of_processing_comes_from_the_live_configuration() -> None:
    config = MonitoringConfig.model_validate(
        {"service_name": "shop", "compliance": {"retention": "45d", "data_retention": {"errors": "14d"}}}
    )
    record = record_of_processing(
        config, {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:secret@collector.example.com:4318"}
    )
    limits = {a["data_class"]: a["time_limit_for_erasure_days"] for a in record["activities"]}
    assert limits == {"telemetry": 7, "analytics": 45, "audit": 2555, "incidents": 45, "errors": 14}
    assert record["controller"] == "shop"
    recipients = record["activities"][0]["recipients"]
    assert "OTLP collector https://collector.example.com:4318 (OTEL_EXPORTER_OTLP_ENDPOINT)" in recipients
    assert "secret" not in str(record)
    assert any(m.startswith("redaction before export: on") for m in record["security_measures"])
