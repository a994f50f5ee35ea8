"""A screenshot of every built-in dashboard, rendered live from a store the real pipeline filled.

Before the pipeline's own traffic, the store gets an hour of 10 s points (through the store API,
as the local exporter writes them), so the charts show a history rather than one collection.

Saved under $RICECODER_ARTIFACTS_DIR/dashboards/ when set (CI keeps them as artefacts), else in the
test's temporary directory; docs/images/dashboards/ holds the same pictures.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.server import DashboardServer
from ricecoder_otel.store.records import MetricPoint
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.browser.conftest import Watched
from tests.unit.dashboards.support import BOUNDS, StoredPipeline, histogram_point

ROUTES = {"/orders": 3, "/products/{id}": 2, "/pay": 6}  # route -> its usual bucket


def _history(store: SQLiteStore, minutes: int = 60) -> None:
    """Cumulative RED points every 10 s with a daily-looking swell, /pay's errors, gauges of saturation."""
    now, steps = time.time(), minutes * 6
    counts = {r: [0] * (len(BOUNDS) + 1) for r in ROUTES}
    errors = 0.0
    points = []
    for i in range(steps):
        at = now - (steps - i) * 10
        load = 1 + 0.6 * math.sin(i / 20)
        for j, (route, bucket) in enumerate(ROUTES.items()):
            counts[route][bucket] += round(20 * load / (j + 1))
            counts[route][bucket + 1 + (i % 3 == 0)] += round(5 * load)
            points.append(histogram_point(at, list(counts[route]), route=route, total=0.05 * sum(counts[route])))
        errors += (i % 4 == 0) * round(3 * load)
        points.append(MetricPoint(time_ns=int(at * 1e9), name="ricecoder.http.server.errors", kind="counter",
                                  unit="{error}", attributes={"http.route": "/pay"}, value=errors,
                                  service_name="shop"))  # fmt: skip
        points.append(MetricPoint(time_ns=int(at * 1e9), name="process.cpu.utilization", kind="gauge", unit="1",
                                  value=0.2 * load, service_name="shop"))  # fmt: skip
        for queue, depth in (("spans", 40 * load), ("logs", 5 + i % 7)):
            points.append(MetricPoint(time_ns=int(at * 1e9), name="ricecoder.self.queue.depth", kind="gauge",
                                      unit="{item}", attributes={"queue": queue}, value=depth,
                                      service_name="shop"))  # fmt: skip
    store.write_metric_points(points)


def test_every_builtin_dashboard_renders_and_is_photographed(tmp_path: Path, watched: Watched) -> None:
    store = SQLiteStore(tmp_path / "telemetry.db")
    _history(store)
    running = StoredPipeline(store)
    try:
        running.collect()
        for round_ in range(3):
            for i in range(12):
                running.request("/orders", 0.01 * (i + 1))
                running.request("/products/{id}", 0.004 * (i + 1))
            running.request("/pay", 0.4 + round_ / 10, status=502)
            running.collect()
    finally:
        running.close()
    out = Path(os.environ.get("RICECODER_ARTIFACTS_DIR", tmp_path)) / "dashboards"
    out.mkdir(parents=True, exist_ok=True)
    reader = SQLiteStore(tmp_path / "telemetry.db", read_only=True)
    server = DashboardServer(reader, builtin_dashboards()).start()
    try:
        for uid in builtin_dashboards():
            watched.page.goto(server.url + f"d/{uid}?range=1h")
            watched.page.wait_for_selector("#rc-live.on")
            assert watched.page.locator("section.panel.has-error").count() == 0
            watched.page.screenshot(path=str(out / f"{uid}.png"), full_page=True)
            assert (out / f"{uid}.png").stat().st_size > 10_000
    finally:
        server.stop()
        reader.close()
        store.close()
    assert watched.problems() == []
