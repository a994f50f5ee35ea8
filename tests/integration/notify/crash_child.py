"""A process with the real pipeline and a webhook channel, for the crash test.

``python crash_child.py STORE URL fire N``: publishes N firing alerts and keeps running.
``python crash_child.py STORE URL resume``: publishes nothing, prints ``ready`` after its
first dispatch pass (stored alerts restored), and keeps delivering what the outbox holds.
"""

from __future__ import annotations

import sys
import time

from ricecoder_otel.alerting.notify.capability import NotificationCapability
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import AlertTransition
from ricecoder_otel.pipeline import build_pipeline


def main() -> None:
    store, url, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    config = MonitoringConfig.model_validate({
        "store": {"location": store},
        "alerting": {
            "channels": [{"name": "hook", "type": "webhook", "url": url, "timeout": "1s"}],
            "route": {"group_wait": "0s", "group_interval": "1s"},
            "delivery": {"max_attempts": 100, "initial_backoff": "0.1s", "max_backoff": "0.3s"},
            "incidents": {"enabled": False},
        },
    })  # fmt: skip
    pipeline = build_pipeline(config, set_global=False, span_exporters=[], metric_readers=[], log_exporters=[],
                              watch_config=False)  # fmt: skip
    capability = pipeline.capability("notifications")
    assert isinstance(capability, NotificationCapability) and capability.service is not None
    if mode == "fire":
        now = time.time()
        for i in range(int(sys.argv[4])):
            event = AlertTransition(at=now, rule=f"Crash{i}", series="queue.depth", state="firing", value=10.0,
                                    threshold=5.0, severity="critical", active_since=now)  # fmt: skip
            pipeline.hub.publish(event)
    else:
        while capability.service.passes < 1:
            time.sleep(0.01)
        print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
