"""Analytics rows in the store (migration 0006): flushed deltas in, a merged Dataset out.

Every statement merges instead of replacing, so replicas sharing one PostgreSQL add up to what
one process would hold: activity rows add their uses and widen first/last, steps and aliases
are sets, anonymous counts add, profiles keep the newer value per trait. Each replica writes its
own HyperLogLog sketch per day and feature (a restart is a new replica); reading unites them.
A release a process ran is an activity row of the reserved user ``release`` on day -1 with the
version as its feature (pseudonyms are 32 hex characters, so it never meets a user): the
activity merge keeps its earliest first and latest last sighting across replicas, and the
retention purge removes it once no process has run that release for the retention period.
Runs SQL through the SQL store's helpers; both dialects take the same statements.
"""

from __future__ import annotations

from typing import Any

from ricecoder_otel.analytics.engine import DAY_S, Activity, Dataset, Profile
from ricecoder_otel.analytics.sketches import DistinctSketch, available
from ricecoder_otel.store.base import Store
from ricecoder_otel.store.sql import SqlStore, decode_json, encode_json

_ACTIVITY = (
    "INSERT INTO analytics_activity (day, user_hash, feature, uses, first_ns, last_ns, sessions)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, user_hash, feature) DO UPDATE SET"
    " uses = analytics_activity.uses + excluded.uses,"
    " first_ns = CASE WHEN excluded.first_ns < analytics_activity.first_ns"
    " THEN excluded.first_ns ELSE analytics_activity.first_ns END,"
    " last_ns = CASE WHEN excluded.last_ns > analytics_activity.last_ns"
    " THEN excluded.last_ns ELSE analytics_activity.last_ns END,"
    " sessions = analytics_activity.sessions + excluded.sessions"
)
_STEP = "INSERT INTO analytics_steps (user_hash, feature, at_ns) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
_ALIAS = (
    "INSERT INTO analytics_aliases (anonymous_hash, user_hash) VALUES (?, ?)"
    " ON CONFLICT (anonymous_hash) DO UPDATE SET user_hash = excluded.user_hash"
)
_ANONYMOUS = (
    "INSERT INTO analytics_anonymous (day, feature, actions) VALUES (?, ?, ?)"
    " ON CONFLICT (day, feature) DO UPDATE SET actions = analytics_anonymous.actions + excluded.actions"
)
_PROFILE = (
    "INSERT INTO analytics_profiles (user_hash, traits, account, updated_ns) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_hash) DO UPDATE SET traits = excluded.traits, account = excluded.account,"
    " updated_ns = excluded.updated_ns"
)
_SKETCH = (
    "INSERT INTO analytics_sketches (day, feature, replica, lg_k, sketch, updated_ns) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (day, feature, replica) DO UPDATE SET lg_k = excluded.lg_k, sketch = excluded.sketch,"
    " updated_ns = excluded.updated_ns"
)


RELEASE_USER = "release"
RELEASE_DAY = -1


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


class AnalyticsStore:
    """Writes drained datasets and reads merged ones through a SQL store's transactions."""

    def __init__(self, store: Store, replica: str) -> None:
        if not isinstance(store, SqlStore):
            raise TypeError(f"analytics needs a SQL store, got {type(store).__name__}")
        self.store = store
        self.replica = replica

    def write(self, data: Dataset, now: float) -> int:
        """Merge a drained dataset into the store in one transaction; returns the rows written."""
        sql = self.store._sql
        activity = [
            (day, user, feature, r.count, _ns(r.first), _ns(r.last), r.sessions)
            for (day, user, feature), r in sorted(data.activity.items())
        ]
        activity += [
            (RELEASE_DAY, RELEASE_USER, version, r.count, _ns(r.first), _ns(r.last), 0)
            for version, r in sorted(data.releases.items())
        ]
        steps = [(user, feature, _ns(at)) for user, feature, at in sorted(data.steps)]
        anonymous = [(day, feature, n) for (day, feature), n in sorted(data.anonymous.items())]
        sketches = [
            (day, feature, self.replica, data.lg_k, s.to_bytes(), _ns(now))
            for (day, feature), s in sorted(data.sketches.items())
        ]
        with self.store._transaction(write=True) as cur:
            for statement, rows in (
                (_ACTIVITY, activity),
                (_STEP, steps),
                (_ANONYMOUS, anonymous),
                (_ALIAS, sorted(data.aliases.items())),
                (_SKETCH, sketches),
            ):
                if rows:
                    cur.executemany(sql(statement), rows)
            for user, profile in sorted(data.profiles.items()):
                self._merge_profile(cur, user, profile)
        return len(activity) + len(steps) + len(anonymous) + len(sketches) + len(data.aliases) + len(data.profiles)

    def _merge_profile(self, cur: Any, user: str, profile: Profile) -> None:
        lock = " FOR UPDATE" if self.store.backend == "postgres" else ""
        cur.execute(
            self.store._sql(f"SELECT traits, account, updated_ns FROM analytics_profiles WHERE user_hash = ?{lock}"),
            (user,),
        )
        row = cur.fetchone()
        merged = Profile(dict(profile.traits), profile.account, profile.updated)
        if row is not None:
            merged.merge(Profile(dict(decode_json(row[0]) or {}), row[1], int(row[2]) / 1e9))
        cur.execute(self.store._sql(_PROFILE), (user, encode_json(merged.traits), merged.account, _ns(merged.updated)))

    def read(self, until_day: int, *, lg_k: int, sketch_days: int = 60, step_margin_s: float = 0.0) -> Dataset:
        """Every row up to ``until_day`` (history decides first use), sketches of the last ``sketch_days``."""
        data = Dataset(lg_k=lg_k)
        end_ns = _ns((until_day + 1) * DAY_S + step_margin_s)
        with self.store._transaction() as cur:
            cur.execute(
                self.store._sql(
                    "SELECT day, user_hash, feature, uses, first_ns, last_ns, sessions"
                    " FROM analytics_activity WHERE day <= ?"
                ),
                (until_day,),
            )
            for day, user, feature, uses, first, last, sessions in cur.fetchall():
                row = Activity(int(uses), first / 1e9, last / 1e9, int(sessions))
                if user == RELEASE_USER and day == RELEASE_DAY:
                    data.releases[feature] = row
                else:
                    data.activity[(int(day), user, feature)] = row
            cur.execute(
                self.store._sql("SELECT user_hash, feature, at_ns FROM analytics_steps WHERE at_ns < ?"), (end_ns,)
            )
            data.steps = {(user, feature, at / 1e9) for user, feature, at in cur.fetchall()}
            cur.execute("SELECT user_hash, traits, account, updated_ns FROM analytics_profiles")
            for user, traits, account, updated in cur.fetchall():
                data.profiles[user] = Profile(dict(decode_json(traits) or {}), account, int(updated) / 1e9)
            cur.execute("SELECT anonymous_hash, user_hash FROM analytics_aliases")
            data.aliases = {anonymous: user for anonymous, user in cur.fetchall()}
            cur.execute(
                self.store._sql("SELECT day, feature, actions FROM analytics_anonymous WHERE day <= ?"), (until_day,)
            )
            data.anonymous = {(int(day), feature): int(n) for day, feature, n in cur.fetchall()}
            cur.execute(
                self.store._sql("SELECT day, feature, lg_k, sketch FROM analytics_sketches WHERE day <= ? AND day > ?"),
                (until_day, until_day - sketch_days),
            )
            stored = cur.fetchall()
        if available():
            parts: dict[tuple[int, str], list[DistinctSketch]] = {}
            for day, feature, k, blob in stored:
                parts.setdefault((int(day), feature), []).append(DistinctSketch.from_bytes(bytes(blob), int(k)))
            data.sketches = {key: DistinctSketch.union(found, lg_k) for key, found in parts.items()}
        return data
