"""Performance monitoring of the example shop under ``opentelemetry-instrument``: percentiles per route,
the bottleneck report naming the database for the slow-query route and the template for the
slow-template page, and the slow report's profile whose hottest frame is the function that sleeps."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.store import open_store
from ricecoder_otel.store.records import LogRow
from tests.harness.shop import start_shop

ENV = {
    "RICECODER_PERFORMANCE__PROFILING_ENABLED": "true",
    "RICECODER_PERFORMANCE__SLOW_REQUEST_THRESHOLD": "150ms",
    "RICECODER_PERFORMANCE__WINDOW": "10s",  # summaries every second
    "SHOP_SLOW_SECONDS": "0.3",
    "SHOP_SLOW_DB_ROWS": "400000",
    "SHOP_SLOW_TEMPLATE_SECONDS": "0.3",
}


def get(base: str, path: str) -> None:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        response.read()


def poll_store(path: Path, event: str, operation: str, wanted: int, deadline_s: float = 60.0) -> list[LogRow]:
    """Records of ``event`` for ``operation`` once they cover ``wanted`` requests (summaries) or exist."""
    deadline = time.monotonic() + deadline_s
    while True:
        with open_store(str(path)) as store:
            rows = store.query_logs(event_name=event, limit=10_000)
        found = [r for r in rows if (r.attributes or {}).get("ricecoder.perf.operation") == operation]
        covered = sum(int((r.attributes or {}).get("ricecoder.perf.count", 1)) for r in found)
        if covered >= wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_shop_percentiles_bottleneck_and_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / "telemetry.db"
    shop = start_shop(tmp_path, {"RICECODER_STORE_PATH": str(store_path), **ENV})
    try:
        for _ in range(3):
            get(shop.base_url, "/reports/sales")
            get(shop.base_url, "/reports/inventory")
            get(shop.base_url, "/products")
            get(shop.base_url, "/catalogue")
        poll_store(store_path, "ricecoder.perf.summary", "GET /catalogue", 3)
        summaries = poll_store(store_path, "ricecoder.perf.summary", "GET /reports/inventory", 3)
        poll_store(store_path, "ricecoder.perf.summary", "GET /reports/sales", 3)
        profiles = poll_store(store_path, "ricecoder.profile", "GET /reports/sales", 1)
    finally:
        shop.stop()
    assert summaries and profiles, shop.output()[-3000:]

    assert main(["perf", "report", "--since", "1h", "--store", str(store_path), "--json"]) == 0
    report = {o["operation"]: o for o in json.loads(capsys.readouterr().out)["operations"]}
    inventory, sales = report["GET /reports/inventory"], report["GET /reports/sales"]
    catalogue = report["GET /catalogue"]
    assert inventory["count"] == 3 and sales["count"] == 3 and catalogue["count"] == 3
    # Seconds, at least the sleep; the upper bound leaves a loaded host's stalls room and still refuses milliseconds.
    assert 0.3 * 0.8 * 0.95 <= sales["p50"] <= sales["max"] <= 0.3 * 1.2 + 5
    assert inventory["bottleneck"] == "database" and inventory["shares"]["database"] > 0.8
    assert sales["bottleneck"] == "own_code"
    assert catalogue["bottleneck"] == "template" and catalogue["shares"]["template"] > 0.8
    assert any(o["kind"] == "database" for o in report.values())

    trace_id = profiles[0].trace_id
    assert main(["perf", "profile", str(trace_id), "--store", str(store_path), "--json"]) == 0
    profile = json.loads(capsys.readouterr().out)
    assert profile["hottest"][0]["frame"] == "shop/app.py:sales_report"
    with open_store(str(store_path)) as store:
        [server] = [s for s in store.query_spans(trace_id=str(trace_id)) if s.kind == "SERVER"]
    assert server.attributes["http.route"] == "/reports/sales"
