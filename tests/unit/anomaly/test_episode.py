"""Episode reports: open versus closed, and the JSON view the CLI and exporters use."""

from __future__ import annotations

import json

from ricecoder_otel.anomaly import Episode
from ricecoder_otel.anomaly.episode import DIP, KINDS, LEVEL_SHIFT, SPIKE, STUCK, TREND, VARIANCE_CHANGE


def _episode(**changes: object) -> Episode:
    fields: dict[str, object] = {
        "onset": 100.0, "end": 160.0, "peak_time": 120.0, "peak_score": 0.876543, "kind": SPIKE,
        "direction": 1, "observed": 250.0, "expected": 100.0, "expected_low": 70.0, "expected_high": 130.0,
        "points": 3,
    }  # fmt: skip
    fields.update(changes)
    return Episode(**fields)  # type: ignore[arg-type]


def test_an_episode_without_an_end_is_the_opening_report() -> None:
    assert _episode(end=None).is_open is True
    assert _episode(end=160.0).is_open is False
    assert _episode(end=0.0).is_open is False  # an end at the epoch is still an end


def test_the_json_view_names_every_field_and_rounds_the_score() -> None:
    view = _episode(key="latency:GET /orders", trace_id="ab" * 16).to_dict()
    assert view == {
        "key": "latency:GET /orders",
        "kind": "spike",
        "onset": 100.0,
        "end": 160.0,
        "peak_time": 120.0,
        "peak_score": 0.8765,
        "direction": 1,
        "observed": 250.0,
        "expected": 100.0,
        "expected_low": 70.0,
        "expected_high": 130.0,
        "points": 3,
        "trace_id": "ab" * 16,
    }
    assert json.loads(json.dumps(view)) == view


def test_an_open_episode_serialises_a_null_end_and_defaults() -> None:
    view = _episode(end=None).to_dict()
    assert view["end"] is None and view["key"] == "" and view["trace_id"] is None


def test_the_kinds_are_the_documented_names() -> None:
    assert KINDS == (SPIKE, DIP, LEVEL_SHIFT, VARIANCE_CHANGE, TREND, STUCK)
    assert KINDS == ("spike", "dip", "level_shift", "variance_change", "trend", "stuck")
