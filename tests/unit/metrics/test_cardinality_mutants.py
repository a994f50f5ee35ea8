"""Cardinality limiter edges that mutation testing found unchecked: the limit's bounds and its
message, the first-overflow report (once per metric, at the first overflow), empty attributes."""

from __future__ import annotations

from typing import Any

import pytest

from ricecoder_otel.metrics.cardinality import OVERFLOW_ATTRIBUTES, CardinalityLimiter


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused_with_the_value_in_the_message(limit: int) -> None:
    with pytest.raises(ValueError, match=rf"^cardinality limit must be at least 1, got {limit}$"):
        CardinalityLimiter(limit)
    limiter = CardinalityLimiter(5)
    with pytest.raises(ValueError, match=rf"^cardinality limit must be at least 1, got {limit}$"):
        limiter.set_limit(limit)
    assert limiter.limit == 5  # a refused change keeps the old limit


def test_a_limit_of_one_is_accepted_at_runtime_and_applies_to_new_series() -> None:
    limiter = CardinalityLimiter(5)
    limiter.set_limit(1)
    assert limiter.limit == 1
    assert limiter.admit("m", {"a": "1"}) == {"a": "1"}
    assert limiter.admit("m", {"a": "2"}) is OVERFLOW_ATTRIBUTES


def test_the_first_overflow_of_each_metric_is_reported_at_once_and_only_once() -> None:
    reports: list[tuple[str, int]] = []
    limiter = CardinalityLimiter(1, on_first_overflow=lambda metric, limit: reports.append((metric, limit)))
    limiter.admit("a", {"user": "1"})
    limiter.admit("b", {"user": "1"})
    assert limiter.admit("a", {"user": "2"}) is OVERFLOW_ATTRIBUTES
    assert reports == [("a", 1)]  # reported by the overflow itself, not a later one
    for user in ("3", "4", "5"):
        limiter.admit("a", {"user": user})
    limiter.admit("b", {"user": "2"})
    limiter.admit("b", {"user": "3"})
    assert reports == [("a", 1), ("b", 1)]
    assert limiter.overflow_count == 6


def test_no_attributes_admitted_again_stays_an_empty_set_of_attributes() -> None:
    limiter = CardinalityLimiter(1)
    assert limiter.admit("m", None) == {}
    assert limiter.admit("m", None) == {}  # the already-known path
    assert limiter.admit("m", {}) == {}
    assert limiter.series_count("m") == 1


def test_known_series_are_remembered_per_metric() -> None:
    limiter = CardinalityLimiter(1)
    assert limiter.admit("a", {"route": "/x"}) == {"route": "/x"}
    assert limiter.admit("b", {"route": "/y"}) == {"route": "/y"}
    # Each metric's own series is still known; the other metric's is a new series there.
    assert limiter.admit("a", {"route": "/x"}) == {"route": "/x"}
    assert limiter.admit("a", {"route": "/y"}) is OVERFLOW_ATTRIBUTES
    assert limiter.admit("b", {"route": "/y"}) == {"route": "/y"}
    assert (limiter.series_count("a"), limiter.series_count("b")) == (1, 1)


def test_attributes_with_list_values_are_keyed_by_their_contents() -> None:
    limiter = CardinalityLimiter(2)
    ab: dict[str, Any] = {"tags": ["a", "b"]}
    ac: dict[str, Any] = {"tags": ["a", "c"]}
    assert limiter.admit("m", ab) == ab
    assert limiter.admit("m", ac) == ac  # another series
    assert limiter.admit("m", {"tags": ["a", "b"]}) == ab  # the first again
    assert limiter.admit("m", {"tags": ["z"]}) is OVERFLOW_ATTRIBUTES
    assert limiter.series_count("m") == 2
