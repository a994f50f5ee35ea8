"""Handing alerts to the notification service never waits for I/O and never grows without bound:
the inbox is bounded and what does not fit is dropped and counted."""

from __future__ import annotations

from typing import Any

import pytest

from ricecoder_otel.alerting.notify import service as service_module
from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.service import NotificationService
from ricecoder_otel.config.model import AlertingConfig
from ricecoder_otel.kernel.selftelemetry import SelfTelemetry


class NoStore:
    """Tables that fail on any use: submitting must not touch the store."""

    def __getattr__(self, name: str) -> Any:
        def used(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"the store was used on the submitting thread ({name})")

        return used


def test_submit_is_bounded_counts_drops_and_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "INBOX_SIZE", 3)
    telemetry = SelfTelemetry()
    config = AlertingConfig.model_validate({"channels": [{"name": "hook", "type": "webhook",
                                                          "url": "http://127.0.0.1:9/unreachable"}]})  # fmt: skip
    service = NotificationService(config, NoStore(), telemetry=telemetry)  # type: ignore[arg-type]
    alerts = [Alert({"alertname": f"A{i}"}, starts_at=1.0) for i in range(4)]
    assert [service.submit(a) for a in alerts[:2]] == [True, True]
    assert service.submit_many(alerts[2:]) == 1  # one place left
    assert service.submit(alerts[0]) is False
    assert telemetry.snapshot().dropped == {"notify.inbox": 2}
