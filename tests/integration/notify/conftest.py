"""Outbox plumbing for channel tests: a SQLite store, a manual clock and a delivery worker."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.channels import build_channel
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.alerting.notify.outbox import DeliveryWorker, RetryPolicy
from ricecoder_otel.alerting.notify.tables import NewMessage, NotifyTables
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.store.sqlite import SQLiteStore
from ricecoder_otel.testing.memory import ManualClock
from tests.harness.http_receiver import Receiver

START = 1_764_424_260.0


def notification(status: str = "firing", **extra: Any) -> Notification:
    labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
    alert = Alert(labels, {"summary": "5xx ratio above 2%"}, starts_at=START - 60,
                  ends_at=None if status == "firing" else START)  # fmt: skip
    return Notification(receiver="ops", group_key='{}:{alertname="HighErrorRate"}', alerts=(alert,),
                        group_labels={"alertname": "HighErrorRate"}, sent_at=START, **extra)  # fmt: skip


@dataclass
class Outbox:
    tables: NotifyTables
    worker: DeliveryWorker
    clock: ManualClock

    def queue(self, channel: str, n: Notification) -> str:
        [msg_id] = self.tables.commit_flush([NewMessage(channel, n)], now=self.clock())
        return msg_id

    def state(self, msg_id: str) -> Any:
        [row] = [r for r in self.tables.rows() if r.id == msg_id]
        return row


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def make_outbox(tmp_path: Path) -> Iterator[Any]:
    stores: list[SQLiteStore] = []

    def make(channels: list[dict[str, Any]], max_attempts: int = 4) -> Outbox:
        config = AlertingConfig.model_validate({"channels": channels})
        clock = ManualClock(START)
        store = SQLiteStore(tmp_path / "notify.db")
        stores.append(store)
        tables = NotifyTables(store)
        built = {c.name: build_channel(c, clock) for c in config.channels}
        worker = DeliveryWorker(tables, built, RetryPolicy(max_attempts, 1.0, 60.0), clock, rng=random.Random(1))
        return Outbox(tables, worker, clock)

    yield make
    for store in stores:
        store.close()
