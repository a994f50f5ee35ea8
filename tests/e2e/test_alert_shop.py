"""The shop under ``opentelemetry-instrument`` with a p95 rule on one route, a webhook channel and
Debian's Alertmanager: injected latency produces exactly one firing and one resolved notification
on each, from the alerting loop inside the shop process."""

from __future__ import annotations

import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.alertmanager import start_alertmanager
from tests.harness.http_receiver import Receiver
from tests.harness.shop import ShopProcess, start_shop

pytestmark = pytest.mark.e2e
HERE = Path(__file__).resolve().parent
ROUTE = "/products/<int:product_id>"
CONFIG = """\
alerting:
  evaluation_interval: 1s
  rules:
    - name: product-p95
      metric: http.server.request.duration
      match: {{http.route: "{route}"}}
      group_by: [http.route]
      aggregation: quantile
      quantile: 0.95
      window: 5s
      operator: ">"
      threshold: 0.2
      for: 2s
      severity: critical
      annotations:
        summary: "p95 of {{{{ $labels.http_route }}}} is {{{{ $value | humanizeDuration }}}}"
  channels:
    - {{name: hook, type: webhook, url: "{hook}"}}
    - {{name: am, type: alertmanager, url: "{alertmanager}"}}
  route: {{group_wait: 0s, group_interval: 1s, repeat_interval: 1h}}
"""
ALERTMANAGER = """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


class Traffic:
    """Requests to the product route, one after another (about 20/s when fast), on a thread."""

    def __init__(self, shop: ShopProcess) -> None:
        self.url = shop.base_url + "/products/1"
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            with urllib.request.urlopen(self.url, timeout=10) as response:
                response.read()
            self.sent += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(15)


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_injected_latency_fires_once_and_resolves_once_on_a_webhook_and_through_alertmanager(
    tmp_path: Path, receiver: Receiver
) -> None:
    am = start_alertmanager(tmp_path, ALERTMANAGER.format(url=receiver.url + "/am"))
    latency = tmp_path / "latency"
    config = tmp_path / "ricecoder.yaml"
    config.write_text(CONFIG.format(route=ROUTE, hook=receiver.url + "/hook", alertmanager=am.url))
    env = {"RICECODER_CONFIG_FILE": str(config), "RICECODER_STORE_PATH": str(tmp_path / "telemetry.db"),
           "SHOP_LATENCY_FILE": str(latency)}  # fmt: skip
    shop = start_shop(tmp_path, env, command=[sys.executable, str(HERE / "alerting_shop.py")])
    traffic = Traffic(shop)
    try:

        def notes(path: str) -> list[dict[str, Any]]:
            return [r.json() for r in receiver.received() if r.path == path]

        wait_until(lambda: traffic.sent >= 60, 60, "fast traffic")  # 3 s of fast requests: nothing fires
        assert notes("/hook") == [] and notes("/am") == []

        latency.write_text("0.4")
        [firing] = wait_until(lambda: notes("/hook"), 60, "the firing notification")
        assert firing["status"] == "firing", firing
        [alert] = firing["alerts"]
        assert alert["labels"]["alertname"] == "product-p95" and alert["labels"]["severity"] == "critical"
        summary = alert["annotations"]["summary"]
        assert summary.startswith(f"p95 of {ROUTE} is ") and summary.endswith("ms"), summary
        [am_firing] = wait_until(lambda: notes("/am"), 60, "Alertmanager's firing notification")
        assert am_firing["status"] == "firing" and am_firing["alerts"][0]["fingerprint"] == alert["fingerprint"]

        latency.unlink()
        wait_until(lambda: len(notes("/hook")) >= 2, 60, "the resolved notification")
        wait_until(lambda: len(notes("/am")) >= 2, 60, "Alertmanager's resolved notification")
    finally:
        traffic.close()
        shop.stop()
        am.stop()
    # The process is gone: nothing more can arrive. Exactly one firing and one resolved on each path.
    for path in ("/hook", "/am"):
        received = [r.json() for r in receiver.received() if r.path == path]
        assert [n["status"] for n in received] == ["firing", "resolved"], (path, received, shop.output()[-3000:])
        assert received[1]["alerts"][0]["fingerprint"] == alert["fingerprint"]
        assert received[1]["alerts"][0]["endsAt"] > received[1]["alerts"][0]["startsAt"]
