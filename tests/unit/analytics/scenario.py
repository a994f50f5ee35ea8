"""A small hand-computed population shared by the engine, report and merge tests.

Day 0 is Monday 2024-01-01 (epoch day 19723), so weeks 0, 1, 2 are days 0-6, 7-13, 14-20.

    a: d0 10:00 search, d0 10:05 search, d1 09:00 search, d1 09:10 export, d8 12:00 search
    b: d0 11:00 search, d7 11:00 export, d14 11:00 search
    c: d1 15:00 export
    d: d15 08:00 search
"""

from __future__ import annotations

from collections.abc import Callable

from ricecoder_otel.analytics.engine import DAY_S, AnalyticsCore
from ricecoder_otel.config.model import AnalyticsConfig

D0 = 19723
KEY = "k" * 32
END = D0 + 15


def at(day: int, hour: int, minute: int = 0) -> float:
    return (D0 + day) * DAY_S + hour * 3600 + minute * 60


EVENTS: list[tuple[str, str, float]] = [
    ("a", "search", at(0, 10)),
    ("a", "search", at(0, 10, 5)),
    ("b", "search", at(0, 11)),
    ("a", "search", at(1, 9)),
    ("a", "export", at(1, 9, 10)),
    ("c", "export", at(1, 15)),
    ("b", "export", at(7, 11)),
    ("a", "search", at(8, 12)),
    ("b", "search", at(14, 11)),
    ("d", "search", at(15, 8)),
]


def settings(**overrides: object) -> dict[str, object]:
    """The scenario's ``analytics`` section as data."""
    base: dict[str, object] = {
        "pseudonym_key": KEY,
        "allowed_traits": ["plan"],
        "funnels": {"buy": {"steps": ["search", "export"], "window": "1d"}},
        "segments": {
            "pro": {"traits": {"plan": "pro"}},
            "searchers": {"feature": "search", "min_count": 2},
            "engaged": {"score_min": 50},
        },
        "engagement": {"depth_target": 10},
        "keep_days": 60,
    }
    base.update(overrides)
    return base


def config(**overrides: object) -> AnalyticsConfig:
    return AnalyticsConfig.model_validate(settings(**overrides))


def engine(clock: Callable[[], float] | None = None, **overrides: object) -> AnalyticsCore:
    return AnalyticsCore(config(**overrides), clock=clock or (lambda: at(15, 23)))


def feed(core: AnalyticsCore, events: list[tuple[str, str, float]] = EVENTS) -> None:
    for user, feature, when in events:
        assert core.track(user, feature, at=when) is not None
    core.identify("a", {"plan": "pro", "email": "a@example.com"}, at=at(0, 10))
    core.group("a", "acme", at=at(0, 10))
    core.group("b", "acme", at=at(0, 11))
    core.group("c", "globex", at=at(1, 15))
