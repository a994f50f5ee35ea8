"""Queries against a real SQLite store, filled by the real pipeline or through the store API."""

from __future__ import annotations

import pytest

from ricecoder_otel.dashboards import Dashboard, GridPos, Panel, Query, Variable
from ricecoder_otel.dashboards.builtin import service_overview
from ricecoder_otel.dashboards.queries import Evaluation, MetricSource, Window, quantile, run_query
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.store.records import LogRow, MetricPoint
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.unit.dashboards.support import BOUNDS, StoredPipeline, histogram_point

MS = 1_000_000
T0 = 1_800_000_000.0


def _counts(per_bucket: dict[int, int]) -> list[int]:
    return [per_bucket.get(i, 0) for i in range(len(BOUNDS) + 1)]


def test_red_panels_from_the_real_pipeline(stored_pipeline: StoredPipeline, store: SQLiteStore) -> None:
    stored_pipeline.collect()
    for _ in range(8):
        stored_pipeline.request("/orders", 0.020)
    stored_pipeline.request("/pay", 0.300, status=503)
    stored_pipeline.collect()
    for _ in range(2):
        stored_pipeline.request("/orders", 0.020)
    stored_pipeline.request("/pay", 0.300, status=503)
    stored_pipeline.collect()

    snapshot = take_snapshot(store, service_overview(), range_ns=60_000 * MS, min_step_ns=MS)
    panels = snapshot["panels"]
    routes = {row[0]: row[1:] for row in panels["routes"]["rows"]}
    assert set(routes) == {"/orders", "/pay"}
    rate, errors, p50, p95, p99 = routes["/pay"]
    assert rate > 0 and errors == pytest.approx(rate)  # every /pay request failed
    assert 0.25 < p50 <= p95 <= p99 <= 0.5  # 300 ms lies in the (250 ms, 500 ms] bucket
    assert 0.01 < routes["/orders"][2] <= 0.025 and routes["/orders"][1] is None
    assert snapshot["options"] == {"service": ["shop"], "route": ["/orders", "/pay"]}
    # A series' first point is its baseline (as in Prometheus): the heatmap counts the 3 requests after it.
    assert panels["rate"]["value"] > 0 and panels["errors"]["value"] > 0
    assert panels["heatmap"]["bounds"] == BOUNDS and sum(map(sum, panels["heatmap"]["counts"])) == 3


def test_variables_filter_the_data(stored_pipeline: StoredPipeline, store: SQLiteStore) -> None:
    stored_pipeline.collect()
    stored_pipeline.request("/orders", 0.02)
    stored_pipeline.request("/pay", 0.3)
    stored_pipeline.collect()
    stored_pipeline.request("/orders", 0.02)
    stored_pipeline.request("/pay", 0.3)
    stored_pipeline.collect()
    only_pay = take_snapshot(
        store, service_overview(), variables={"route": "/pay"}, range_ns=60_000 * MS, min_step_ns=MS
    )
    assert [row[0] for row in only_pay["panels"]["routes"]["rows"]] == ["/pay"]
    assert [s["label"] for s in only_pay["panels"]["rate_by_route"]["series"]] == ["/pay"]
    other = take_snapshot(
        store, service_overview(), variables={"service": "billing"}, range_ns=60_000 * MS, min_step_ns=MS
    )
    assert other["panels"]["routes"]["rows"] == [] and other["panels"]["rate"]["value"] is None


def test_percentiles_interpolate_inside_histogram_buckets(store: SQLiteStore) -> None:
    # 100 requests between the two points: 50 in (25, 50] ms, 40 in (50, 75] ms, 10 in (250, 500] ms.
    store.write_metric_points([
        histogram_point(T0, _counts({})),
        histogram_point(T0 + 10, _counts({3: 50, 4: 40, 7: 10}), total=6.0),
    ])  # fmt: skip
    window = Window.covering(int((T0 + 10) * 1e9), 20_000 * MS, max_points=2)
    source, evaluation = MetricSource(store), Evaluation()
    got = {}
    for aggregation in ("p50", "p90", "p99", "rate", "increase", "avg"):
        query = Query(metric="http.server.request.duration", aggregation=aggregation)
        got[aggregation] = run_query(source, query, window, {}, evaluation).groups[()][0]
    assert got["p50"] == pytest.approx(0.050)  # rank 50 ends bucket (25, 50]
    assert got["p90"] == pytest.approx(0.075)
    assert got["p99"] == pytest.approx(0.25 + 0.25 * 9 / 10)
    assert (got["rate"], got["increase"], got["avg"]) == (pytest.approx(10.0), 100, pytest.approx(0.06))
    assert quantile(0.5, BOUNDS, [0] * 15) is None
    assert quantile(0.999, BOUNDS, _counts({14: 5})) == 10.0  # overflow bucket: the highest bound


def test_a_counter_reset_starts_over_and_gauges_aggregate_per_step(store: SQLiteStore) -> None:
    def counter(t: float, v: float) -> MetricPoint:
        return MetricPoint(time_ns=int(t * 1e9), name="ricecoder.self.dropped", kind="counter", value=v)

    def gauge(t: float, v: float) -> MetricPoint:
        return MetricPoint(time_ns=int(t * 1e9), name="ricecoder.self.queue.depth", kind="gauge", value=v)

    store.write_metric_points([counter(T0, 100), counter(T0 + 10, 150), counter(T0 + 20, 5)])
    store.write_metric_points([gauge(T0 + 1, 2), gauge(T0 + 2, 6), gauge(T0 + 11, 1)])
    window = Window.covering(int((T0 + 20) * 1e9), 20_000 * MS, max_points=2)
    source, evaluation = MetricSource(store), Evaluation()

    def run(metric: str, aggregation: str) -> dict[int, float | None]:
        return run_query(source, Query(metric=metric, aggregation=aggregation), window, {}, evaluation).groups[()]

    assert run("ricecoder.self.dropped", "increase") == {0: 5, 1: 50}  # 150 -> 5 is a restart
    assert run("ricecoder.self.queue.depth", "max") == {0: 1, 1: 6}
    assert run("ricecoder.self.queue.depth", "avg") == {0: 1, 1: 4}


def test_steps_shorter_than_the_sampling_interval_still_chart_every_sample(store: SQLiteStore) -> None:
    # The default 1 h range has 5 s steps; the pipeline samples every 10 s: a point every other step.
    points = [histogram_point(T0 + i * 10, _counts({2: i * 3})) for i in range(361)]
    points += [MetricPoint(time_ns=int((T0 + i * 10) * 1e9), name="ricecoder.self.dropped", kind="counter",
                           value=float(i)) for i in range(361)]  # fmt: skip
    store.write_metric_points(points)
    window = Window.covering(int((T0 + 3_600) * 1e9), 3_600_000 * MS)
    assert window.step_ns == 5_000 * MS
    source, evaluation = MetricSource(store), Evaluation()

    def run(metric: str, aggregation: str) -> dict[int, float | None]:
        return run_query(source, Query(metric=metric, aggregation=aggregation), window, {}, evaluation).groups[()]

    rate = run("http.server.request.duration", "rate")
    assert len(rate) == 360 and set(rate) == set(range(0, 720, 2))
    assert all(v == pytest.approx(0.3) for v in rate.values())
    assert run("http.server.request.duration", "p50")[0] == pytest.approx(0.0175)
    assert run("ricecoder.self.dropped", "increase") == dict.fromkeys(range(0, 720, 2), 1)
    graph = take_snapshot(store, service_overview(), range_ns=3_600_000 * MS, end_ns=int((T0 + 3_600) * 1e9))
    assert len(graph["panels"]["latency"]["times"]) == 360


def test_a_series_seen_only_at_the_end_of_a_window_is_averaged_over_the_window(store: SQLiteStore) -> None:
    # A steady counter (1 per 10 s) and one that appears 0.1 s before the end with 26 more: an hour's stat
    # is not 260/s for the newcomer (its change over the 0.1 s it was seen), but Prometheus's range rule.
    def counter(t: float, v: float, route: str) -> MetricPoint:
        return MetricPoint(time_ns=int(t * 1e9), name="ricecoder.http.server.errors", kind="counter", value=v,
                           attributes={"http.route": route})  # fmt: skip

    end = T0 + 3_600
    store.write_metric_points([counter(T0 + i * 10, float(i), "/steady") for i in range(361)])
    store.write_metric_points([counter(end - 0.1, 4.0, "/new"), counter(end, 30.0, "/new")])
    whole = Window(end_ns=int(end * 1e9), step_ns=3_600_000 * MS, steps=1)
    query = Query(metric="ricecoder.http.server.errors", aggregation="rate", group_by=["http.route"])
    rates = run_query(MetricSource(store), query, whole, {}, Evaluation(), lookback=0).groups
    assert rates[("/steady",)][0] == pytest.approx(0.1)  # reaches both ends: its own span, as before
    # Seen for 0.1 s: extended by half its interval at the start (not near it), spread over the hour.
    assert rates[("/new",)][0] == pytest.approx(26 * 0.15 / 0.1 / 3_600)
    increase = query.model_copy(update={"aggregation": "increase"})
    assert run_query(MetricSource(store), increase, whole, {}, Evaluation(), lookback=0).groups[("/new",)][0] == 26


def test_huge_ranges_are_downsampled_and_bounded(store: SQLiteStore) -> None:
    # 7 days of 10 s points: 60,480 rows, read back as at most 720 steps.
    points = [histogram_point(T0 + i * 10, _counts({2: i})) for i in range(60_480)]
    store.write_metric_points(points)
    end = int((T0 + 60_480 * 10) * 1e9)
    window = Window.covering(end, 7 * 86_400_000 * MS)
    assert window.steps <= 720 and window.step_ns == 840_000 * MS
    source = MetricSource(store, max_rows=1_000)
    evaluation = Evaluation()
    series, truncated = source.series("http.server.request.duration", window, "rate")
    assert sum(len(rows) for s in series for rows in s.points.values()) <= 1_000 and truncated
    result = run_query(source, Query(metric="http.server.request.duration", aggregation="rate"), window, {}, evaluation)
    assert result.truncated and "oldest steps are left out" in evaluation.notes[0]
    untruncated = run_query(MetricSource(store), Query(metric="http.server.request.duration", aggregation="rate"),
                            window, {}, Evaluation())  # fmt: skip
    assert len(untruncated.groups[()]) == window.steps
    assert all(v == pytest.approx(0.1 * 10 / 10, rel=1e-6) or v > 0 for v in untruncated.groups[()].values())


def test_events_panel_reads_events_by_name_and_service(store: SQLiteStore) -> None:
    store.write_logs([
        LogRow(time_ns=int((T0 - 5) * 1e9), event_name="ricecoder.alert", body="old", service_name="shop"),
        LogRow(time_ns=int(T0 * 1e9), event_name="ricecoder.alert", body="HighLatency firing", service_name="shop",
               severity_text="WARN", attributes={"alertname": "HighLatency", "count": 3}),
        LogRow(time_ns=int(T0 * 1e9), event_name="ricecoder.anomaly", body="other", service_name="shop"),
        LogRow(time_ns=int(T0 * 1e9), event_name="ricecoder.alert", body="elsewhere", service_name="billing"),
        LogRow(time_ns=int(T0 * 1e9), body="plain log", service_name="shop"),
    ])  # fmt: skip
    dashboard = Dashboard(
        uid="e", title="E", variables=[Variable(name="service", attribute="service.name")],
        panels=[Panel(id="alerts", type="events", grid=GridPos(x=0, y=0, w=24, h=6), events=["ricecoder.alert"])],
    )  # fmt: skip
    snapshot = take_snapshot(store, dashboard, variables={"service": "shop"}, range_ns=2_000 * MS, end_ns=int(T0 * 1e9))
    [row] = snapshot["panels"]["alerts"]["rows"]
    assert (row["body"], row["severity"]) == ("HighLatency firing", "WARN")
    assert row["attributes"] == {"alertname": "HighLatency", "count": "3"}


def test_an_empty_store_gives_empty_panels(store: SQLiteStore) -> None:
    snapshot = take_snapshot(store, service_overview())
    assert snapshot["panels"]["rate_by_route"] == {**snapshot["panels"]["rate_by_route"], "series": [], "times": []}
    assert snapshot["panels"]["rate"]["value"] is None and snapshot["panels"]["events"]["rows"] == []


def test_an_unreadable_store_is_a_message_on_every_panel(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "not-a-db").write_bytes(b"this is not sqlite" * 100)
    broken = SQLiteStore(tmp_path / "not-a-db", create=False)
    snapshot = take_snapshot(broken, service_overview())
    errors = {p["error"] for p in snapshot["panels"].values()}
    assert len(errors) == 1 and "is not a readable SQLite store" in errors.pop()
