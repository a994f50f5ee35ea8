"""The engine: pseudonyms, sessions, consent, allow-lists, bad input, bounds and merging."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter

import pytest

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import AnalyticsCore, Dataset
from tests.unit.analytics.scenario import D0, END, EVENTS, KEY, at, config, engine, feed


def counting(**overrides: object) -> tuple[AnalyticsCore, Counter[str]]:
    drops: Counter[str] = Counter()
    core = AnalyticsCore(
        config(**overrides), clock=lambda: at(15, 23), on_drop=lambda reason, n: drops.update({reason: n})
    )
    return core, drops


def test_user_ids_are_keyed_hmac_pseudonyms_and_never_kept_raw() -> None:
    core = engine()
    feed(core)
    expected = hmac.new(KEY.encode(), b"user\x00a", hashlib.sha256).hexdigest()[:32]
    assert core.pseudonymise("a") == expected
    data = core.snapshot()
    users = {user for _, user, _ in data.activity} | set(data.profiles) | {u for u, _, _ in data.steps}
    assert expected in users and not users & set("abcd")
    assert "a@example.com" not in repr(data)  # not an allowed trait
    other = AnalyticsCore(config(pseudonym_key="z" * 32), clock=core.clock)
    assert other.pseudonymise("a") != expected  # a new key (rotation) gives unrelated pseudonyms


def test_without_a_key_pseudonyms_are_random_per_process() -> None:
    first = AnalyticsCore(config(pseudonym_key=None), clock=lambda: 0.0)
    second = AnalyticsCore(config(pseudonym_key=None), clock=lambda: 0.0)
    assert first.pseudonymise.ephemeral and first.pseudonymise("a") != second.pseudonymise("a")


def test_sessions_split_on_inactivity_and_survive_a_clock_jump_back() -> None:
    core = engine(session_timeout="30m")
    t0 = at(15, 9)
    first = core.track("a", "search", at=t0)
    same = core.track("a", "search", at=t0 + 600)
    back = core.track("a", "search", at=t0 + 300)  # the clock went back: still the same session
    later = core.track("a", "search", at=t0 + 600 + 1801)
    assert first and same and back and later
    assert first.new_session and not same.new_session and not back.new_session and later.new_session
    assert first.session == same.session == back.session != later.session
    [row] = core.snapshot().activity.values()
    assert (row.count, row.sessions) == (4, 2)


def test_a_given_session_id_is_used_pseudonymised() -> None:
    core = engine()
    one = core.track("a", "search", at=at(15, 9), session_id="s-1")
    two = core.track("a", "export", at=at(15, 9, 1), session_id="s-1")
    three = core.track("a", "export", at=at(15, 9, 2), session_id="s-2")
    assert one and two and three
    assert one.session == two.session == core.pseudonymise("s-1", "session") and "s-1" not in str(one)
    assert one.new_session and not two.new_session and three.new_session


@pytest.mark.parametrize(("mode", "kept_user", "dropped"), [("drop", False, 1), ("anonymous", False, 0)])
def test_consent_gating(mode: str, kept_user: bool, dropped: int) -> None:
    core, drops = counting(consent=mode)
    without = core.track("a", "search", at=at(15, 9), consent=False)
    granted = core.track("b", "search", at=at(15, 9), consent=True)
    assert granted is not None and granted.user == core.pseudonymise("b")
    assert drops["analytics.consent"] == dropped
    if mode == "anonymous":
        assert without is not None and without.user is None and without.session is None
        assert core.snapshot().anonymous == {(D0 + 15, "search"): 1}
    else:
        assert without is None and core.snapshot().anonymous == {}
    assert {user for _, user, _ in core.snapshot().activity} == {core.pseudonymise("b")}


def test_only_allowed_properties_leave_and_unserialisable_values_are_dropped() -> None:
    core, drops = counting(allowed_properties=["plan", "items", "meta", "bad"])
    tracked = core.track(
        "a",
        "search",
        {"plan": "pro", "items": [1, 2], "meta": {"x": 1}, "bad": object(), "email": "a@example.com"},
        at=at(15, 9),
    )
    assert tracked is not None
    assert dict(tracked.properties) == {"plan": "pro", "items": "[1,2]", "meta": '{"x":1}'}
    assert drops["analytics.properties"] == 2  # "bad" (not JSON) and "email" (not allowed)


@pytest.mark.parametrize(
    ("user", "action", "when", "reason"),
    [
        ("a", None, at(15, 9), "analytics.bad_input"),
        ("a", "", at(15, 9), "analytics.bad_input"),
        ("a", "x" * 201, at(15, 9), "analytics.bad_input"),
        ("", "search", at(15, 9), "analytics.bad_input"),
        ("u" * 257, "search", at(15, 9), "analytics.bad_input"),
        (["a"], "search", at(15, 9), "analytics.bad_input"),
        ("a", "search", float("nan"), "analytics.bad_input"),
        ("a", "search", at(15, 23) + 3600, "analytics.future"),
        ("a", "search", at(15 - 60, 9), "analytics.past"),
    ],
)
def test_bad_input_is_dropped_and_counted(user: object, action: object, when: float, reason: str) -> None:
    core, drops = counting()
    assert core.track(user, action, at=when) is None
    assert drops == Counter({reason: 1})
    assert core.snapshot().rows() == 0


def test_a_flood_of_action_names_is_bounded_and_counted() -> None:
    core, drops = counting(max_features=3)
    for n in range(1000):
        core.track("a", f"action-{n}", at=at(15, 9))
    data = core.snapshot()
    assert {feature for _, _, feature in data.activity} == {"action-0", "action-1", "action-2", ""}
    assert drops["analytics.features"] == 997
    assert len(data.sketches) == 4  # three features and "*"
    assert sum(row.count for row in data.activity.values()) == 1000  # the activity itself is kept


def test_pending_rows_are_bounded() -> None:
    core, drops = counting(max_pending_rows=5)
    for n in range(10):
        core.track(f"user-{n}", "view", at=at(15, 9))
    assert core.snapshot().rows() == 5 and drops["analytics.pending"] == 5


def test_alias_joins_anonymous_activity_to_the_user() -> None:
    core = engine()
    core.track("anon-1", "search", at=at(15, 9))
    core.track("alice", "export", at=at(15, 10))
    assert core.alias("anon-1", "alice")
    assert not core.alias("anon-1", "anon-1")
    rows = reports.adoption(core.snapshot(), D0 + 15, END).rows
    assert [(r["feature"], r["users"], r["active_users"]) for r in rows] == [("export", 1, 1), ("search", 1, 1)]


def test_old_sketches_are_forgotten_after_keep_days() -> None:
    now = [at(0, 12)]
    core = AnalyticsCore(config(keep_days=2), clock=lambda: now[0])
    core.track("a", "search", at=now[0])
    now[0] = at(3, 12)
    core.track("a", "search", at=now[0])
    assert {day for day, _ in core.snapshot().sketches} == {D0 + 3}


def test_drained_datasets_from_two_engines_merge_into_one_engines_dataset() -> None:
    single = engine()
    feed(single)
    left, right = engine(), engine()
    for n, event in enumerate(EVENTS):
        feed(left if n % 2 else right, [event])  # every other event, whoever's it is
    merged = Dataset(lg_k=single.config.sketch_lg_k)
    for part in (left.drain(), right.drain(), left.drain()):
        merged.merge(part)
    whole = single.snapshot()
    assert {k: (r.count, r.first, r.last) for k, r in merged.activity.items()} == {
        k: (r.count, r.first, r.last) for k, r in whole.activity.items()
    }
    assert merged.steps == whole.steps and merged.profiles == whole.profiles
    for make in (
        lambda d: reports.active_users(d, END, method="hll"),
        lambda d: reports.funnel(d, ["search", "export"], 86_400, D0, END),
        lambda d: reports.retention(d, D0, END),
        lambda d: reports.segments(d, config(), D0, END),
    ):
        assert make(merged).rows == make(whole).rows
    assert left.drain().rows() == 0  # drained once
