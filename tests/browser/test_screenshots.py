"""A screenshot of every built-in dashboard, rendered live from a store the real pipeline filled.

Saved under $RICECODER_ARTIFACTS_DIR/dashboards/ when set (CI keeps them as artefacts), else in the
test's temporary directory; docs/images/dashboards/ holds the same pictures.
"""

from __future__ import annotations

import os
from pathlib import Path

from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.server import DashboardServer
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.browser.conftest import Watched
from tests.unit.dashboards.support import StoredPipeline


def test_every_builtin_dashboard_renders_and_is_photographed(tmp_path: Path, watched: Watched) -> None:
    store = SQLiteStore(tmp_path / "telemetry.db")
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
            watched.page.goto(server.url + f"d/{uid}?range=15m")
            watched.page.wait_for_selector("#rc-live.on")
            assert watched.page.locator("section.panel.has-error").count() == 0
            watched.page.screenshot(path=str(out / f"{uid}.png"), full_page=True)
            assert (out / f"{uid}.png").stat().st_size > 10_000
    finally:
        server.stop()
        reader.close()
        store.close()
    assert watched.problems() == []
