"""The analytics engine: pseudonymous activity rows, sessions, identities and day sketches.

Plain Python, no OpenTelemetry: the clock is injected and every call returns what happened, so
it is unit-tested in microseconds. Every user id becomes a keyed pseudonym (:mod:`.privacy`)
before the engine keeps anything. What it keeps between two flushes is a :class:`Dataset`:

* one :class:`Activity` row per day, user and feature (uses, first and last time, sessions
  started); the feature ``""`` marks activity on no named feature (an unmapped route);
* the step events of configured funnels (user, feature, time);
* profiles (allow-listed traits, account) and aliases (anonymous pseudonym -> user pseudonym);
* anonymous use counts per day and feature (no user, or no consent);
* a HyperLogLog sketch of users per day and feature (``"*"`` for all), kept ``keep_days``;
* the releases this process ran (``service.version``), first and last time seen, for
  adoption curves per release.

Datasets merge: rows add up, sketches and sets unite, so the rows flushed by several replicas
merge into exactly what one process that saw every event would hold (:mod:`.reports` reads them).
Bad input is dropped and counted (``on_drop(reason, n)``), never raised; memory is bounded by
``max_pending_rows`` and ``max_features``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ricecoder_otel.analytics import sketches
from ricecoder_otel.analytics.privacy import PropertyValue, Pseudonymiser, allowed, valid_id
from ricecoder_otel.analytics.sketches import DistinctSketch

if TYPE_CHECKING:
    from ricecoder_otel.config.model import AnalyticsConfig

Clock = Callable[[], float]
DAY_S = 86_400
ALL = "*"
"""Sketch key of all features together (overall active users)."""
NO_FEATURE = ""
MAX_ACTION_CHARS = 200
MAX_ALIAS_DEPTH = 10


def day_of(at: float) -> int:
    """Days since 1970-01-01 (UTC) of an epoch time."""
    return int(at // DAY_S)


def _no_drop(reason: str, count: int) -> None:
    pass


@dataclass(slots=True)
class Activity:
    """One user's use of one feature on one day."""

    count: int = 0
    first: float = math.inf
    last: float = -math.inf
    sessions: int = 0

    def add(self, at: float, new_session: bool) -> None:
        self.count += 1
        self.first = min(self.first, at)
        self.last = max(self.last, at)
        self.sessions += int(new_session)

    def merge(self, other: Activity) -> None:
        self.count += other.count
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.sessions += other.sessions


@dataclass(slots=True)
class Profile:
    """Allow-listed traits and the account of a user; the newer write wins per trait."""

    traits: dict[str, PropertyValue] = field(default_factory=dict)
    account: str | None = None
    updated: float = 0.0

    def merge(self, other: Profile) -> None:
        older, newer = (self, other) if other.updated >= self.updated else (other, self)
        self.traits = {**older.traits, **newer.traits}
        self.account = newer.account if newer.account is not None else older.account
        self.updated = max(self.updated, other.updated)


RowKey = tuple[int, str, str]
"""(day, user pseudonym, feature)."""
Step = tuple[str, str, float]
"""(user pseudonym, feature, time) of a funnel step."""


@dataclass
class Dataset:
    """What the engine keeps, and what the store holds: everything reports need."""

    lg_k: int = 14
    activity: dict[RowKey, Activity] = field(default_factory=dict)
    steps: set[Step] = field(default_factory=set)
    profiles: dict[str, Profile] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    anonymous: dict[tuple[int, str], int] = field(default_factory=dict)
    sketches: dict[tuple[int, str], DistinctSketch] = field(default_factory=dict)
    releases: dict[str, Activity] = field(default_factory=dict)
    """Release (version) -> when processes running it were first and last seen."""

    def merge(self, other: Dataset) -> None:
        """Add ``other`` to this dataset (rows add, sets and sketches unite)."""
        _merge_rows(self.activity, other.activity)
        _merge_rows(self.releases, other.releases)
        self.steps |= other.steps
        for user, profile in other.profiles.items():
            existing = self.profiles.get(user)
            if existing is None:
                self.profiles[user] = Profile(dict(profile.traits), profile.account, profile.updated)
            else:
                existing.merge(profile)
        self.aliases.update(other.aliases)
        for day_feature, count in other.anonymous.items():
            self.anonymous[day_feature] = self.anonymous.get(day_feature, 0) + count
        for day_feature, sketch in other.sketches.items():
            mine_sketch = self.sketches.get(day_feature)
            self.sketches[day_feature] = (
                sketch if mine_sketch is None else DistinctSketch.union((mine_sketch, sketch), self.lg_k)
            )

    def resolve(self, user: str) -> str:
        """The user an (anonymous) pseudonym was aliased to, following chains."""
        for _ in range(MAX_ALIAS_DEPTH):
            target = self.aliases.get(user)
            if target is None or target == user:
                return user
            user = target
        return user

    def resolved(self) -> Dataset:
        """A copy where aliased pseudonyms are replaced by their users (rows of both merge)."""
        if not self.aliases:
            return self
        out = Dataset(lg_k=self.lg_k, aliases={}, anonymous=dict(self.anonymous), sketches=dict(self.sketches))
        out.releases = self.releases
        for (day, user, feature), row in self.activity.items():
            _merge_rows(out.activity, {(day, self.resolve(user), feature): row})
        out.steps = {(self.resolve(user), feature, at) for user, feature, at in self.steps}
        for user, profile in self.profiles.items():
            target = self.resolve(user)
            if target in out.profiles:
                out.profiles[target].merge(profile)
            else:
                out.profiles[target] = Profile(dict(profile.traits), profile.account, profile.updated)
        return out

    def rows(self) -> int:
        return len(self.activity) + len(self.steps)

    def empty(self) -> bool:
        """Nothing to write."""
        return not (self.rows() or self.sketches or self.profiles or self.aliases or self.anonymous or self.releases)


def _merge_rows(into: dict[Any, Activity], rows: Mapping[Any, Activity]) -> None:
    """Add ``rows`` to ``into`` (copies, so the source stays untouched)."""
    for key, row in rows.items():
        mine = into.get(key)
        if mine is None:
            into[key] = Activity(row.count, row.first, row.last, row.sessions)
        else:
            mine.merge(row)


@dataclass(frozen=True, slots=True)
class Tracked:
    """An accepted action as it may leave the process: pseudonymous, allow-listed."""

    action: str
    at: float
    user: str | None
    feature: str | None
    session: str | None
    new_session: bool
    properties: Mapping[str, PropertyValue]


class AnalyticsCore:
    """Thread-safe engine state; every method is O(1) in the data already held."""

    def __init__(
        self,
        config: AnalyticsConfig,
        *,
        clock: Clock,
        pseudonymiser: Pseudonymiser | None = None,
        on_drop: Callable[[str, int], None] = _no_drop,
        use_sketches: bool | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        key = config.pseudonym_key.get_secret_value() if config.pseudonym_key is not None else None
        self.pseudonymise = pseudonymiser or Pseudonymiser(key)
        self.on_drop = on_drop
        self.use_sketches = sketches.available() if use_sketches is None else use_sketches
        self._lock = threading.Lock()
        self._pending = Dataset(lg_k=config.sketch_lg_k)
        self._day_sketches: dict[tuple[int, str], DistinctSketch] = {}
        self._touched: set[tuple[int, str]] = set()
        self._features: set[str] = set()
        self._sessions: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._funnel_features = {step for funnel in config.funnels.values() for step in funnel.steps}
        self._newest_day = -1
        self._release: str | None = None

    def reconfigure(self, config: AnalyticsConfig) -> None:
        """Take a new config; the pseudonym key only changes through a new engine (rotation)."""
        with self._lock:
            self.config = config
            self._funnel_features = {step for funnel in config.funnels.values() for step in funnel.steps}

    # -- intake ---------------------------------------------------------------------------------

    def track(
        self,
        user_id: object,
        action: object,
        properties: Mapping[str, Any] | None = None,
        *,
        at: float | None = None,
        consent: bool | None = None,
        session_id: object = None,
        feature: str | None = None,
    ) -> Tracked | None:
        """Count one action (``feature`` defaults to the action's name); None when dropped."""
        if not isinstance(action, str) or not action or len(action) > MAX_ACTION_CHARS:
            self.on_drop("analytics.bad_input", 1)
            return None
        when = self.clock() if at is None else at
        if not self._in_range(when):
            return None
        user: str | None = None
        if user_id is not None:
            raw = valid_id(user_id)
            if raw is None:
                self.on_drop("analytics.bad_input", 1)
                return None
            user = self.pseudonymise(raw)
        if user is not None and self.config.consent != "not_required" and not consent:
            if self.config.consent == "drop":
                self.on_drop("analytics.consent", 1)
                return None
            user = None
        kept, dropped = allowed(properties, self.config.allowed_properties)
        if dropped:
            self.on_drop("analytics.properties", dropped)
        name = action if feature is None else feature
        raw_session = valid_id(session_id) if session_id is not None else None
        with self._lock:
            name = self._known_feature(name)
            day = day_of(when)
            self._advance(day)
            if user is None:
                key = (day, name or ALL)
                self._pending.anonymous[key] = self._pending.anonymous.get(key, 0) + 1
                return Tracked(action, when, None, name or None, None, False, kept)
            session, new_session = self._session(user, when, raw_session)
            row_key = (day, user, name)
            row = self._pending.activity.get(row_key)
            if row is None:
                if self._pending.rows() >= self.config.max_pending_rows:
                    self.on_drop("analytics.pending", 1)
                    return None
                row = self._pending.activity[row_key] = Activity()
            row.add(when, new_session)
            if name in self._funnel_features:
                if self._pending.rows() < self.config.max_pending_rows:
                    self._pending.steps.add((user, name, when))
                else:
                    self.on_drop("analytics.pending", 1)
            if self.use_sketches:
                self._count(day, ALL, user)
                if name:
                    self._count(day, name, user)
        return Tracked(action, when, user, name or None, session, new_session, kept)

    def identify(
        self, user_id: object, traits: Mapping[str, Any] | None = None, *, at: float | None = None
    ) -> str | None:
        """Record allow-listed traits of a user; returns the pseudonym (None when the id is bad)."""
        return self._profile(user_id, None, traits, at)

    def group(
        self, user_id: object, account_id: object, traits: Mapping[str, Any] | None = None, *, at: float | None = None
    ) -> str | None:
        """Put a user in an account (B2B); the account id is kept as given."""
        account = valid_id(account_id)
        if account is None:
            self.on_drop("analytics.bad_input", 1)
            return None
        return self._profile(user_id, account, traits, at)

    def alias(self, anonymous_id: object, user_id: object) -> bool:
        """Join an anonymous id's activity (before login) to a user; both are pseudonymised."""
        anonymous, user = valid_id(anonymous_id), valid_id(user_id)
        if anonymous is None or user is None or anonymous == user:
            self.on_drop("analytics.bad_input", 1)
            return False
        with self._lock:
            self._pending.aliases[self.pseudonymise(anonymous)] = self.pseudonymise(user)
        return True

    def release(self, version: object, *, at: float | None = None) -> bool:
        """Mark ``version`` as the release this process runs, seen from now on (every drain
        renews its last-seen time); False for a missing or over-long version."""
        if not isinstance(version, str) or not version or len(version) > MAX_ACTION_CHARS:
            self.on_drop("analytics.bad_input", 1)
            return False
        with self._lock:
            self._release = version
            self._pending.releases.setdefault(version, Activity()).add(self.clock() if at is None else at, False)
        return True

    # -- output ---------------------------------------------------------------------------------

    def drain(self) -> Dataset:
        """Everything gathered since the last drain (for the store); the sketches of the days
        touched since then are included whole. The engine keeps its sketches."""
        with self._lock:
            out, self._pending = self._pending, Dataset(lg_k=self.config.sketch_lg_k)
            if self._release is not None:
                out.releases.setdefault(self._release, Activity()).add(self.clock(), False)
            out.sketches = {
                key: self._copy(self._day_sketches[key]) for key in self._touched if key in self._day_sketches
            }
            self._touched = set()
        return out

    def restore(self, data: Dataset) -> None:
        """Put back a drained dataset the store refused, so the next flush retries it."""
        with self._lock:
            rows = Dataset(data.lg_k, data.activity, data.steps, data.profiles, data.aliases, data.anonymous)
            rows.releases = data.releases
            self._pending.merge(rows)
            self._touched |= set(data.sketches)

    def snapshot(self) -> Dataset:
        """A copy of what is held now (pending rows and every kept sketch), for in-process reports."""
        with self._lock:
            copy = Dataset(lg_k=self.config.sketch_lg_k)
            copy.merge(self._pending)
            copy.sketches = {key: self._copy(sketch) for key, sketch in self._day_sketches.items()}
        return copy

    def sketch_bytes(self) -> int:
        """Memory held by the day sketches."""
        with self._lock:
            return sum(sketch.size_bytes() for sketch in self._day_sketches.values())

    # -- parts ----------------------------------------------------------------------------------

    def _in_range(self, when: float) -> bool:
        if not math.isfinite(when):
            self.on_drop("analytics.bad_input", 1)
            return False
        now = self.clock()
        if when > now + self.config.max_future_skew.total_seconds():
            self.on_drop("analytics.future", 1)
            return False
        if day_of(when) <= day_of(now) - self.config.keep_days:
            self.on_drop("analytics.past", 1)
            return False
        return True

    def _known_feature(self, name: str) -> str:
        if not name or name in self._features:
            return name
        if len(self._features) >= self.config.max_features:
            self.on_drop("analytics.features", 1)
            return NO_FEATURE
        self._features.add(name)
        return name

    def _advance(self, day: int) -> None:
        """On a new day, forget sketches older than ``keep_days``."""
        if day <= self._newest_day:
            return
        self._newest_day = day
        oldest = day - self.config.keep_days + 1
        for key in [k for k in self._day_sketches if k[0] < oldest]:
            del self._day_sketches[key]
            self._touched.discard(key)

    def _count(self, day: int, feature: str, user: str) -> None:
        key = (day, feature)
        sketch = self._day_sketches.get(key)
        if sketch is None:
            sketch = self._day_sketches[key] = DistinctSketch(self.config.sketch_lg_k)
        sketch.add(user)
        self._touched.add(key)

    def _copy(self, sketch: DistinctSketch) -> DistinctSketch:
        return DistinctSketch.from_bytes(sketch.to_bytes(), self.config.sketch_lg_k)

    def _session(self, user: str, when: float, raw_session: str | None) -> tuple[str, bool]:
        """The user's session at ``when``: the given one, or a new one after ``session_timeout``."""
        previous = self._sessions.pop(user, None)
        if raw_session is not None:
            session = self.pseudonymise(raw_session, "session")
            new = previous is None or previous[1] != session
        elif previous is None or when - previous[0] > self.config.session_timeout.total_seconds():
            session, new = self.pseudonymise(f"{user}:{when!r}", "session"), True
        else:
            session, new = previous[1], False
        last = when if new or previous is None else max(when, previous[0])  # a clock jump back keeps the session
        self._sessions[user] = (last, session)
        if len(self._sessions) > self.config.max_pending_rows:
            self._sessions.popitem(last=False)  # the least recently active user starts a new session later
        return session, new

    def _profile(
        self, user_id: object, account: str | None, traits: Mapping[str, Any] | None, at: float | None
    ) -> str | None:
        raw = valid_id(user_id)
        if raw is None:
            self.on_drop("analytics.bad_input", 1)
            return None
        user = self.pseudonymise(raw)
        kept, dropped = allowed(traits, self.config.allowed_traits)
        if dropped:
            self.on_drop("analytics.traits", dropped)
        update = Profile(kept, account, self.clock() if at is None else at)
        with self._lock:
            existing = self._pending.profiles.get(user)
            if existing is None:
                self._pending.profiles[user] = update
            else:
                existing.merge(update)
        return user
