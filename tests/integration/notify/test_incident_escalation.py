"""Escalation loops: the levels run again ``repeat`` more times while nobody acknowledges, then stop;
an acknowledgement stops them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.alerting.incidents import api
from ricecoder_otel.alerting.incidents.manager import IncidentManager
from ricecoder_otel.alerting.incidents.tables import IncidentTables
from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.store.sqlite import SQLiteStore
from ricecoder_otel.testing.memory import ManualClock
from tests.harness.http_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


Setup = tuple[Callable[[float], list[str]], SQLiteStore, ManualClock, AlertingConfig]


LEVELS = [{"delay": "1m", "channels": ["oncall"]}, {"delay": "5m", "channels": ["lead"]}]


@pytest.fixture
def incidents() -> dict[str, Any]:
    return {"escalation": LEVELS, "repeat": 1}


@pytest.fixture
def escalation(tmp_path: Path, receiver: Receiver, incidents: dict[str, Any]) -> Iterator[Setup]:
    config = AlertingConfig.model_validate({
        "channels": [{"name": "oncall", "type": "webhook", "url": receiver.url + "/oncall"},
                     {"name": "lead", "type": "webhook", "url": receiver.url + "/lead"}],
        "route": {"receiver": "oncall", "group_wait": "0s", "repeat_interval": "24h"},
        "incidents": incidents,
    })  # fmt: skip
    store = SQLiteStore(tmp_path / "store.db")
    clock = ManualClock()
    service = NotificationService(config, NotifyTables(store), clock,
                                  incidents=IncidentManager(config.incidents, IncidentTables(store)))  # fmt: skip
    service.submit(Alert({"alertname": "CheckoutDown", "severity": "critical"}, starts_at=clock()))

    def step(advance: float) -> list[str]:
        clock.advance(advance)
        service.run_once()
        while service.delivery.run_once():
            pass
        paths = [r.path for r in receiver.received()]
        receiver.requests.clear()
        return paths

    yield step, store, clock, config
    store.close()


def test_levels_run_again_repeat_more_times_then_stop(escalation: Setup) -> None:
    step, store, _, _ = escalation
    assert step(0) == ["/oncall"]  # the route's own notification
    assert step(59) == []
    assert step(1) == ["/oncall"]  # level 0, 1 minute after the trigger
    assert step(299) == []
    assert step(1) == ["/lead"]  # level 1, 5 minutes after level 0
    assert step(59) == []
    assert step(1) == ["/oncall"]  # the second loop: level 0 again, its delay after the last level
    assert step(300) == ["/lead"]
    assert step(3600) == []  # repeat: 1 = one more loop, then escalation ends
    [incident] = api.list_incidents(store)
    _, timeline = api.show(store, incident.id)  # type: ignore[misc]
    loops = [(e.detail["level"], e.detail["loop"]) for e in timeline if e.action == "escalated"]
    assert loops == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert incident.state == "triggered"


def test_an_acknowledgement_stops_the_escalation(escalation: Setup) -> None:
    step, store, clock, config = escalation
    assert step(0) == ["/oncall"]
    assert step(60) == ["/oncall"]
    [incident] = api.list_incidents(store)
    api.acknowledge(store, incident.id, "ana", config=config.incidents, now=clock())
    assert step(3600) == []  # no level 1, no loop


@pytest.mark.parametrize(
    "incidents",
    [{"escalation": [{"delay": "0s", "channels": ["oncall"]}, {"delay": "5m", "channels": ["lead"]}], "repeat": 1,
      "loop_delay": "10m"}],
)  # fmt: skip
def test_loop_delay_spaces_the_loops_when_the_first_level_pages_at_once(escalation: Setup) -> None:
    step, _, _, _ = escalation
    assert sorted(step(0)) == ["/oncall", "/oncall"]  # the route's notification and level 0 at the trigger
    assert step(300) == ["/lead"]
    assert step(599) == []  # not paged together with the last level
    assert step(1) == ["/oncall"]  # the second loop, loop_delay after the last level
    assert step(300) == ["/lead"]
    assert step(3600) == []
