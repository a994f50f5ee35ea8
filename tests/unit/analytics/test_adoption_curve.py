"""Adoption curves per release on the hand-computed scenario, releases through the store and the pipeline.

Release 1.0 is first seen on day 0 at 09:00 and 1.1 on day 7 at 08:00, so 1.0's curve covers days
0-6 and 1.1's days 7-15 (see ``scenario`` for who did what when).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.analytics.engine import AnalyticsCore, Dataset, day_of
from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.cli import main as cli
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import open_store
from ricecoder_otel.testing import ManualClock, RicecoderCapture
from tests.unit.analytics.scenario import D0, END, KEY, at, config, engine, feed


def released(core: AnalyticsCore) -> Dataset:
    assert core.release("1.0", at=at(0, 9)) and core.release("1.1", at=at(7, 8))
    feed(core)
    return core.snapshot()


def curve(rows: list[dict[str, object]], release: str, feature: str, column: str) -> list[object]:
    return [r[column] for r in rows if r["release"] == release and r["feature"] == feature]


def test_daily_curves_per_release() -> None:
    data = released(engine())
    rows = reports.adoption_curve(data, reports.releases(data, config()), D0, END).rows
    # 1.0, days 0-6: active a, b (d0), c (d1); export a, c (d1); search a, b (d0).
    assert curve(rows, "1.0", "export", "active_users") == [2, 3, 3, 3, 3, 3, 3]
    assert curve(rows, "1.0", "export", "users") == [0, 2, 2, 2, 2, 2, 2]
    assert curve(rows, "1.0", "export", "adoption") == [0.0] + [round(2 / 3, 6)] * 6
    assert curve(rows, "1.0", "export", "first_time_users") == [0, 2, 0, 0, 0, 0, 0]
    assert curve(rows, "1.0", "search", "adoption") == [1.0] + [round(2 / 3, 6)] * 6
    assert curve(rows, "1.0", "search", "first_time_users") == [2, 0, 0, 0, 0, 0, 0]
    # 1.1, days 7-15: active b (d7), a (d8), d (d15); export b (d7); search a (d8), b (d14), d (d15).
    assert curve(rows, "1.1", "export", "active_users") == [1, 2, 2, 2, 2, 2, 2, 2, 3]
    assert curve(rows, "1.1", "export", "users") == [1] * 9
    assert curve(rows, "1.1", "export", "first_time_users") == [1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert curve(rows, "1.1", "search", "users") == [0, 1, 1, 1, 1, 1, 1, 2, 3]
    assert curve(rows, "1.1", "search", "adoption")[-1] == 1.0
    assert curve(rows, "1.1", "search", "first_time_users") == [0] * 8 + [1]  # d's first search ever
    first = rows[0]
    assert (first["release"], first["released"], first["period"], first["through"]) == (
        "1.0",
        "2024-01-01",
        0,
        "2024-01-01",
    )
    assert {r["through"] for r in rows if r["release"] == "1.1" and r["period"] == 8} == {"2024-01-16"}


def test_weekly_curve_of_one_feature() -> None:
    data = released(engine())
    report = reports.adoption_curve(data, reports.releases(data, config()), D0, END, interval="week", feature="search")
    assert [(r["release"], r["period"], r["through"], r["active_users"], r["users"]) for r in report.rows] == [
        ("1.0", 0, "2024-01-07", 3, 2),
        ("1.1", 0, "2024-01-14", 2, 1),
        ("1.1", 1, "2024-01-16", 3, 3),
    ]
    assert report.notes == ("interval: week; feature: search",)


def test_a_declared_release_time_replaces_the_first_sighting_and_the_window_selects_releases() -> None:
    data = released(engine())
    settings = config(releases={"1.1": "2024-01-10T00:00:00"})
    assert reports.releases(data, settings)["1.1"] == at(9, 0)
    rows = reports.build("adoption-curve", data, settings, D0 + 1, END, interval="day", feature="export").rows
    # 1.0 came out on day 0, before the window: only 1.1 (days 9-15), where nobody exports.
    assert {r["release"] for r in rows} == {"1.1"} and rows[0]["released"] == "2024-01-10"
    assert [r["active_users"] for r in rows] == [0, 0, 0, 0, 0, 1, 2] and {r["users"] for r in rows} == {0}
    assert rows[0]["adoption"] is None


def test_releases_are_written_once_per_flush_and_read_back_apart_from_users(tmp_path: Path) -> None:
    now = [at(0, 9)]
    core = engine(clock=lambda: now[0])
    core.release("1.0")
    assert core.track("a", "search") is not None
    store = open_store(str(tmp_path / "t.db"))
    try:
        writer = AnalyticsStore(store, "r1")
        writer.write(core.drain(), now[0])
        now[0] = at(3, 12)
        assert core.drain().releases["1.0"].first == at(3, 12)  # still running: seen again
        writer.write(core.drain(), now[0])
        other = AnalyticsCore(config(), clock=lambda: at(1, 0))
        other.release("1.0")  # a second replica starting later on the same release
        AnalyticsStore(store, "r2").write(other.drain(), at(1, 0))
        data = AnalyticsStore(store, "reader").read(END, lg_k=config().sketch_lg_k)
    finally:
        store.close()
    assert data.releases["1.0"].first == at(0, 9) and data.releases["1.0"].last == at(3, 12)
    assert {user for _, user, _ in data.activity} == {core.pseudonymise("a")}


def test_release_rejects_bad_versions() -> None:
    dropped: list[str] = []
    core = AnalyticsCore(config(), clock=lambda: at(0, 0), on_drop=lambda reason, n: dropped.append(reason))
    assert not core.release("") and not core.release(None) and not core.release("v" * 201)
    assert dropped == ["analytics.bad_input"] * 3 and not core.drain().releases


def test_the_pipeline_records_the_resources_service_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=2.3.0")
    clock = ManualClock(start=at(2, 6))
    capture = RicecoderCapture(MonitoringConfig.model_validate({"analytics": {"pseudonym_key": KEY}}), clock=clock)
    try:
        analytics = capture.pipeline.capability("analytics")
        assert isinstance(analytics, AnalyticsCapability) and analytics.core is not None
        assert analytics.core.snapshot().releases["2.3.0"].first == at(2, 6)
        clock.advance(3600)
        assert analytics.flush_now()
        report = analytics.report("adoption-curve", since=at(0, 0), until=at(3, 0), interval="day")
        assert report.kind == "adoption-curve" and report.rows == []  # no feature used yet
        data = analytics.dataset(day_of(clock()))
        assert data.releases["2.3.0"].first == at(2, 6) and data.releases["2.3.0"].last == at(2, 7)
    finally:
        capture.close()


def test_cli_prints_the_curve_as_strict_json_and_as_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    location = str(tmp_path / "t.db")
    store = open_store(location)
    try:
        core = engine()
        data_in = released(core)
        AnalyticsStore(store, "r1").write(data_in, at(15, 23))
    finally:
        store.close()
    monkeypatch.chdir(tmp_path)
    argv = ["analytics", "report", "adoption-curve", "--store", location, "--since", "15d", "--until", "2024-01-16"]
    argv += ["--interval", "day"]
    assert cli([*argv, "--feature", "export", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "adoption-curve" and doc["columns"][0]["name"] == "release"
    assert [r["users"] for r in doc["rows"] if r["release"] == "1.0"] == [0, 2, 2, 2, 2, 2, 2]
    assert cli(argv) == 0
    table = capsys.readouterr().out
    assert table.startswith("adoption-curve report, 2024-01-01 to 2024-01-16")
    assert "RELEASE" in table and "FIRST_TIME_USERS" in table and "1.1" in table
