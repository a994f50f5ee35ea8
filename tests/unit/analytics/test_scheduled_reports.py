"""Scheduled reports: the run grid, and reports written and announced by the worker on a manual clock."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.analytics import AnalyticsEngine, reports
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.analytics.schedule import MONDAY, Scheduler, latest_run
from ricecoder_otel.analytics.scheduled import ScheduledReports
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.config.model import AnalyticsConfig, AnalyticsReportKind, AnalyticsSchedule
from ricecoder_otel.kernel.events import AnalyticsReportGenerated, EventHub
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.testing import ManualClock, RicecoderCapture
from tests.unit.analytics.scenario import KEY, at, config, engine, feed

HOUR = 3600.0


def schedule(**fields: object) -> AnalyticsSchedule:
    return AnalyticsSchedule.model_validate({"reports": ["active"], **fields})


def test_the_config_lists_every_report_kind() -> None:
    assert AnalyticsReportKind.__args__ == reports.REPORT_KINDS  # type: ignore[attr-defined]


def test_runs_fall_on_a_grid_from_monday() -> None:
    assert at(0, 0) - MONDAY == 19719 * 86_400  # 2024-01-01 (day 19723) is a Monday too
    assert latest_run(at(3, 10), 86_400, 6 * HOUR) == at(3, 6)
    assert latest_run(at(3, 5), 86_400, 6 * HOUR) == at(2, 6)
    assert latest_run(at(3, 5), 7 * 86_400, 6 * HOUR) == at(0, 6)  # Monday 2024-01-01 06:00
    assert latest_run(at(7, 6), 7 * 86_400, 6 * HOUR) == at(7, 6)


def test_due_once_per_period_and_once_after_a_jump() -> None:
    daily = Scheduler({"daily": schedule(offset="6h"), "weekly": schedule(every="7d")}, at(0, 10))
    assert (daily.next_run("daily"), daily.next_run("weekly")) == (at(1, 6), at(7, 0))
    assert daily.due(at(1, 5, 59)) == []
    assert daily.due(at(1, 6)) == [("daily", at(1, 6))]
    assert daily.due(at(1, 7)) == []
    assert daily.due(at(9, 12)) == [("daily", at(9, 6)), ("weekly", at(7, 0))]  # one run each, the latest
    assert daily.next_run("daily") == at(10, 6) and daily.next_run("weekly") == at(14, 0)


def test_a_clock_going_back_resets_the_next_run_and_reconfiguring_keeps_unchanged_ones() -> None:
    scheduler = Scheduler({"daily": schedule()}, at(10, 12))
    assert scheduler.due(at(3, 12)) == [] and scheduler.next_run("daily") == at(4, 0)
    scheduler.reconfigure({"daily": schedule(), "hourly": schedule(every="1h")}, at(3, 12, 30))
    assert scheduler.next_run("daily") == at(4, 0) and scheduler.next_run("hourly") == at(3, 13)
    scheduler.reconfigure({"daily": schedule(offset="1h")}, at(3, 12, 30))
    assert scheduler.next_run("daily") == at(4, 1)


def test_schedule_config_errors_are_located() -> None:
    for bad, message in (
        ({"x/y": {"reports": ["active"]}}, "schedule 'x/y'"),
        ({"d": {"reports": ["active"], "every": "10s"}}, "every: expected at least 1m"),
        ({"d": {"reports": ["active"], "offset": "1d"}}, "offset: expected less than `every`"),
        ({"d": {"reports": ["active"], "publish": False}}, "give a `directory`"),
        ({"d": {"reports": []}}, "schedules.d.reports"),
    ):
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            AnalyticsConfig.model_validate({"schedules": bad})


def files(directory: Path, count: int) -> list[Path]:
    """The report files once ``count`` exist (the worker writes them; poll with a deadline)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = sorted(directory.glob("*.csv")) if directory.exists() else []
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"expected {count} report files in {directory}")


def test_the_worker_writes_and_announces_due_reports_by_the_pipelines_clock(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    settings = {
        "pseudonym_key": KEY,
        "schedules": {
            "daily": {
                "reports": ["active", "adoption"],
                "offset": "6h",
                "days": 2,
                "format": "csv",
                "directory": str(out),
            }
        },
    }
    clock = ManualClock(start=at(0, 10))
    capture = RicecoderCapture(MonitoringConfig.model_validate({"analytics": settings}), clock=clock)
    announced: list[AnalyticsReportGenerated] = []
    capture.pipeline.hub.subscribe(AnalyticsReportGenerated, announced.append)
    try:
        analytics = AnalyticsEngine().start()
        assert analytics.track_action("alice", "search")
        clock.advance(HOUR)
        assert analytics.track_action("bob", "export") and analytics.track_action("alice", "export")
        clock.advance(at(1, 6) - clock())
        first = files(out, 2)
        assert [p.name for p in first] == ["daily-active-20240102T0600Z.csv", "daily-adoption-20240102T0600Z.csv"]
        adoption = {r["feature"]: r for r in csv.DictReader(io.StringIO(first[1].read_text()))}
        # Days 2023-12-31 and 2024-01-01: alice (search, export) and bob (export) on day 0.
        assert (adoption["export"]["users"], adoption["export"]["adoption"]) == ("2", "1.0")
        assert (adoption["search"]["users"], adoption["search"]["adoption"]) == ("1", "0.5")
        active = {r["feature"]: r for r in csv.DictReader(io.StringIO(first[0].read_text()))}
        assert (active["*"]["dau"], active["*"]["mau"]) == ("2", "2")
        clock.advance(3 * 86_400)  # three runs missed: one report each, for the latest
        later = files(out, 4)
        assert {p.name for p in later} - {p.name for p in first} == {
            "daily-active-20240105T0600Z.csv",
            "daily-adoption-20240105T0600Z.csv",
        }
        records = capture.events("ricecoder.analytics.report")
        assert len(records) == 4 and len(announced) == 4
        attrs = dict(records[1].log_record.attributes or {})
        assert attrs["ricecoder.analytics.report.kind"] == "adoption"
        assert attrs["ricecoder.analytics.report.rows"] == 2
        assert attrs["ricecoder.analytics.report.path"] == str(first[1])
        assert attrs["ricecoder.analytics.report.period.start"].startswith("2023-12-31T00:00:00")
        assert announced[2].period_end == at(4, 0)
        assert "alice" not in "".join(p.read_text() for p in later)
        worker = capture.pipeline.capability("analytics")
        assert isinstance(worker, AnalyticsCapability) and worker.scheduled is not None
        assert worker.scheduled.scheduler.next_run("daily") == at(5, 6)
    finally:
        capture.close()


def test_a_report_that_cannot_be_written_is_counted_and_the_others_still_run(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    core = engine()
    feed(core)
    data = core.snapshot()
    settings = config()
    hub = EventHub(background=False)
    announced: list[AnalyticsReportGenerated] = []
    hub.subscribe(AnalyticsReportGenerated, announced.append)

    def make(kind: str, *, since: float, until: float, **options: Any) -> reports.Report:
        return reports.build(kind, data, settings, int(since // 86_400), int(until // 86_400), **options)

    runner = ScheduledReports(
        {"broken": schedule(directory=str(blocked / "x")), "fine": schedule(reports=["segments"])},
        clock=lambda: at(15, 23),
        make=make,
        hub=hub,
    )
    assert runner.run("broken", runner.schedules["broken"], at(16, 0)) == 0
    assert SELF_TELEMETRY.snapshot().errors["analytics.schedule"] == 1
    assert runner.run("fine", runner.schedules["fine"], at(16, 0)) == 1
    hub.flush()
    assert [(e.schedule, e.kind, e.rows, e.path) for e in announced] == [("fine", "segments", 3, "")]
