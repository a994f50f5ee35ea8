"""Error groups in the store, on SQLite and PostgreSQL: totals add up across processes, resolve, samples."""

from __future__ import annotations

import uuid

import pytest

from ricecoder_otel.errors.engine import ErrorEngine, Occurrence
from ricecoder_otel.errors.store import SAMPLES_KEPT, AmbiguousGroupId, ErrorStore, StoredSample
from ricecoder_otel.store import Store
from ricecoder_otel.testing import ManualClock


def occurrence(t: float, user: str | None = None, kind: str = "ValueError") -> Occurrence:
    return Occurrence(str(uuid.uuid4()), kind, "it's 100% 'broken' ? %s", "", t, user_id=user)


def write(errors: ErrorStore, engine: ErrorEngine, times: list[float], user: str, kind: str = "ValueError") -> str:
    samples, regressions = [], []
    gid = ""
    for t in times:
        outcome = engine.record(occurrence(t, user, kind))
        assert outcome is not None
        gid = outcome.group.id
        samples.append(StoredSample.of(gid, outcome.occurrence))
        if outcome.regression:
            regressions.append((gid, int(t * 1e9)))
    errors.write(engine.drain_pending(), samples, regressions, service_name="shop")
    return gid


def test_two_processes_add_up_and_resolve_reopens_on_regression(store: Store) -> None:
    errors = ErrorStore(store)
    a, b = ErrorEngine(clock=ManualClock()), ErrorEngine(clock=ManualClock())
    gid = write(errors, a, [100.0, 101.0], "ann")
    assert write(errors, b, [50.0, 200.0, 201.0], "bob") == gid
    write(errors, a, [150.0], "ann")
    [group] = errors.list_groups()
    assert (group.count, group.users, group.first_seen_ns, group.last_seen_ns) == (6, 2, 50 * 10**9, 201 * 10**9)
    assert group.service_name == "shop" and group.status == "unresolved"
    assert errors.list_groups(since_ns=202 * 10**9) == []

    assert errors.resolve(gid, 300 * 10**9) == 1
    [state] = errors.states([gid, "missing"])
    assert state.status == "resolved" and state.resolved_at == 300.0
    a.resolve(gid, state.resolved_at)
    write(errors, a, [400.0], "ann")  # seen again after the resolve: a regression
    found = errors.find(gid[:6])
    assert found is not None and found.status == "unresolved" and found.resolved_at_ns is None


def test_a_regression_older_than_a_newer_resolve_does_not_reopen(store: Store) -> None:
    errors = ErrorStore(store)
    engine = ErrorEngine(clock=ManualClock())
    gid = write(errors, engine, [10.0], "ann")
    engine.resolve(gid, 20.0)
    errors.resolve(gid, 100 * 10**9)  # resolved again, later, elsewhere
    write(errors, engine, [30.0], "ann")
    found = errors.find(gid)
    assert found is not None and found.status == "resolved"


def test_samples_are_trimmed_per_group_and_ids_resolve_by_prefix(store: Store) -> None:
    errors = ErrorStore(store)
    engine = ErrorEngine(clock=ManualClock())
    first = write(errors, engine, [float(t) for t in range(SAMPLES_KEPT + 15)], "ann")
    second = write(errors, engine, [1.0], "bob", kind="KeyError")
    samples = errors.samples(first)
    assert len(samples) == SAMPLES_KEPT and samples[0].time_ns == (SAMPLES_KEPT + 14) * 10**9
    assert samples[0].message == "it's 100% 'broken' ? %s"  # quotes, % and ? survive both dialects
    assert len(errors.samples(second)) == 1
    assert errors.find("") is None and errors.find("zz") is None
    common = next(i for i in range(16) if first[i] != second[i])
    if common:
        with pytest.raises(AmbiguousGroupId):
            errors.find(first[:common])
    assert [g.id for g in errors.list_groups()] == [first, second]
