"""``ricecoder-otel doctor`` with no OTLP endpoint: the embedded store is the healthy default."""

from __future__ import annotations

import time
from pathlib import Path

from ricecoder_otel.store import open_store
from ricecoder_otel.store.records import LogRow
from tests.harness.store_rows import span
from tests.integration.collector.doctor_run import run_doctor

SIGNALS = ("traces", "metrics", "logs")


def test_nothing_configured_is_embedded_mode_and_healthy_before_the_first_export(tmp_path: Path) -> None:
    code, report = run_doctor(home=tmp_path)
    assert code == 0, report
    assert (report["ok"], report["mode"]) == (True, "embedded")
    store = report["store"]
    assert store["location"] == str(tmp_path / "ricecoder-otel" / "telemetry.db")
    assert (store["exists"], store["writable"], store["backend"]) == (False, True, "sqlite")
    for signal in SIGNALS:
        assert report["signals"][signal]["exporters"] == ["ricecoder_local"]
        assert [h["hop"] for h in report["signals"][signal]["hops"]] == ["store"]
    assert not (tmp_path / "ricecoder-otel").exists(), "doctor must not create the store"


def test_embedded_mode_counts_what_the_service_wrote_in_the_last_hour(tmp_path: Path) -> None:
    db = tmp_path / "telemetry.db"
    now_ns = time.time_ns()
    with open_store(db) as store:
        store.write_spans([span(i, at=now_ns - i * 1_000_000_000) for i in range(3)])
        store.write_spans([span(9, at=now_ns - 2 * 3600 * 1_000_000_000)])  # older than an hour
        store.write_logs([LogRow(time_ns=now_ns, severity_number=9, severity_text="INFO", body="hi")])
    code, report = run_doctor(env={"RICECODER_STORE_PATH": str(db)}, home=tmp_path / "unused")
    assert code == 0, report
    store_report = report["store"]
    assert store_report["location"] == str(db)
    assert store_report["recent_rows"]["spans"] == 3
    assert store_report["recent_rows"]["logs"] == 1
    assert "last hour: 3 spans" in store_report["detail"]


def test_a_store_the_service_cannot_write_fails_and_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    code, report = run_doctor(env={"RICECODER_STORE_PATH": str(blocker / "telemetry.db")})
    assert code == 1
    store = report["store"]
    assert store["ok"] is False and store["writable"] is False
    assert f"{blocker} is a file" in store["detail"]
    assert "RICECODER_STORE_PATH" in store["fix"]
    assert all(not report["signals"][s]["ok"] for s in SIGNALS)


def test_an_exporter_nothing_provides_is_named(tmp_path: Path) -> None:
    code, report = run_doctor(env={"OTEL_METRICS_EXPORTER": "ricecoder_local,promethus"}, home=tmp_path)
    assert code == 1
    metrics = report["signals"]["metrics"]
    assert metrics["exporters"] == ["ricecoder_local", "promethus"]
    failed = next(h for h in metrics["hops"] if not h["ok"])
    assert "'promethus'" in failed["detail"] and "OTEL_METRICS_EXPORTER" in failed["fix"]
    assert report["signals"]["traces"]["ok"] is True


def test_console_and_none_are_named_not_probed(tmp_path: Path) -> None:
    code, report = run_doctor(env={"OTEL_TRACES_EXPORTER": "console", "OTEL_LOGS_EXPORTER": "none"}, home=tmp_path)
    assert code == 0, report
    assert report["mode"] == "embedded"  # metrics still go to the store
    assert "stdout" in report["signals"]["traces"]["hops"][0]["detail"]
    assert "not exported" in report["signals"]["logs"]["hops"][0]["detail"]


def test_an_invalid_config_file_is_reported_and_the_default_store_checked_as_the_service_would(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ricecoder.yaml"
    config.write_text(f"store:\n  location: {tmp_path / 'configured.db'}\nmetrics:\n  cardinality_limit: lots\n")
    code, report = run_doctor(env={"RICECODER_CONFIG_FILE": str(config)}, home=tmp_path)
    assert code == 0, report  # the service runs on defaults, so its telemetry lands in the default store
    store = report["store"]
    assert store["location"] == str(tmp_path / "ricecoder-otel" / "telemetry.db")
    assert "metrics.cardinality_limit" in store["config_problem"]


def test_metrics_exporters_from_the_config_file_apply_unless_the_variable_is_set(tmp_path: Path) -> None:
    config = tmp_path / "ricecoder.yaml"
    config.write_text("metrics:\n  exporters: [console]\n")
    code, report = run_doctor(env={"RICECODER_CONFIG_FILE": str(config)}, home=tmp_path)
    assert code == 0, report
    assert report["signals"]["metrics"]["exporters"] == ["console"]
    assert report["signals"]["traces"]["exporters"] == ["ricecoder_local"]
    _, report = run_doctor(
        env={"RICECODER_CONFIG_FILE": str(config), "OTEL_METRICS_EXPORTER": "ricecoder_local"}, home=tmp_path
    )
    assert report["signals"]["metrics"]["exporters"] == ["ricecoder_local"]
