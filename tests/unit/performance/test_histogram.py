"""The base-2 exponential histogram: the spec's bucket mapping, bounded size, relative error, merging."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricecoder_otel.performance.histogram import ExpHistogram, bucket_index, lower_boundary, relative_error_bound


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@pytest.mark.parametrize(
    ("value", "scale", "index"),
    [(1.0, 0, -1), (2.0, 0, 0), (3.0, 0, 1), (4.0, 0, 1), (4.5, 0, 2), (1.0, 3, -1), (2.0, 3, 7), (0.5, 0, -2),
     (1.0, -1, -1), (4.0, -1, 0), (5.0, -1, 1), (2.0**-1074, 0, -1075)],
)  # fmt: skip
def test_bucket_index_follows_the_spec_upper_inclusive_boundaries(value: float, scale: int, index: int) -> None:
    assert bucket_index(value, scale) == index
    assert lower_boundary(index, scale) < value <= lower_boundary(index + 1, scale) or value < 2.0**-1000


@pytest.mark.parametrize(
    "sample",
    [
        lambda r: r.uniform(0.001, 1.0),
        lambda r: r.lognormvariate(-3.0, 1.5),
        lambda r: r.expovariate(20.0),
        lambda r: r.choice([0.005, 0.010, 2.5]),
    ],
    ids=["uniform", "lognormal", "exponential", "three-values"],
)
def test_every_percentile_is_within_the_relative_error_bound(sample: object) -> None:
    rng = random.Random(42)
    values = [sample(rng) for _ in range(50_000)]  # type: ignore[operator]
    histogram = ExpHistogram()
    for value in values:
        histogram.record(value)
    bound = relative_error_bound(histogram.scale)
    assert histogram.count == len(values) and len(histogram.counts) <= 160
    for q in (0.5, 0.9, 0.95, 0.99, 0.999):
        exact = exact_quantile(values, q)
        assert abs(histogram.quantile(q) - exact) <= bound * exact, q
    assert histogram.quantile(1.0) == max(values) and histogram.summary().max == max(values)
    assert histogram.sum == pytest.approx(sum(values))


def test_four_decades_fit_160_buckets_at_scale_3_with_4_3_percent_error() -> None:
    histogram = ExpHistogram()
    for value in (0.001, 10.0):
        histogram.record(value)
    assert histogram.scale == 3 and relative_error_bound(3) == pytest.approx(0.0433, abs=1e-4)
    more = ExpHistogram(max_size=320)
    for value in (0.001, 10.0):
        more.record(value)
    assert more.scale == 4 and relative_error_bound(4) == pytest.approx(0.0217, abs=1e-4)


def test_a_constant_latency_is_exact() -> None:
    histogram = ExpHistogram()
    for _ in range(1000):
        histogram.record(0.25)
    assert histogram.summary().p50 == histogram.summary().p99 == 0.25


def test_zeros_and_bad_values() -> None:
    histogram = ExpHistogram()
    for value in (0.0, 0.0, 0.0, float("nan"), float("inf"), -1.0, 0.5):
        histogram.record(value)
    assert histogram.count == 4 and histogram.zero_count == 3
    assert histogram.quantile(0.5) == 0.0 and histogram.quantile(1.0) == 0.5
    assert histogram.quantile(0.99) == pytest.approx(0.5, rel=histogram.relative_error)
    assert ExpHistogram().summary().count == 0 and ExpHistogram().quantile(0.5) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=1e-6, max_value=1e4, allow_nan=False), min_size=1, max_size=300),
    st.lists(st.floats(min_value=1e-6, max_value=1e4, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([0.5, 0.9, 0.95, 0.99]),
)
def test_merged_parts_equal_the_whole_and_keep_the_bound(a: list[float], b: list[float], q: float) -> None:
    left, right, whole = ExpHistogram(max_size=40), ExpHistogram(max_size=40), ExpHistogram(max_size=40)
    for value in a:
        left.record(value)
        whole.record(value)
    for value in b:
        right.record(value)
        whole.record(value)
    left.merge(right)
    assert (left.scale, left.counts, left.count) == (whole.scale, whole.counts, whole.count)
    assert len(left.counts) <= 40
    exact = exact_quantile(a + b, q)
    assert abs(left.quantile(q) - exact) <= relative_error_bound(left.scale) * exact * (1 + 1e-9)


def test_stored_form_round_trips_and_rejects_damage() -> None:
    histogram = ExpHistogram()
    for value in (0.0, 0.01, 0.02, 0.5):
        histogram.record(value)
    data = histogram.to_dict()
    again = ExpHistogram.from_dict(data)
    assert again.to_dict() == data and again.quantile(0.9) == histogram.quantile(0.9)
    with pytest.raises(ValueError, match="counts do not add up"):
        ExpHistogram.from_dict({**data, "count": 99})
    with pytest.raises(ValueError, match="not a stored latency histogram"):
        ExpHistogram.from_dict({"scale": "x"})
    with pytest.raises(ValueError, match="out of range"):
        ExpHistogram.from_dict({**data, "scale": 99})


values_with_oddities = st.lists(
    st.one_of(
        st.floats(min_value=1e-9, max_value=1e6),
        st.sampled_from([0.0, 0.5, 1.0, 2.0, 0.25, -1.0, math.inf, math.nan]),  # zeros, powers of two, refused
    ),
    max_size=300,
)


def _recorded_both_ways(
    values: list[float], max_size: int, scale: int, before: list[float] | None = None
) -> tuple[ExpHistogram, ExpHistogram]:
    """``values`` recorded one by one and with ``record_many`` after the same ``before`` history on both
    sides (so a batch may extend or downscale it); asserts both hold the same buckets."""
    one_by_one, together = ExpHistogram(max_size, scale), ExpHistogram(max_size, scale)
    for value in before or []:
        one_by_one.record(value)
        together.record(value)
    for value in values:
        one_by_one.record(value)
    together.record_many(values)
    assert (together.scale, together.counts, together.low, together.high) == (
        one_by_one.scale, one_by_one.counts, one_by_one.low, one_by_one.high,
    )  # fmt: skip
    return one_by_one, together


@settings(max_examples=300, deadline=None)
@given(values_with_oddities, values_with_oddities, st.sampled_from([2, 8, 160]), st.sampled_from([20, 3, 0, -2]))
def test_recording_many_at_once_keeps_what_recording_each_would_have_kept(
    before: list[float], values: list[float], max_size: int, scale: int
) -> None:
    one_by_one, together = _recorded_both_ways(values, max_size, scale, before)
    assert (together.count, together.zero_count, together.min, together.max) == (
        one_by_one.count, one_by_one.zero_count, one_by_one.min, one_by_one.max,
    )  # fmt: skip
    assert together.sum == pytest.approx(one_by_one.sum, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=1e-9, max_value=1e4), min_size=1, max_size=400), st.sampled_from([20, 3, 1]))
def test_ordinary_durations_recorded_together_land_in_the_buckets_recording_each_would_use(
    values: list[float], scale: int
) -> None:
    """Finite positive durations (what the performance worker records) take record_many's path
    through C functions only, unless one of them is a power of two: the same buckets either way."""
    _, together = _recorded_both_ways(values, 160, scale)
    assert (together.count, together.min, together.max, together.sum) == (
        len(values), min(values), max(values), sum(values),
    )  # fmt: skip


def test_quantiles_stay_finite_when_the_coarsest_scale_holds_values_far_apart() -> None:
    """At scale -10 the top bucket's upper bound is past the float range: the answer is still a
    value between the recorded extremes, not an overflow."""
    histogram = ExpHistogram(max_size=2)
    for value in (2.0, 4.8e-181, 1e300):
        histogram.record(value)
    quantiles = [histogram.quantile(q) for q in (0.5, 0.9, 0.99)]
    assert all(4.8e-181 <= q <= 1e300 for q in quantiles), quantiles
    assert histogram.summary().p99 == quantiles[2]
