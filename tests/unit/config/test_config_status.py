"""The not-built markers: one place in the model says what nothing reads yet."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ricecoder_otel.config import AlertRule, MonitoringConfig
from ricecoder_otel.config.status import (
    NOT_BUILT,
    not_built,
    partly_built,
    unbuilt_settings,
    unbuilt_values,
)


def test_what_is_not_built_today() -> None:
    found = {u.path: u.status.status for u in unbuilt_settings(MonitoringConfig)}
    assert found == {
        "performance.anomaly_detection_enabled": NOT_BUILT,
    }


def test_markers_reach_the_json_schema() -> None:
    schema = MonitoringConfig.model_json_schema()
    assert schema["$defs"]["PerformanceConfig"]["properties"]["anomaly_detection_enabled"]["status"] == NOT_BUILT
    assert "status" not in schema["$defs"]["DashboardsConfig"]["properties"]["refresh_interval"]
    assert "status" not in schema["$defs"]["AlertRule"]["properties"]["kind"]  # every rule kind is evaluated


def test_a_whole_section_is_listed_once_and_flipping_a_marker_is_enough() -> None:
    class Inner(BaseModel):
        knob: int = Field(default=1, json_schema_extra=not_built())

    class Outer(BaseModel):
        off: Inner = Field(default_factory=Inner, json_schema_extra=not_built("later"))
        on: Inner = Field(default_factory=Inner)
        mode: str = Field(default="a", json_schema_extra=partly_built("only a", built_values=("a",)))

    found = [str(u) for u in unbuilt_settings(Outer)]
    assert found == ["off: not built yet (later)", "on.knob: not built yet", "mode: partly built (only a)"]
    assert [str(u) for u in unbuilt_values(Outer(mode="b"))] == ["mode: partly built ('b' (only a))"]
    assert unbuilt_values(Outer()) == []


def test_every_rule_kind_is_evaluated_so_none_is_reported() -> None:
    config = MonitoringConfig(
        alerting={
            "rules": [
                AlertRule(name="a", kind="anomaly", metric="m", threshold=0.9),
                AlertRule(name="b", kind="rate", metric="m", threshold=1),
            ]
        }
    )
    assert [u for u in unbuilt_values(config) if u.path.startswith("alerting")] == []
