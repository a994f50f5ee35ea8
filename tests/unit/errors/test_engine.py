"""The grouping engine: fingerprints, group state, new / regression / spike, bounds."""

from __future__ import annotations

import string
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from ricecoder_otel.errors.engine import (
    ErrorEngine,
    Occurrence,
    SpikeRule,
    clean_text,
    normalise_message,
    parse_frames,
)
from ricecoder_otel.testing import ManualClock


def trace(*frames: tuple[str, int, str], error: str = "ValueError: boom") -> str:
    lines = ["Traceback (most recent call last):\n"]
    for filename, line, function in frames:
        lines.append(f'  File "{filename}", line {line}, in {function}\n    code()\n')
    return "".join(lines) + error + "\n"


APP = ("/srv/shop/app.py", 10, "checkout"), ("/srv/shop/payments.py", 42, "charge")
LIB = ("/usr/lib/python3.11/site-packages/flask/app.py", 900, "dispatch")


def occurrence(n: int = 0, **fields: object) -> Occurrence:
    values: dict[str, object] = {
        "event_id": str(uuid.uuid4()),
        "error_type": "ValueError",
        "message": f"order {n} failed",
        "stack_trace": trace(LIB, *APP),
        "timestamp": 1000.0 + n,
    }
    values.update(fields)
    return Occurrence(**values)  # type: ignore[arg-type]


def engine(**kwargs: object) -> ErrorEngine:
    return ErrorEngine(clock=ManualClock(), **kwargs)  # type: ignore[arg-type]


# -- fingerprints -------------------------------------------------------------------------------

ids = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.uuids().map(str),
    st.integers(min_value=0x10000000, max_value=2**64).map(lambda n: f"{n:x}a"),
    st.integers(min_value=0, max_value=2**32).map(hex),
    st.text(alphabet=string.ascii_letters + " -_.", min_size=0, max_size=20).map(lambda t: repr(t)),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
)
templates = st.sampled_from(
    [
        "order {} not found",
        "user {} has no cart (request {})",
        "timeout after {}s talking to {}",
        "KeyError: {} in {}",
        "could not parse {} at offset {}",
    ]
)


@settings(max_examples=200, deadline=None)
@given(template=templates, first=st.lists(ids, min_size=2, max_size=2), second=st.lists(ids, min_size=2, max_size=2))
def test_the_same_bug_with_different_ids_is_one_group(template: str, first: list[str], second: list[str]) -> None:
    for stack in (trace(*APP), ""):  # grouped by frames, and by message when there are none
        e = engine()
        a = e.classify(occurrence(message=template.format(*first), stack_trace=stack))
        b = e.classify(occurrence(message=template.format(*second), stack_trace=stack))
        assert a.group_id == b.group_id, (a.fingerprint, b.fingerprint)


names = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(type_a=names, type_b=names, func_a=names, func_b=names)
def test_different_bugs_are_different_groups(type_a: str, type_b: str, func_a: str, func_b: str) -> None:
    e = engine()
    a = e.classify(occurrence(error_type=f"E{type_a}", stack_trace=trace(("/srv/app/x.py", 1, func_a))))
    b = e.classify(occurrence(error_type=f"E{type_b}", stack_trace=trace(("/srv/app/x.py", 1, func_b))))
    assert (a.group_id == b.group_id) == (type_a == type_b and func_a == func_b)


@settings(max_examples=100, deadline=None)
@given(template_a=templates, template_b=templates, value=ids)
def test_without_frames_different_messages_are_different_groups(template_a: str, template_b: str, value: str) -> None:
    e = engine()
    a = e.classify(occurrence(message=template_a.format(value, value), stack_trace=""))
    b = e.classify(occurrence(message=template_b.format(value, value), stack_trace=""))
    assert (a.group_id == b.group_id) == (template_a == template_b)


def test_grouping_ignores_line_numbers_library_frames_and_checkout_paths() -> None:
    e = engine()
    here = e.classify(occurrence(stack_trace=trace(LIB, *APP)))
    moved = trace(("/opt/other/site-packages/gunicorn/w.py", 5, "run"), ("/home/ci/shop/app.py", 99, "checkout"),
                  ("/home/ci/shop/payments.py", 7, "charge"))  # fmt: skip
    assert e.classify(occurrence(stack_trace=moved)).group_id == here.group_id
    assert here.fingerprint == ("ValueError", "shop/app.py:checkout", "shop/payments.py:charge")


def test_module_qualified_and_bare_type_names_group_together() -> None:
    e = engine()
    assert (
        e.classify(occurrence(error_type="shop.errors.PaymentError")).group_id
        == e.classify(occurrence(error_type="PaymentError")).group_id
    )


def test_a_caller_fingerprint_overrides_and_can_extend_the_default() -> None:
    e = engine()
    custom = e.classify(occurrence(fingerprint=("payments", "gateway-timeout")))
    assert custom.fingerprint == ("payments", "gateway-timeout")
    extended = e.classify(occurrence(fingerprint=("{{ default }}", "tenant-a")))
    assert extended.fingerprint == (*e.classify(occurrence()).fingerprint, "tenant-a")


def test_messages_lose_their_variable_parts() -> None:
    assert normalise_message("order 42 for 'bob' failed") == "order <*> for <*> failed"
    assert normalise_message(f"request {uuid.uuid4()} at 0xdeadbeef took 2.5s") == "request <*> at <*> took <*>"
    assert normalise_message('sha 9f86d081884c7d65 mismatch in "a.txt"') == "sha <*> mismatch in <*>"
    # Found by the property test: hex ids with no digit, and ids glued to a unit.
    assert normalise_message("order fffffffaa, retry after ffffffffaas") == "order <*> retry after <*>"


def test_chained_exceptions_group_by_the_one_raised() -> None:
    cause = trace(("/srv/app/db.py", 3, "query"), error="OSError: disk")
    chained = cause + "\nThe above exception was the direct cause of the following exception:\n\n" + trace(*APP)
    frames = parse_frames(chained)
    assert [f.function for f in frames] == ["checkout", "charge"]


# -- group state --------------------------------------------------------------------------------


def test_one_group_counts_first_and_last_seen_users_release_and_environment() -> None:
    e = engine(release="shop@1.2", environment="prod")
    for n in range(1000):
        outcome = e.record(occurrence(n, user_id=f"u{n % 7}"))
        assert outcome is not None
    [group] = e.groups()
    assert (group.count, group.first_seen, group.last_seen) == (1000, 1000.0, 1999.0)
    assert len(group.users) == 7 and group.release == "shop@1.2" and group.environment == "prod"


def test_new_then_resolved_then_regression() -> None:
    e = engine()
    first = e.record(occurrence(1))
    assert first is not None and first.new and not first.regression
    again = e.record(occurrence(2))
    assert again is not None and not again.new
    assert e.resolve(first.group.id, at=1500.0)
    back = e.record(occurrence(600))
    assert back is not None and back.regression and back.group.status == "unresolved"
    assert not e.resolve("unknown", at=1.0)


def test_the_same_error_in_one_trace_counts_once_and_adds_its_user() -> None:
    e = engine()
    first = e.record(occurrence(1, trace_id="a" * 32, source="span"))
    duplicate = e.record(occurrence(1, trace_id="a" * 32, source="log", user_id="ann", message="other text"))
    other_trace = e.record(occurrence(1, trace_id="b" * 32))
    assert first is not None and duplicate is not None and other_trace is not None
    assert duplicate.duplicate and not other_trace.duplicate
    assert first.group.count == 2 and first.group.users == {"ann"}


def test_a_spike_is_reported_once_when_the_rate_jumps() -> None:
    e = engine(spike=SpikeRule(window_s=60, factor=5, min_count=10))
    spikes = []
    for minute in range(5):  # a steady two per minute
        for k in range(2):
            outcome = e.record(occurrence(timestamp=minute * 60 + k))
            assert outcome is not None and not outcome.spike
    for k in range(40):  # then forty in a minute
        outcome = e.record(occurrence(timestamp=5 * 60 + k))
        assert outcome is not None
        spikes.append(outcome.spike)
    assert spikes.count(True) == 1 and spikes.index(True) == 9  # at the tenth (min_count)


def test_bounds_on_users_groups_and_ignored_types() -> None:
    e = engine(max_users=3, max_groups=2, ignore=["KeyboardInterrupt", "shop.Expected"])
    for n in range(10):
        e.record(occurrence(n, user_id=f"user{n}"))
    assert len(e.groups()[0].users) == 3
    for name in ("A", "B", "C"):
        e.record(occurrence(error_type=name))
    assert [g.error_type for g in e.groups()] == ["B", "C"]
    assert e.record(occurrence(error_type="KeyboardInterrupt")) is None
    assert e.record(occurrence(error_type="shop.Expected")) is None


def test_pending_counts_drain_once() -> None:
    e = engine()
    for n in range(3):
        e.record(occurrence(n, user_id="u"))
    [(_group, added, users)] = e.drain_pending()
    assert (added, users) == (3, {"u"})
    assert e.drain_pending() == []


def test_text_is_bounded_and_utf8_clean() -> None:
    huge = "x" * 100_000 + "END"
    cleaned = clean_text(huge, 1000)
    assert len(cleaned) < 1100 and cleaned.endswith("END") and "truncated" in cleaned
    surrogate = clean_text("bad \udcff byte", 100)
    surrogate.encode("utf-8")
    assert "\\udcff" in surrogate
