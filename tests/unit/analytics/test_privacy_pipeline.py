"""Privacy through the real pipeline: the redaction policy on analytics events, pseudonym key rotation."""

from __future__ import annotations

import pytest

from ricecoder_otel.analytics import AnalyticsEngine
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.testing import RicecoderCapture

OLD_KEY, NEW_KEY = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
SETTINGS = {"analytics": {"pseudonym_key": OLD_KEY, "allowed_properties": ["note"]}}


def analytics_of(capture: RicecoderCapture) -> AnalyticsCapability:
    found = capture.pipeline.capability("analytics")
    assert isinstance(found, AnalyticsCapability)
    return found


@pytest.mark.ricecoder_config(SETTINGS)
def test_analytics_events_pass_the_redaction_policy(ricecoder_capture: RicecoderCapture) -> None:
    assert AnalyticsEngine().track_action("u-1", "search", {"note": "write to bob.smith@example.com today"})
    analytics_of(ricecoder_capture).process()
    [record] = ricecoder_capture.events("ricecoder.analytics.action")
    note = str((record.log_record.attributes or {})["ricecoder.analytics.property.note"])
    assert "bob.smith@example.com" not in note and note.startswith("write to ") and note.endswith(" today")


@pytest.mark.ricecoder_config(SETTINGS)
def test_rotating_the_key_flushes_old_rows_and_unlinks_new_pseudonyms(ricecoder_capture: RicecoderCapture) -> None:
    analytics = analytics_of(ricecoder_capture)
    engine = AnalyticsEngine()
    assert engine.track_action("alice", "search")
    analytics.process()
    assert analytics.core is not None
    old_pseudonym = analytics.core.pseudonymise("alice")
    flushes = analytics.flushes
    new = MonitoringConfig.model_validate(
        {
            **ricecoder_capture.config.model_dump(mode="python"),
            "analytics": {**SETTINGS["analytics"], "pseudonym_key": NEW_KEY},
        }
    )
    ricecoder_capture.pipeline.apply(ricecoder_capture.config, new)
    assert analytics.flushes == flushes + 1  # rows under the old key were written first
    assert engine.track_action("alice", "search")
    analytics.process()
    new_pseudonym = analytics.core.pseudonymise("alice")
    assert new_pseudonym != old_pseudonym
    data = analytics.dataset(int(ricecoder_capture.clock() // 86_400))
    assert {user for _, user, _ in data.activity} == {old_pseudonym, new_pseudonym}
