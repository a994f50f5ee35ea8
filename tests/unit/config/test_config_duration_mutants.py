"""Duration edges that mutation testing found unchecked: spaces inside a duration, and the
marker that tells the reference generator a duration must be above zero."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.duration import DurationTooLongError, parse_duration
from ricecoder_otel.config.reference import render


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5 m", timedelta(minutes=5)), ("1h 30m", timedelta(minutes=90)), (" 2 h 15 m ", timedelta(minutes=135))],
)
def test_spaces_inside_a_duration_are_ignored(text: str, expected: timedelta) -> None:
    config = load_config(None, env={"RICECODER_STORE__MAX_AGE": text})
    assert config.store.max_age == expected


def _row(reference: str, key: str) -> str:
    return next(line for line in reference.splitlines() if line.startswith(f"| `{key}` |"))


def test_the_reference_says_which_durations_must_be_above_zero_and_their_ceiling() -> None:
    reference = render()
    assert "| duration (> 0, <= 1d) |" in _row(reference, "metrics.export_interval")  # Interval
    assert "| duration (> 0) |" in _row(reference, "alerting.rules[].window")  # PositiveDuration
    assert "| duration |" in _row(reference, "alerting.rules[].for")  # Duration: 0s allowed


def test_zero_is_a_duration_and_a_negative_timedelta_is_not() -> None:
    assert parse_duration(0) == timedelta(0) and parse_duration(0.0) == timedelta(0)
    with pytest.raises(ValueError, match=r"^expected a duration like 5m$"):
        parse_duration(timedelta(seconds=-1))


def test_durations_past_the_bounds_say_the_bound() -> None:
    with pytest.raises(DurationTooLongError, match=r"^expected a duration of at most 36500d$"):
        parse_duration("99999999999w")
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"RICECODER_METRICS__EXPORT_INTERVAL": "2d"})
    assert [p.message for p in info.value.problems] == ["expected a duration of at most 1d (got '2d')"]


def test_a_duration_at_its_ceiling_is_accepted_and_one_beyond_any_timedelta_is_refused() -> None:
    config = load_config(None, env={"RICECODER_METRICS__EXPORT_INTERVAL": "1d"})
    assert config.metrics.export_interval == timedelta(days=1)
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"RICECODER_STORE__MAX_AGE": "99999999999w"})
    assert [p.message for p in info.value.problems] == ["expected a duration of at most 36500d (got '99999999999w')"]
