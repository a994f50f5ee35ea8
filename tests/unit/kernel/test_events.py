"""The event hub: typed delivery off the publisher's thread, isolation, bounded queue, log records."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from ricecoder_otel.kernel.event_log import EventLogBridge
from ricecoder_otel.kernel.events import AlertTransition, AnomalyScores, ConfigChanged, Event, EventHub
from ricecoder_otel.kernel.selftelemetry import SelfTelemetry


@dataclass(frozen=True)
class Ping(Event):
    event_name: ClassVar[str] = "test.ping"
    n: int = 0


def test_each_subscriber_gets_the_events_of_its_type_on_the_worker_thread() -> None:
    hub = EventHub()
    pings: list[tuple[int, str]] = []
    everything: list[str] = []
    hub.subscribe(Ping, lambda e: pings.append((e.n, threading.current_thread().name)))
    hub.subscribe(Event, lambda e: everything.append(e.event_name))
    for n in range(3):
        hub.publish(Ping(at=0.0, n=n))
    hub.publish(ConfigChanged(at=0.0))
    assert hub.flush()
    assert pings == [(0, "ricecoder-events"), (1, "ricecoder-events"), (2, "ricecoder-events")]
    assert everything == ["test.ping"] * 3 + ["ricecoder.config.changed"]
    hub.shutdown()


def test_publish_never_blocks_on_a_slow_subscriber_and_a_failing_one_does_not_reach_the_others() -> None:
    telemetry = SelfTelemetry()
    hub = EventHub(self_telemetry=telemetry)
    release = threading.Event()
    delivered: list[int] = []

    def slow(event: Ping) -> None:
        release.wait(5)

    def broken(event: Ping) -> None:
        raise RuntimeError("subscriber bug")

    hub.subscribe(Ping, slow, name="slow")
    hub.subscribe(Ping, broken, name="broken")
    hub.subscribe(Ping, lambda e: delivered.append(e.n), name="good")
    published = [hub.publish(Ping(at=0.0, n=n)) for n in range(100)]  # returns while `slow` still waits
    assert all(published) and delivered == []
    release.set()
    assert hub.flush()
    assert delivered == list(range(100))
    assert telemetry.snapshot().errors == {"events.broken": 100}
    hub.shutdown()


def test_a_full_queue_drops_new_events_and_counts_them() -> None:
    telemetry = SelfTelemetry()
    hub = EventHub(max_queue=3, self_telemetry=telemetry, background=False)
    got: list[int] = []
    hub.subscribe(Ping, lambda e: got.append(e.n))
    results = [hub.publish(Ping(at=0.0, n=n)) for n in range(5)]
    assert results == [True, True, True, False, False]
    assert telemetry.snapshot().dropped == {"events": 2}
    hub.flush()
    assert got == [0, 1, 2]


def test_a_cancelled_subscription_gets_nothing_more() -> None:
    hub = EventHub(background=False)
    got: list[int] = []
    subscription = hub.subscribe(Ping, lambda e: got.append(e.n))
    hub.publish(Ping(at=0.0, n=1))
    hub.flush()
    subscription.cancel()
    hub.publish(Ping(at=0.0, n=2))
    hub.flush()
    assert got == [1]


def test_every_exported_event_becomes_a_log_record_with_its_event_name() -> None:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    hub = EventHub(background=False)
    EventLogBridge(hub, provider)
    hub.publish(AlertTransition(at=1_700_000_000.5, rule="slow", series="latency", state="firing", value=2.0,
                                threshold=1.0, severity="critical", labels={"team": "shop"}))
    hub.publish(AnomalyScores(at=1.0, scores={"latency": 0.9}))  # internal: not exported
    hub.publish(ConfigChanged(at=2.0, accepted=False, problems=("metrics.export_interval: bad",)))
    hub.flush()
    records = [d.log_record for d in exporter.get_finished_logs()]
    assert [r.event_name for r in records] == ["ricecoder.alert", "ricecoder.config.changed"]
    alert, rejected = records
    assert alert.timestamp == 1_700_000_000_500_000_000
    assert alert.severity_number == SeverityNumber.ERROR
    assert alert.attributes is not None and alert.attributes["ricecoder.alert.label.team"] == "shop"
    assert rejected.severity_number == SeverityNumber.WARN
    assert "metrics.export_interval: bad" in str(rejected.body)


def test_shutdown_delivers_what_is_queued_and_later_publishes_are_dropped() -> None:
    telemetry = SelfTelemetry()
    hub = EventHub(self_telemetry=telemetry)
    got: list[int] = []
    hub.subscribe(Ping, lambda e: got.append(e.n))
    for n in range(10):
        hub.publish(Ping(at=0.0, n=n))
    assert hub.shutdown() == 0
    assert got == list(range(10))
    assert hub.publish(Ping(at=0.0, n=99)) is False
    assert telemetry.snapshot().dropped == {"events": 1}


def test_a_batch_is_delivered_once_per_event_and_in_one_call_to_batch_subscribers() -> None:
    telemetry = SelfTelemetry()
    hub = EventHub(self_telemetry=telemetry)
    singles: list[int] = []
    batches: list[tuple[int, ...]] = []
    configs: list[tuple[ConfigChanged, ...]] = []

    def broken(events: tuple[Ping, ...]) -> None:
        raise RuntimeError("subscriber bug")

    hub.subscribe(Ping, lambda e: singles.append(e.n))
    hub.subscribe_batch(Ping, broken, name="broken")
    hub.subscribe_batch(Ping, lambda events: batches.append(tuple(e.n for e in events)))
    hub.subscribe_batch(ConfigChanged, configs.append)
    assert hub.publish_batch([Ping(at=0.0, n=1), ConfigChanged(at=0.0), Ping(at=0.0, n=2)])
    assert hub.publish(Ping(at=0.0, n=3))  # a single publish is a batch of one
    assert hub.publish_batch([])  # nothing to deliver
    assert hub.flush()
    assert singles == [1, 2, 3]
    assert batches == [(1, 2), (3,)]
    assert len(configs) == 1 and len(configs[0]) == 1  # only the events of its type, and only when there are some
    assert telemetry.snapshot().errors == {"events.broken": 2}
    hub.shutdown()


def test_a_batch_that_finds_the_queue_full_is_dropped_whole_and_each_event_counted() -> None:
    telemetry = SelfTelemetry()
    hub = EventHub(max_queue=1, self_telemetry=telemetry, background=False)
    got: list[int] = []
    hub.subscribe(Ping, lambda e: got.append(e.n))
    assert hub.publish_batch([Ping(at=0.0, n=1), Ping(at=0.0, n=2)])  # one unit in the queue
    assert not hub.publish_batch([Ping(at=0.0, n=3), Ping(at=0.0, n=4), Ping(at=0.0, n=5)])
    assert telemetry.snapshot().dropped == {"events": 3}
    hub.flush()
    assert got == [1, 2]
    hub.publish_batch([Ping(at=0.0, n=6), Ping(at=0.0, n=7)])
    assert hub.shutdown() == 0  # shutdown delivers what is queued first
    assert got == [1, 2, 6, 7]
