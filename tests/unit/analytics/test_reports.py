"""Every report on the hand-computed population of ``scenario`` (expected values worked out by hand)."""

from __future__ import annotations

import pytest

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import DAY_S, AnalyticsCore, Dataset
from tests.unit.analytics.scenario import D0, END, at, config, engine, feed


@pytest.fixture
def core() -> AnalyticsCore:
    made = engine()
    feed(made)
    return made


@pytest.fixture
def data(core: AnalyticsCore) -> Dataset:
    return core.snapshot()


def by(rows: list[dict[str, object]], key: str) -> dict[object, dict[str, object]]:
    return {row[key]: row for row in rows}


def test_active_users_exact(data: Dataset) -> None:
    rows = by(reports.active_users(data, END).rows, "feature")
    # Daily actives over days -14..15: d0 {a,b} d1 {a,c} d7 {b} d8 {a} d14 {b} d15 {d} = 8 user-days.
    assert rows["*"] == {
        "feature": "*",
        "dau": 1,
        "wau": 2,
        "mau": 4,
        "stickiness": round(8 / 30 / 4, 6),
        "anonymous_actions": 0,
        "method": "exact",
    }
    assert rows["search"] == {
        "feature": "search",
        "dau": 1,
        "wau": 2,
        "mau": 3,
        "stickiness": round(6 / 30 / 3, 6),
        "anonymous_actions": 0,
        "method": "exact",
    }
    assert (rows["export"]["dau"], rows["export"]["wau"], rows["export"]["mau"]) == (0, 0, 3)
    assert rows["export"]["stickiness"] == round(3 / 30 / 3, 6)


def test_active_users_from_sketches_match_the_exact_counts_on_small_numbers(data: Dataset) -> None:
    exact = reports.active_users(data, END).rows
    sketched = reports.active_users(data, END, method="hll").rows
    strip = [{k: v for k, v in row.items() if k != "method"} for row in exact]
    assert [{k: v for k, v in row.items() if k != "method"} for row in sketched] == strip


def test_stickiness_distribution(data: Dataset) -> None:
    rows = reports.stickiness(data, END).rows
    week = {r["active_days"]: (r["users"], r["share"]) for r in rows if r["period"] == "week"}
    month = {r["active_days"]: (r["users"], r["share"]) for r in rows if r["period"] == "month"}
    assert week[1] == (2, 1.0) and all(week[n] == (0, 0.0) for n in range(2, 8))  # b (d14), d (d15)
    assert month[1] == (2, 0.5) and month[3] == (2, 0.5)  # c, d once; a, b on three days
    assert sum(users for users, _ in month.values()) == 4 and len(month) == 30


def test_adoption(data: Dataset) -> None:
    rows = by(reports.adoption(data, D0, END, min_uses=2).rows, "feature")
    # export: a, b, c once each; first use d1 09:10 (a seen d0 10:00), d7 11:00 (b seen d0 11:00), c at once.
    assert rows["export"] == {
        "feature": "export",
        "active_users": 4,
        "users": 3,
        "adoption": 0.75,
        "min_uses": 2,
        "users_min_uses": 0,
        "adoption_min_uses": 0.0,
        "new_adopters": 3,
        "median_seconds_to_first_use": 83_400.0,
    }
    assert rows["search"] == {
        "feature": "search",
        "active_users": 4,
        "users": 3,
        "adoption": 0.75,
        "min_uses": 2,
        "users_min_uses": 2,
        "adoption_min_uses": 0.5,
        "new_adopters": 3,
        "median_seconds_to_first_use": 0.0,
    }


def test_adoption_window_excludes_earlier_use(data: Dataset) -> None:
    rows = by(reports.adoption(data, D0 + 7, END, min_uses=1).rows, "feature")
    # Days 7..15: a (search d8), b (export d7, search d14), d (search d15); no first export there but b's.
    assert rows["export"]["users"] == 1 and rows["export"]["new_adopters"] == 1
    assert rows["search"]["users"] == 3 and rows["search"]["new_adopters"] == 1  # d
    assert rows["search"]["active_users"] == 3


def test_weekly_retention_grid(data: Dataset) -> None:
    rows = reports.retention(data, D0, END).rows
    grid = [(r["cohort"], r["period"], r["cohort_users"], r["retained"], r["retained_unbounded"]) for r in rows]
    assert grid == [
        ("2024-01-01", 0, 3, 3, 3),  # a, b, c first seen in week 0
        ("2024-01-01", 1, 3, 2, 2),  # a, b in week 1
        ("2024-01-01", 2, 3, 1, 1),  # b in week 2
        ("2024-01-15", 0, 1, 1, 1),  # d
    ]
    assert rows[1]["retention"] == round(2 / 3, 6)


def test_daily_retention_per_feature(data: Dataset) -> None:
    rows = reports.retention(data, D0, D0 + 2, interval="day", feature="export")
    # export first used: a d1, c d1 (cohort d1), b d7 (outside); nobody exports on d2.
    assert [
        (r["cohort"], r["period"], r["cohort_users"], r["retained"], r["retained_unbounded"]) for r in rows.rows
    ] == [
        ("2024-01-02", 0, 2, 2, 2),
        ("2024-01-02", 1, 2, 0, 0),
    ]


def test_funnel(data: Dataset) -> None:
    rows = reports.funnel(data, ["search", "export"], DAY_S, D0, END).rows
    # a: search d0 10:00 -> export d1 09:10 (23h10m); b's export is 7 days later; d never exports.
    assert rows == [
        {
            "step": 1,
            "feature": "search",
            "users": 3,
            "conversion": 1.0,
            "step_conversion": 1.0,
            "drop_off": 0,
            "median_seconds_from_previous": None,
        },
        {
            "step": 2,
            "feature": "export",
            "users": 1,
            "conversion": round(1 / 3, 6),
            "step_conversion": round(1 / 3, 6),
            "drop_off": 2,
            "median_seconds_from_previous": 83_400.0,
        },
    ]


def test_funnel_with_a_longer_window_converts_b(data: Dataset) -> None:
    rows = reports.funnel(data, ["search", "export"], 8 * DAY_S, D0, END).rows
    assert rows[1]["users"] == 2 and rows[1]["median_seconds_from_previous"] == (83_400 + 7 * DAY_S) / 2


def test_engagement_per_user(core: AnalyticsCore, data: Dataset) -> None:
    rows = by(reports.engagement(data, config(), END).rows, "user")
    a, c, d = (rows[core.pseudonymise(u)] for u in "acd")
    # a: days {0,1,8}, 2 of 2 features, 5 actions, sessions d0, d1, d8: recency 1-7/30, frequency 3/30, depth 0.5.
    assert a["active_days"] == 3 and a["features"] == 2 and a["actions"] == 5 and a["sessions"] == 3
    assert a["account"] == "acme" and a["last_active"] == "2024-01-09"
    assert (a["recency"], a["frequency"], a["breadth"], a["depth"]) == (round(23 / 30, 6), 0.1, 1.0, 0.5)
    assert a["score"] == round(100 * (23 / 30 + 0.1 + 1.0 + 0.5) / 4, 6) and a["band"] == "50-75"
    assert c["score"] == round(100 * (16 / 30 + 1 / 30 + 0.5 + 0.1) / 4, 6) and c["band"] == "25-50"
    assert d["score"] == round(100 * (1 + 1 / 30 + 0.5 + 0.1) / 4, 6) and d["account"] == ""


def test_engagement_weights_are_configurable(core: AnalyticsCore) -> None:
    weighted = engine(
        engagement={"depth_target": 10, "weights": {"recency": 1, "frequency": 0, "breadth": 0, "depth": 0}}
    )
    feed(weighted)
    rows = by(reports.engagement(weighted.snapshot(), weighted.config, END).rows, "user")
    assert rows[core.pseudonymise("c")]["score"] == round(100 * 16 / 30, 6)


def test_engagement_per_account_and_product(data: Dataset) -> None:
    accounts = reports.engagement(data, config(), END, by="account").rows
    a_score = 100 * (23 / 30 + 0.1 + 1.0 + 0.5) / 4
    b_score = 100 * (29 / 30 + 0.1 + 1.0 + 0.3) / 4
    c_score = 100 * (16 / 30 + 1 / 30 + 0.5 + 0.1) / 4
    assert accounts == [
        {"account": "acme", "users": 2, "score": round((a_score + b_score) / 2, 6), "band": "50-75"},
        {"account": "globex", "users": 1, "score": round(c_score, 6), "band": "25-50"},
    ]
    [product] = reports.engagement(data, config(), END, by="product").rows
    # adoption: export 3/4 and search 3/4; stickiness 8/30/4; growth in week 2: new d, dormant a -> 1/2.
    sticky = round(8 / 30 / 4, 6)
    assert product == {
        "adoption": 0.75,
        "stickiness": sticky,
        "growth": 0.5,
        "pes": round(100 * (0.75 + sticky + 0.5) / 3, 6),
    }


def test_lifecycle_weekly(data: Dataset) -> None:
    rows = reports.lifecycle(data, D0, END).rows
    states = [(r["new"], r["returning"], r["resurrecting"], r["dormant"], r["churned"]) for r in rows]
    assert states == [(3, 0, 0, 0, 0), (0, 2, 0, 1, 0), (1, 1, 0, 1, 0)]
    churn_in_two_weeks = reports.lifecycle(data, D0, END, churn_after_days=14).rows
    assert churn_in_two_weeks[2]["churned"] == 1  # c, last active in week 0


def test_lifecycle_daily_with_resurrection_and_churn() -> None:
    core = engine()
    for user, day in (("x", 0), ("y", 0), ("y", 1), ("x", 2), ("x", 3)):
        core.track(user, "search", at=at(day, 12))
    rows = reports.lifecycle(core.snapshot(), D0, D0 + 4, interval="day", churn_after_days=2).rows
    states = [(r["new"], r["returning"], r["resurrecting"], r["dormant"], r["churned"]) for r in rows]
    assert states == [(2, 0, 0, 0, 0), (0, 1, 0, 1, 0), (0, 0, 1, 1, 0), (0, 1, 0, 0, 1), (0, 0, 0, 1, 0)]


def test_segments(data: Dataset) -> None:
    rows = reports.segments(data, config(), D0, END).rows
    assert rows == [
        {"segment": "engaged", "kind": "score", "users": 2, "share": 0.5},  # a, b score 59.17
        {"segment": "pro", "kind": "traits", "users": 1, "share": 0.25},  # a
        {"segment": "searchers", "kind": "behaviour", "users": 2, "share": 0.5},  # a (4), b (2)
    ]


def test_anonymous_actions_are_counted_without_users() -> None:
    core = engine()
    core.track(None, "search", at=at(15, 9))
    core.track(None, "search", at=at(15, 10))
    rows = by(reports.active_users(core.snapshot(), END).rows, "feature")
    assert rows["search"]["anonymous_actions"] == 2 and rows["search"]["mau"] == 0
    assert rows["*"]["mau"] == 0


def test_unbounded_retention_counts_users_active_then_or_later() -> None:
    core = engine()
    for user, day in (("x", 0), ("y", 0), ("y", 1), ("x", 2), ("x", 3)):
        core.track(user, "search", at=at(day, 12))
    rows = reports.retention(core.snapshot(), D0, D0 + 4, interval="day").rows
    # Cohort d0 = {x, y}. d1: y (x comes back later: unbounded 2); d2, d3: x; d4: nobody.
    assert [(r["period"], r["retained"], r["retained_unbounded"]) for r in rows] == [
        (0, 2, 2),
        (1, 1, 2),
        (2, 1, 1),
        (3, 1, 1),
        (4, 0, 0),
    ]
    assert (rows[1]["retention"], rows[1]["retention_unbounded"]) == (0.5, 1.0)
    assert {r["cohort"] for r in rows} == {"2024-01-01"} and {r["cohort_users"] for r in rows} == {2}
