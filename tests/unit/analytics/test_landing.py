"""What analytics writes to the store passes the compliance redaction policy first, like its log records."""

from __future__ import annotations

import pytest

from ricecoder_otel.analytics import AnalyticsEngine
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.analytics.landing import Landing
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.testing import RicecoderCapture

EMAIL = "bob.smith@example.com"
ANALYTICS = {"pseudonym_key": "landing-test-key-0123456789", "allowed_traits": ["note", "plan"]}
TABLES = ("analytics_activity", "analytics_profiles", "analytics_steps", "analytics_aliases", "analytics_anonymous")


def analytics_of(capture: RicecoderCapture) -> AnalyticsCapability:
    found = capture.pipeline.capability("analytics")
    assert isinstance(found, AnalyticsCapability)
    return found


def dump_tables(analytics: AnalyticsCapability) -> str:
    rows: list[str] = []
    with analytics.analytics_store().store._transaction() as cur:
        for table in TABLES:
            cur.execute(f"SELECT * FROM {table}")
            rows += [repr(row) for row in cur.fetchall()]
    return "\n".join(rows)


@pytest.mark.ricecoder_config({"analytics": ANALYTICS})
def test_traits_accounts_and_action_names_are_redacted_before_they_reach_the_store(
    ricecoder_capture: RicecoderCapture,
) -> None:
    engine = AnalyticsEngine()
    assert engine.identify("u-1", {"note": f"write to {EMAIL} today", "plan": "pro"})
    assert engine.group("u-1", EMAIL)
    assert engine.track_action("u-1", f"share with {EMAIL}")
    assert engine.track_action("u-1", "search")
    analytics = analytics_of(ricecoder_capture)
    assert analytics.flush_now()
    stored = dump_tables(analytics)
    assert EMAIL not in stored and "bob.smith" not in stored
    assert "'search'" in stored and "share with " in stored and "write to " in stored and '"pro"' in stored
    group = ricecoder_capture.events("ricecoder.analytics.group")[0].log_record.attributes or {}
    assert EMAIL not in str(group["ricecoder.analytics.account.id"])


@pytest.mark.ricecoder_config(
    {"analytics": ANALYTICS, "compliance": {"redaction": {"actions": {"email": "drop_record"}}}}
)
def test_a_call_the_policy_refuses_is_dropped_and_counted(ricecoder_capture: RicecoderCapture) -> None:
    engine = AnalyticsEngine()
    assert engine.identify("u-1", {"note": f"write to {EMAIL}"})
    assert engine.group("u-2", EMAIL)
    assert engine.track_action("u-3", f"share with {EMAIL}")
    assert engine.track_action("u-4", "search")
    analytics = analytics_of(ricecoder_capture)
    assert analytics.process() == 4
    assert analytics.core is not None
    data = analytics.core.snapshot()
    assert {user for _, user, _ in data.activity} == {analytics.core.pseudonymise("u-4")}
    assert data.profiles == {}
    assert SELF_TELEMETRY.snapshot().dropped["analytics.redaction"] == 3


def test_without_filters_calls_pass_unchanged_and_action_outcomes_are_cached_within_a_bound() -> None:
    seen: list[object] = []

    def upper(payload: object) -> dict[str, object]:
        assert isinstance(payload, dict)
        seen.append(payload)
        return {k: str(v).upper() for k, v in payload.items()}

    args = ("u", "search", {"x": 1}, None, None)
    assert Landing(()).call("track", args) == args
    landing = Landing([upper], cache_size=2)
    assert landing.call("track", args) == ("u", "SEARCH", {"x": 1}, None, None)
    assert landing.call("track", args) is not None and len(seen) == 1  # cached
    landing.call("track", ("u", "a", None, None, None))
    landing.call("track", ("u", "b", None, None, None))  # the cache was full: emptied, not grown
    landing.call("track", args)
    assert len(seen) == 4
    landing.reset()
    landing.call("track", args)
    assert len(seen) == 5
    assert landing.call("alias", ("a", "b")) == ("a", "b")
    assert landing.call("track", ("u", None, None, None, None)) == ("u", None, None, None, None)  # engine drops it
