"""Reports over a :class:`~ricecoder_otel.analytics.engine.Dataset`: rows with typed columns.

Every report counts whole UTC days, from the day of ``since`` to the day of ``until``
(inclusive), over pseudonymous users with aliases resolved. Each is a pure function of the
dataset, so a report over the rows several replicas flushed equals the report of one process
that saw every event. Column names and types are part of the contract (docs/analytics.md);
:mod:`.render` turns a report into JSON, CSV, Markdown or HTML.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ricecoder_otel.analytics.engine import ALL, DAY_S, Dataset, day_of
from ricecoder_otel.analytics.sketches import DistinctSketch

if TYPE_CHECKING:
    from ricecoder_otel.config.model import AnalyticsConfig

REPORT_KINDS = (
    "active",
    "stickiness",
    "adoption",
    "adoption-curve",
    "retention",
    "funnel",
    "engagement",
    "lifecycle",
    "segments",
)
PLACES = 6


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """``string``, ``integer``, ``number`` (float, may be empty), ``date`` (ISO 8601 day)."""
    description: str = ""


@dataclass(frozen=True)
class Report:
    kind: str
    since_day: int
    until_day: int
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "since": iso_day(self.since_day),
            "until": iso_day(self.until_day),
            "columns": [{"name": c.name, "type": c.type, "description": c.description} for c in self.columns],
            "rows": self.rows,
            "notes": list(self.notes),
        }


def iso_day(day: int) -> str:
    return datetime.fromtimestamp(day * DAY_S, UTC).date().isoformat()


def week_of(day: int) -> int:
    """ISO week number since the epoch's week (weeks start on Monday; 1970-01-01 was a Thursday)."""
    return (day + 3) // 7


@dataclass(frozen=True)
class Intervals:
    """Whole weeks (Monday first) or whole days, numbered from the epoch, that cohorts and states use."""

    length: int

    @classmethod
    def named(cls, interval: str) -> Intervals:
        if interval not in ("week", "day"):
            raise ValueError(f"unknown interval {interval!r}; expected week or day")
        return cls(7 if interval == "week" else 1)

    def of(self, day: int) -> int:
        return week_of(day) if self.length == 7 else day

    def first_day(self, number: int) -> int:
        return number * 7 - 3 if self.length == 7 else number

    def per_user(self, days: Mapping[str, set[int]]) -> dict[str, set[int]]:
        """Each user's active days as the intervals they fall in."""
        return {user: {self.of(d) for d in ds} for user, ds in days.items()}


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, PLACES) if whole else None


def _median(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), PLACES) if values else None


class Index:
    """Per-user views of a dataset (aliases resolved) that every report reads."""

    def __init__(self, data: Dataset) -> None:
        self.data = data.resolved()
        self.days: dict[str, set[int]] = defaultdict(set)
        self.first_seen: dict[str, float] = {}
        self.last_seen: dict[str, float] = {}
        self.feature_days: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.first_use: dict[tuple[str, str], float] = {}
        for (day, user, feature), row in self.data.activity.items():
            self.days[user].add(day)
            self.first_seen[user] = min(self.first_seen.get(user, math.inf), row.first)
            self.last_seen[user] = max(self.last_seen.get(user, -math.inf), row.last)
            if feature:
                self.feature_days[feature][user].add(day)
                key = (user, feature)
                self.first_use[key] = min(self.first_use.get(key, math.inf), row.first)
        self._by_day: dict[str | None, dict[int, set[str]]] = {}

    def features(self) -> list[str]:
        return sorted(self.feature_days)

    def active(self, first: int, last: int, feature: str | None = None) -> set[str]:
        """Users active on some day in [first, last] (on ``feature`` if given)."""
        found: set[str] = set()
        for day, users in self._day_users(feature).items():
            if first <= day <= last:
                found |= users
        return found

    def _day_users(self, feature: str | None) -> dict[int, set[str]]:
        """Day -> users active that day (on ``feature``), built on first use: a window's users are
        the union of its days' sets, so reports asking many windows read each row once per feature."""
        by_day = self._by_day.get(feature)
        if by_day is None:
            by_day = defaultdict(set)
            source = self.days if feature is None else self.feature_days.get(feature, {})
            for user, days in source.items():
                for day in days:
                    by_day[day].add(user)
            self._by_day[feature] = by_day
        return by_day

    def uses(self, first: int, last: int) -> dict[tuple[str, str], int]:
        """(user, feature) -> uses within [first, last]."""
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for (day, user, feature), row in self.data.activity.items():
            if feature and first <= day <= last:
                counts[(user, feature)] += row.count
        return counts


# -- active users and stickiness -----------------------------------------------------------------

ACTIVE_COLUMNS = (
    Column("feature", "string", "feature name; `*` is every feature and unnamed activity together"),
    Column("dau", "integer", "users active on the report's last day"),
    Column("wau", "integer", "users active in the last 7 days"),
    Column("mau", "integer", "users active in the last 30 days"),
    Column("stickiness", "number", "mean daily active users over the last 30 days divided by MAU"),
    Column("anonymous_actions", "integer", "actions without a user (or without consent) in the last 30 days"),
    Column("method", "string", "`exact` (per-user rows) or `hll` (HyperLogLog sketches)"),
)


def active_users(data: Dataset, until_day: int, *, method: str = "exact") -> Report:
    """DAU, WAU, MAU and stickiness per feature and overall, exactly or from the day sketches."""
    rows: list[dict[str, Any]] = []
    index = Index(data) if method == "exact" else None
    named = {f for _, f in data.sketches} - {ALL} if index is None else set(index.features())
    features = [ALL, *sorted(named | ({f for _, f in data.anonymous} - {ALL}))]
    for feature in features:
        if index is not None:
            count = _exact_counter(index, None if feature == ALL else feature)
        else:
            count = _sketch_counter(data, feature)
        rows.append(_active_row(data, feature, count, until_day, method))
    return Report("active", until_day - 29, until_day, ACTIVE_COLUMNS, rows)


def _active_row(data: Dataset, feature: str, count: Any, until_day: int, method: str) -> dict[str, Any]:
    daily = [count(d, d) for d in range(until_day - 29, until_day + 1)]
    mau = count(until_day - 29, until_day)
    return {
        "feature": feature,
        "dau": daily[-1],
        "wau": count(until_day - 6, until_day),
        "mau": mau,
        "stickiness": _ratio(sum(daily) / len(daily), mau),
        "anonymous_actions": sum(
            n for (d, f), n in data.anonymous.items() if f == feature and until_day - 29 <= d <= until_day
        ),
        "method": method,
    }


def _exact_counter(index: Index, feature: str | None) -> Any:
    return lambda first, last: len(index.active(first, last, feature))


def _sketch_counter(data: Dataset, feature: str) -> Any:
    def count(first: int, last: int) -> int:
        found = [data.sketches[(d, feature)] for d in range(first, last + 1) if (d, feature) in data.sketches]
        if not found:
            return 0
        return round(DistinctSketch.union(found, data.lg_k).estimate())

    return count


STICKINESS_COLUMNS = (
    Column("period", "string", "`week` (last 7 days) or `month` (last 30 days)"),
    Column("active_days", "integer", "days on which a user was active in the period"),
    Column("users", "integer", "users active on exactly that many days"),
    Column("share", "number", "users / users active in the period"),
)


def stickiness(data: Dataset, until_day: int) -> Report:
    """The distribution of users by their number of active days per week and per month."""
    index = Index(data)
    rows: list[dict[str, Any]] = []
    for period, length in (("week", 7), ("month", 30)):
        first = until_day - length + 1
        counts: dict[int, int] = defaultdict(int)
        for days in index.days.values():
            n = sum(1 for d in days if first <= d <= until_day)
            if n:
                counts[n] += 1
        total = sum(counts.values())
        for n in range(1, length + 1):
            rows.append({"period": period, "active_days": n, "users": counts[n], "share": _ratio(counts[n], total)})
    return Report("stickiness", until_day - 29, until_day, STICKINESS_COLUMNS, rows)


# -- adoption ---------------------------------------------------------------------------------------

ADOPTION_COLUMNS = (
    Column("feature", "string", "feature name"),
    Column("active_users", "integer", "users active on any feature in the window"),
    Column("users", "integer", "users who used the feature at least once in the window"),
    Column("adoption", "number", "users / active_users"),
    Column("min_uses", "integer", "the N of `users_min_uses`"),
    Column("users_min_uses", "integer", "users who used it at least `min_uses` times in the window"),
    Column("adoption_min_uses", "number", "users_min_uses / active_users"),
    Column("new_adopters", "integer", "users whose first use ever falls in the window"),
    Column("median_seconds_to_first_use", "number", "median time from a new adopter's first activity to first use"),
)


def adoption(data: Dataset, since_day: int, until_day: int, *, min_uses: int = 3, index: Index | None = None) -> Report:
    index = index or Index(data)
    active = len(index.active(since_day, until_day))
    uses = index.uses(since_day, until_day)
    start, end = since_day * DAY_S, (until_day + 1) * DAY_S
    counts_of: dict[str, list[int]] = defaultdict(list)
    for (_, f), n in uses.items():
        counts_of[f].append(n)
    delays_of: dict[str, list[float]] = defaultdict(list)
    for (user, f), first in index.first_use.items():
        if start <= first < end:
            delays_of[f].append(first - index.first_seen[user])
    rows = []
    for feature in index.features():
        counts, delays = counts_of.get(feature, []), delays_of.get(feature, [])
        users_n = sum(1 for n in counts if n >= min_uses)
        if not counts and not delays:
            continue
        rows.append(
            {
                "feature": feature,
                "active_users": active,
                "users": len(counts),
                "adoption": _ratio(len(counts), active),
                "min_uses": min_uses,
                "users_min_uses": users_n,
                "adoption_min_uses": _ratio(users_n, active),
                "new_adopters": len(delays),
                "median_seconds_to_first_use": _median(delays),
            }
        )
    return Report("adoption", since_day, until_day, ADOPTION_COLUMNS, rows, ("per release: the adoption-curve report",))


CURVE_COLUMNS = (
    Column("release", "string", "release (`service.version` of the processes, or declared in `analytics.releases`)"),
    Column("released", "date", "day the release was first seen (or declared)"),
    Column("feature", "string", "feature name"),
    Column("period", "integer", "intervals since the release (0 starts on the release day)"),
    Column("through", "date", "last day of the period"),
    Column("active_users", "integer", "users active from the release day through `through`"),
    Column("users", "integer", "of them, users who used the feature in that time"),
    Column("adoption", "number", "users / active_users"),
    Column("first_time_users", "integer", "users whose first use of the feature ever falls in this period"),
)


def adoption_curve(
    data: Dataset,
    releases: Mapping[str, float],
    since_day: int,
    until_day: int,
    *,
    interval: str = "day",
    feature: str | None = None,
) -> Report:
    """Cumulative adoption of each feature as a function of time since each release.

    A release's curve runs from its day until the day before the next release (or ``until_day``),
    so curves of successive releases line up at period 0 and can be compared.
    """
    length = Intervals.named(interval).length
    index = Index(data)
    features = [feature] if feature is not None else index.features()
    timeline = sorted((day_of(at), version) for version, at in releases.items())
    rows = []
    for i, (start, version) in enumerate(timeline):
        end = min(until_day, timeline[i + 1][0] - 1) if i + 1 < len(timeline) else until_day
        if not since_day <= start <= end:
            continue
        periods = (end - start) // length + 1
        active = _first_period(index.days.values(), start, end, length, periods)
        for name in features:
            used = index.feature_days.get(name, {})
            adopters = _first_period(used.values(), start, end, length, periods)
            newcomers = [0] * periods
            for days in used.values():
                if start <= min(days) <= end:
                    newcomers[(min(days) - start) // length] += 1
            for k in range(periods):
                rows.append(
                    {
                        "release": version,
                        "released": iso_day(start),
                        "feature": name,
                        "period": k,
                        "through": iso_day(min(end, start + (k + 1) * length - 1)),
                        "active_users": active[k],
                        "users": adopters[k],
                        "adoption": _ratio(adopters[k], active[k]),
                        "first_time_users": newcomers[k],
                    }
                )
    note = f"interval: {interval}" + (f"; feature: {feature}" if feature else "")
    return Report("adoption-curve", since_day, until_day, CURVE_COLUMNS, rows, (note,))


def _first_period(day_sets: Iterable[set[int]], start: int, end: int, length: int, periods: int) -> list[int]:
    """Per period, how many of the sets have a day in [start, end] up to that period's end (cumulative)."""
    counts = [0] * periods
    for days in day_sets:
        inside = [d for d in days if start <= d <= end]
        if inside:
            counts[(min(inside) - start) // length] += 1
    return list(itertools.accumulate(counts))


# -- retention --------------------------------------------------------------------------------------

RETENTION_COLUMNS = (
    Column("cohort", "date", "first day of the cohort's interval (users first seen then)"),
    Column("period", "integer", "intervals after the cohort's (0 is the cohort's own)"),
    Column("cohort_users", "integer", "users first seen in the cohort interval"),
    Column("retained", "integer", "cohort users active in interval cohort+period"),
    Column("retention", "number", "retained / cohort_users"),
    Column("retained_unbounded", "integer", "cohort users active in interval cohort+period or later"),
    Column("retention_unbounded", "number", "retained_unbounded / cohort_users"),
)


def retention(
    data: Dataset, since_day: int, until_day: int, *, interval: str = "week", feature: str | None = None
) -> Report:
    """Cohort grid: users first seen (on ``feature`` if given) in an interval, active k intervals later."""
    intervals = Intervals.named(interval)
    index = Index(data)
    active_in = intervals.per_user(index.days if feature is None else index.feature_days.get(feature, {}))
    last_bucket = intervals.of(until_day)
    cohorts: dict[int, list[set[int]]] = defaultdict(list)
    for buckets in active_in.values():
        cohorts[min(buckets)].append(buckets)
    rows = []
    for cohort in range(intervals.of(since_day), last_bucket + 1):
        members = cohorts.get(cohort, [])
        if not members:
            continue
        periods = last_bucket - cohort + 1
        active_at, last_at = [0] * periods, [0] * periods  # members active in, and last active in, each period
        for buckets in members:
            for bucket in buckets:
                if bucket - cohort < periods:
                    active_at[bucket - cohort] += 1
            last_at[min(max(buckets) - cohort, periods - 1)] += 1
        reaching = list(itertools.accumulate(reversed(last_at)))[::-1]  # active then or later
        for period in range(periods):
            retained, unbounded = active_at[period], reaching[period]
            rows.append(
                {
                    "cohort": iso_day(intervals.first_day(cohort)),
                    "period": period,
                    "cohort_users": len(members),
                    "retained": retained,
                    "retention": _ratio(retained, len(members)),
                    "retained_unbounded": unbounded,
                    "retention_unbounded": _ratio(unbounded, len(members)),
                }
            )
    return Report(
        "retention",
        since_day,
        until_day,
        RETENTION_COLUMNS,
        rows,
        (f"interval: {interval}" + (f"; feature: {feature}" if feature else ""),),
    )


# -- funnels ----------------------------------------------------------------------------------------

FUNNEL_COLUMNS = (
    Column("step", "integer", "1-based step number"),
    Column("feature", "string", "the step's feature"),
    Column("users", "integer", "users who reached this step within the conversion window"),
    Column("conversion", "number", "users / users of step 1"),
    Column("step_conversion", "number", "users / users of the previous step"),
    Column("drop_off", "integer", "users of the previous step who did not reach this one"),
    Column("median_seconds_from_previous", "number", "median time from the previous step to this one"),
)


def funnel(data: Dataset, steps: list[str], window_s: float, since_day: int, until_day: int) -> Report:
    """Ordered steps: each user's attempt (a first step in the window) reaching furthest counts."""
    resolved = data.resolved()
    events: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for user, feature, at in resolved.steps:
        events[user].append((at, feature))
    start, end = since_day * DAY_S, (until_day + 1) * DAY_S
    reached = [0] * len(steps)
    gaps: list[list[float]] = [[] for _ in steps]
    for timeline in events.values():
        timeline.sort()
        best: list[float] = []
        for at, feature in timeline:
            if feature == steps[0] and start <= at < end:
                times = _walk(timeline, steps, at, window_s)
                if len(times) > len(best):
                    best = times
        for i, at in enumerate(best):
            reached[i] += 1
            if i:
                gaps[i].append(at - best[i - 1])
    rows = []
    for i, feature in enumerate(steps):
        previous = reached[i - 1] if i else reached[0]
        rows.append(
            {
                "step": i + 1,
                "feature": feature,
                "users": reached[i],
                "conversion": _ratio(reached[i], reached[0]),
                "step_conversion": _ratio(reached[i], previous),
                "drop_off": previous - reached[i],
                "median_seconds_from_previous": _median(gaps[i]),
            }
        )
    return Report("funnel", since_day, until_day, FUNNEL_COLUMNS, rows)


def _walk(timeline: list[tuple[float, str]], steps: list[str], begin: float, window_s: float) -> list[float]:
    """Times of the steps reached in order from a first step at ``begin``, within the window."""
    times = [begin]
    for at, feature in timeline:
        if len(times) == len(steps):
            break
        if at > begin + window_s:
            break
        if at >= times[-1] and feature == steps[len(times)]:
            times.append(at)
    return times


# -- engagement -------------------------------------------------------------------------------------

ENGAGEMENT_COLUMNS = (
    Column("user", "string", "pseudonymous user id"),
    Column("account", "string", "account from `group`, empty when none"),
    Column("last_active", "date", "last day the user was active"),
    Column("active_days", "integer", "active days in the window"),
    Column("features", "integer", "distinct features used in the window"),
    Column("actions", "integer", "actions in the window"),
    Column("sessions", "integer", "sessions started in the window"),
    Column("recency", "number", "1 - days since last active / window days"),
    Column("frequency", "number", "active_days / window days"),
    Column("breadth", "number", "features / features used by anyone in the window"),
    Column("depth", "number", "min(1, actions / depth_target)"),
    Column("score", "number", "0..100: weighted mean of the four parts"),
    Column("band", "string", "score band (`bands` boundaries)"),
)


def scores(data: Dataset, config: AnalyticsConfig, until_day: int, index: Index | None = None) -> list[dict[str, Any]]:
    """One engagement row per user active in the window ending on ``until_day``."""
    engagement = config.engagement
    window = max(1, round(engagement.window.total_seconds() / DAY_S))
    first = until_day - window + 1
    index = index or Index(data)
    per_user: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"days": set(), "features": set(), "actions": 0, "sessions": 0}
    )
    for (day, user, feature), row in index.data.activity.items():
        if first <= day <= until_day:
            entry = per_user[user]
            entry["days"].add(day)
            entry["actions"] += row.count
            entry["sessions"] += row.sessions
            if feature:
                entry["features"].add(feature)
    all_features = set().union(*(e["features"] for e in per_user.values())) if per_user else set()
    w = engagement.weights
    total_weight = w.recency + w.frequency + w.breadth + w.depth
    rows = []
    for user in sorted(per_user):
        entry = per_user[user]
        last_day = max(entry["days"])
        parts = {
            "recency": max(0.0, 1 - (until_day - last_day) / window),
            "frequency": len(entry["days"]) / window,
            "breadth": len(entry["features"]) / len(all_features) if all_features else 0.0,
            "depth": min(1.0, entry["actions"] / engagement.depth_target),
        }
        score = (
            100
            * (
                w.recency * parts["recency"]
                + w.frequency * parts["frequency"]
                + w.breadth * parts["breadth"]
                + w.depth * parts["depth"]
            )
            / total_weight
        )
        profile = index.data.profiles.get(user)
        rows.append(
            {
                "user": user,
                "account": (profile.account if profile and profile.account else ""),
                "last_active": iso_day(last_day),
                "active_days": len(entry["days"]),
                "features": len(entry["features"]),
                "actions": entry["actions"],
                "sessions": entry["sessions"],
                **{k: round(v, PLACES) for k, v in parts.items()},
                "score": round(score, PLACES),
                "band": band_of(score, engagement.bands),
            }
        )
    return rows


def band_of(score: float, bands: list[float]) -> str:
    edges = [0.0, *bands, 100.0]
    for low, high in itertools.pairwise(edges):
        if score < high or high == 100.0:
            return f"{low:g}-{high:g}"
    return f"{edges[-2]:g}-100"


ACCOUNT_COLUMNS = (
    Column("account", "string", "account id from `group`"),
    Column("users", "integer", "users of the account active in the window"),
    Column("score", "number", "mean engagement score of those users"),
    Column("band", "string", "score band"),
)
PRODUCT_COLUMNS = (
    Column("adoption", "number", "mean adoption of the features used in the window"),
    Column("stickiness", "number", "mean DAU over the last 30 days / MAU"),
    Column("growth", "number", "(new + resurrecting) / (new + resurrecting + dormant) in the last week"),
    Column("pes", "number", "product engagement score: 100 x mean of the three"),
)


def churn_days(config: AnalyticsConfig) -> int:
    return max(1, round(config.engagement.churn_after.total_seconds() / DAY_S))


def engagement(data: Dataset, config: AnalyticsConfig, until_day: int, *, by: str = "user") -> Report:
    window = max(1, round(config.engagement.window.total_seconds() / DAY_S))
    first = until_day - window + 1
    rows = scores(data, config, until_day)
    if by == "user":
        return Report("engagement", first, until_day, ENGAGEMENT_COLUMNS, rows)
    if by == "account":
        members: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            if row["account"]:
                members[row["account"]].append(row["score"])
        out = []
        for account, user_scores in sorted(members.items()):
            mean = sum(user_scores) / len(user_scores)
            band = band_of(mean, config.engagement.bands)
            out.append({"account": account, "users": len(user_scores), "score": round(mean, PLACES), "band": band})
        return Report("engagement", first, until_day, ACCOUNT_COLUMNS, out)
    return Report(
        "engagement", first, until_day, PRODUCT_COLUMNS, [product_score(data, first, until_day, churn_days(config))]
    )


def product_score(data: Dataset, first: int, until_day: int, churn_after_days: int) -> dict[str, Any]:
    index = Index(data)  # one index for the three parts
    adopted = adoption(data, first, until_day, index=index).rows
    adoption_mean = sum(r["adoption"] or 0 for r in adopted) / len(adopted) if adopted else 0.0
    sticky = _active_row(data, ALL, _exact_counter(index, None), until_day, "exact")["stickiness"] or 0.0
    week = lifecycle(
        data, until_day - 6, until_day, interval="week", churn_after_days=churn_after_days, index=index
    ).rows
    last = week[-1] if week else {"new": 0, "resurrecting": 0, "dormant": 0}
    gained = last["new"] + last["resurrecting"]
    growth = gained / (gained + last["dormant"]) if gained + last["dormant"] else 0.0
    pes = 100 * (adoption_mean + sticky + growth) / 3
    return {
        "adoption": round(adoption_mean, PLACES),
        "stickiness": sticky,
        "growth": round(growth, PLACES),
        "pes": round(pes, PLACES),
    }


# -- lifecycle --------------------------------------------------------------------------------------

LIFECYCLE_COLUMNS = (
    Column("interval", "date", "first day of the interval"),
    Column("new", "integer", "users first seen in the interval"),
    Column("returning", "integer", "active in the interval and the previous one"),
    Column("resurrecting", "integer", "active, not in the previous interval, but before it"),
    Column("dormant", "integer", "active in the previous interval, not in this one"),
    Column("churned", "integer", "last active exactly `churn_after` (in intervals) before this one"),
)


def lifecycle(
    data: Dataset,
    since_day: int,
    until_day: int,
    *,
    interval: str = "week",
    churn_after_days: int = 28,
    index: Index | None = None,
) -> Report:
    intervals = Intervals.named(interval)
    churn = max(1, math.ceil(churn_after_days / intervals.length))
    active = intervals.per_user((index or Index(data)).days)
    rows = []
    for i in range(intervals.of(since_day), intervals.of(until_day) + 1):
        counts = dict.fromkeys(("new", "returning", "resurrecting", "dormant", "churned"), 0)
        for buckets in active.values():
            now, before = i in buckets, (i - 1) in buckets
            if now:
                state = "new" if min(buckets) == i else "returning" if before else "resurrecting"
                counts[state] += 1
            else:
                if before:
                    counts["dormant"] += 1
                earlier = [b for b in buckets if b < i]
                if earlier and max(earlier) == i - churn:
                    counts["churned"] += 1
        rows.append({"interval": iso_day(intervals.first_day(i)), **counts})
    return Report("lifecycle", since_day, until_day, LIFECYCLE_COLUMNS, rows, (f"interval: {interval}",))


# -- segments ---------------------------------------------------------------------------------------

SEGMENT_COLUMNS = (
    Column("segment", "string", "segment name"),
    Column("kind", "string", "`traits`, `behaviour` or `score`"),
    Column("users", "integer", "users active in the window who are in the segment"),
    Column("share", "number", "users / users active in the window"),
)


def segments(data: Dataset, config: AnalyticsConfig, since_day: int, until_day: int) -> Report:
    index = Index(data)
    active = index.active(since_day, until_day)
    uses = index.uses(since_day, until_day)
    scored = {row["user"]: row["score"] for row in scores(data, config, until_day, index)}
    rows = []
    for name, segment in sorted(config.segments.items()):
        if segment.traits:
            kind = "traits"
            members = {u for u in active if _matches(index.data.profiles.get(u), segment.traits)}
        elif segment.feature is not None:
            kind = "behaviour"
            members = {u for u in active if uses.get((u, segment.feature), 0) >= segment.min_count}
        else:
            kind = "score"
            low = segment.score_min if segment.score_min is not None else 0.0
            high = segment.score_max if segment.score_max is not None else math.inf
            members = {u for u in active if low <= scored.get(u, 0.0) < high}
        rows.append({"segment": name, "kind": kind, "users": len(members), "share": _ratio(len(members), len(active))})
    return Report("segments", since_day, until_day, SEGMENT_COLUMNS, rows)


def _matches(profile: Any, wanted: Mapping[str, str]) -> bool:
    if profile is None:
        return False
    return all(str(profile.traits.get(key)) == value for key, value in wanted.items())


def releases(data: Dataset, config: AnalyticsConfig) -> dict[str, float]:
    """When each release came out: first seen running, unless ``analytics.releases`` declares it."""
    seen = {version: row.first for version, row in data.releases.items()}
    return seen | {version: when.timestamp() for version, when in config.releases.items()}


def build(
    kind: str,
    data: Dataset,
    config: AnalyticsConfig,
    since_day: int,
    until_day: int,
    *,
    method: str = "exact",
    min_uses: int = 3,
    interval: str = "week",
    feature: str | None = None,
    funnel_name: str | None = None,
    by: str = "user",
) -> Report:
    """The report called ``kind`` (one of :data:`REPORT_KINDS`); ``ValueError`` names what is wrong."""
    if kind == "active":
        return active_users(data, until_day, method=method)
    if kind == "stickiness":
        return stickiness(data, until_day)
    if kind == "adoption":
        return adoption(data, since_day, until_day, min_uses=min_uses)
    if kind == "adoption-curve":
        return adoption_curve(data, releases(data, config), since_day, until_day, interval=interval, feature=feature)
    if kind == "retention":
        return retention(data, since_day, until_day, interval=interval, feature=feature)
    if kind == "funnel":
        names = sorted(config.funnels)
        if not names:
            raise ValueError("no funnels are configured (analytics.funnels)")
        name = funnel_name or names[0]
        if name not in config.funnels:
            raise ValueError(f"unknown funnel {name!r}; configured: {', '.join(names)}")
        spec = config.funnels[name]
        return funnel(data, list(spec.steps), spec.window.total_seconds(), since_day, until_day)
    if kind == "engagement":
        return engagement(data, config, until_day, by=by)
    if kind == "lifecycle":
        return lifecycle(data, since_day, until_day, interval=interval, churn_after_days=churn_days(config))
    if kind == "segments":
        return segments(data, config, since_day, until_day)
    raise ValueError(f"unknown report {kind!r}; expected one of {', '.join(REPORT_KINDS)}")
