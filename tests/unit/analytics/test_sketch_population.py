"""Active users from the day sketches stay within their documented error on a generated population.

100,000 users, 100 features, 90 days: each user has a power-law activity rate, joins on some day,
churns after a while and one in five comes back later (resurrection); features by Zipf popularity.
Exact counts come from numpy sets of the same ids.
"""

from __future__ import annotations

import numpy as np

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import ALL, Dataset
from ricecoder_otel.analytics.sketches import DistinctSketch, relative_error

USERS, FEATURES, DAYS, LG_K = 100_000, 100, 90, 14


def population() -> tuple[Dataset, dict[tuple[int, str], np.ndarray]]:
    rng = np.random.default_rng(11)
    rate = np.clip(rng.pareto(1.5, USERS) * 0.05, 0.01, 0.9)
    joined = rng.integers(0, DAYS, USERS)
    churned = joined + rng.integers(5, 60, USERS)
    back = np.where(rng.random(USERS) < 0.2, churned + rng.integers(5, 30, USERS), DAYS * 10)
    popularity = 1.0 / np.arange(1, FEATURES + 1) ** 1.1
    popularity /= popularity.sum()
    data, exact = Dataset(lg_k=LG_K), {}
    for day in range(DAYS):
        alive = (joined <= day) & ((day < churned) | (day >= back))
        active = np.flatnonzero(alive & (rng.random(USERS) < rate))
        picks = rng.choice(FEATURES, size=(active.size, 2), p=popularity)
        groups = {ALL: active} | {f"f{f:02d}": np.unique(active[(picks == f).any(axis=1)]) for f in range(FEATURES)}
        for feature, ids in groups.items():
            sketch = DistinctSketch(LG_K)
            for uid in ids.tolist():
                sketch.add(f"u{uid}")
            data.sketches[(day, feature)] = sketch
            exact[(day, feature)] = ids
    return data, exact


def test_dau_wau_mau_from_sketches_are_within_three_standard_errors() -> None:
    """Every estimate within 3 standard errors; at least 90% within the documented 2 (95% expected)."""
    data, exact = population()
    bound, documented = relative_error(LG_K, 3), relative_error(LG_K, 2)
    last = DAYS - 1
    checked = within_documented = 0
    for row in reports.active_users(data, last, method="hll").rows:
        feature = row["feature"]
        for key, first in (("dau", last), ("wau", last - 6), ("mau", last - 29)):
            truth = np.unique(np.concatenate([exact[(d, feature)] for d in range(first, last + 1)])).size
            if truth >= 100:
                assert abs(row[key] - truth) <= bound * truth + 1, (feature, key, row[key], truth)
                within_documented += abs(row[key] - truth) <= documented * truth + 1
                checked += 1
    assert checked > 100
    assert within_documented >= 0.9 * checked, (within_documented, checked)
