"""`ricecoder-otel dashboard serve` as its own process over the application's store, in headless Chromium.

The application (the real pipeline in this process) writes the SQLite store; a separate `dashboard serve`
process reads it. Checked: points reach the page within a second, the panels' widgets (sortable table, stat
delta and sparkline, gauge range, bars), the exported HTML shows the live page's values offline, and an
unreadable store is refused with the reason.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.kernel.names import SERVER_ERRORS
from ricecoder_otel.store.records import MetricPoint
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.browser.conftest import Watched, poll
from tests.unit.dashboards.support import BOUNDS, StoredPipeline, histogram_point

ROUTES = {"/orders": 0.02, "/pay": 0.3, "/cart": 0.006}
SERVE = [sys.executable, "-m", "ricecoder_otel.cli", "dashboard", "serve", "--port", "0", "--store"]
DASH = "\u2013"  # what the page shows for no value, and between a gauge's min and max
VALUES = """() => ({
  stats: Array.from(document.querySelectorAll(".panel:is([data-panel-type=stat], [data-panel-type=gauge])"))
    .map(n => [n.dataset.panelId, (n.querySelector('.stat-value, .gauge-value') || {}).textContent,
               (n.querySelector('.stat-delta, .gauge-range') || {}).textContent]),
  routes: Array.from(document.querySelectorAll("section[data-panel-id='routes'] tbody tr"))
    .map(r => Array.from(r.cells).map(c => c.innerText)),
})"""


class Serve:
    """A `dashboard serve` child process; its URL from its progress line on stderr."""

    def __init__(self, store: Path, cwd: Path) -> None:
        self.process = subprocess.Popen([*SERVE, str(store)], cwd=cwd, stderr=subprocess.PIPE, text=True,
                                        env=os.environ.copy())  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url(deadline_s=60)

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def _wait_for_url(self, deadline_s: float) -> str:
        end, seen = time.monotonic() + deadline_s, []
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            if found := re.search(r" at (http://127\.0\.0\.1:\d+/)", line):
                return found.group(1)
        raise AssertionError(f"dashboard serve printed no URL: {''.join(seen)}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture
def application(tmp_path: Path) -> Iterator[StoredPipeline]:
    store = SQLiteStore(tmp_path / "telemetry.db")
    running = StoredPipeline(store)
    running.collect()
    for round_ in range(3):
        for route, seconds in ROUTES.items():
            for _ in range(3 + round_):
                running.request(route, seconds, status=500 if route == "/pay" else 200)
        running.collect()
    yield running
    running.close()
    store.close()


@pytest.fixture
def serve(application: StoredPipeline, tmp_path: Path) -> Iterator[Serve]:
    server = Serve(tmp_path / "telemetry.db", tmp_path)
    yield server
    assert server.stop() == 0


def test_a_separate_serve_process_shows_the_applications_new_point_within_a_second(
    application: StoredPipeline, serve: Serve, watched: Watched
) -> None:
    page = watched.page
    page.goto(serve.url + "d/service-overview?var-route=/cart&range=15m")
    page.wait_for_selector("#rc-live.on")
    p99 = "document.querySelector('section[data-panel-id=\"routes\"] tbody').innerText"
    assert page.evaluate(p99).split("\t")[0] == "/cart" and " s" not in page.evaluate(p99).split("\t")[-1]
    for _ in range(6):
        application.request("/cart", 7.0)  # the (5 s, 7.5 s] bucket
    application.collect()  # stored when this returns
    stored = time.monotonic()
    poll(page, f"/[5-7][.0-9]* s$/.test({p99}.trim())", deadline_s=1.0 - (time.monotonic() - stored))
    assert watched.problems() == []
    assert all(url.startswith(serve.url) for url in watched.requests)


def _history(path: Path) -> None:
    """40 minutes of 10 s points for three routes (one bucket each) and /pay's error counter, ending now."""
    store = SQLiteStore(path)
    now = time.time()
    points = []
    for i in range(240):
        at = now - (239 - i) * 10
        for route, bucket in (("/cart", 1), ("/orders", 3), ("/pay", 7)):
            counts = [0] * (len(BOUNDS) + 1)
            counts[bucket] = i * (2 if route == "/orders" else 1)
            points.append(histogram_point(at, counts, route=route))
        points.append(MetricPoint(time_ns=int(at * 1e9), name=SERVER_ERRORS, kind="counter", unit="{error}",
                                  attributes={"http.route": "/pay"}, value=float(i), service_name="shop"))  # fmt: skip
    store.write_metric_points(points)
    store.close()


def test_table_sorts_stats_show_delta_and_sparkline_gauge_its_range_and_bars(tmp_path: Path, watched: Watched) -> None:
    _history(tmp_path / "history.db")
    serve = Serve(tmp_path / "history.db", tmp_path)
    try:
        _check_widgets(serve, watched)
    finally:
        assert serve.stop() == 0


def _check_widgets(serve: Serve, watched: Watched) -> None:
    page = watched.page
    page.goto(serve.url + "d/service-overview?range=15m")
    page.wait_for_selector("#rc-live.on")
    routes = "section[data-panel-id='routes']"

    def column(i: int) -> list[str]:
        return page.eval_on_selector_all(f"{routes} tbody tr", f"rs => rs.map(r => r.cells[{i}].innerText)")

    assert page.eval_on_selector_all(f"{routes} th", "hs => hs.map(h => h.innerText)")[0] == "http.route"
    assert column(0) == ["/cart", "/orders", "/pay"]  # as the server sends them
    page.click(f"{routes} th:nth-child(5)")  # p95, ascending
    assert column(0) == ["/cart", "/orders", "/pay"]
    page.click(f"{routes} th:nth-child(5)")  # p95, descending
    assert column(0) == ["/pay", "/orders", "/cart"]
    page.click(f"{routes} th:nth-child(3)")  # errors/s, ascending: routes without errors (no value) last
    assert column(0)[0] == "/pay" and column(2)[1:] == [DASH, DASH]
    page.click(f"{routes} th:nth-child(1)")  # route, ascending
    assert column(0) == ["/cart", "/orders", "/pay"]

    rate = page.locator("section[data-panel-id='rate']")
    assert rate.locator(".stat-value").inner_text() == "0.4 request/s"  # (1 + 2 + 1) requests every 10 s
    assert rate.locator(".stat-delta").inner_text() == "▲ 0 request/s (0.0 %) vs previous window"
    assert rate.locator(".sparkline canvas").count() == 1
    gauge = page.locator("section[data-panel-id='p99_gauge']")
    assert gauge.locator(".gauge-range").inner_text() == f"0 s {DASH} 2.50 s"  # the panel's min and max
    assert gauge.locator("path").count() == 2  # the track and the value's arc
    errors = page.locator("section[data-panel-id='errors']")
    red = "rgb(196, 22, 42)"  # the threshold over 0.01/s
    assert errors.locator(".stat-value").evaluate("n => getComputedStyle(n).color") == red

    fills = "id => ricecoderDashboard.charts[id].series.slice(1).map(s => Boolean(s.fill && s.fill()))"
    assert page.evaluate(fills, "errors_by_route") == [True]  # style: bars
    assert not any(page.evaluate(fills, "rate_by_route"))  # style: lines
    assert watched.problems() == []


def test_the_exported_html_shows_the_live_pages_values_offline(serve: Serve, watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    page.goto(serve.url + "d/service-overview?range=15m")
    page.wait_for_selector("#rc-live.on")
    live = page.evaluate(VALUES)
    assert len(live["stats"]) == 4 and len(live["routes"]) == 3

    out = tmp_path / "overview.html"
    assert main(["dashboard", "export", "service-overview", "--format", "html", "--since", "15m",
                 "--store", str(tmp_path / "telemetry.db"), "--out", str(out)]) == 0  # fmt: skip
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(out.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate(VALUES) == live
    assert watched.problems() == []


def test_serve_refuses_an_unreadable_store_with_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not sqlite" * 100)
    refused = subprocess.run([*SERVE, str(broken)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             check=False)  # fmt: skip
    assert refused.returncode == 1 and "is not a readable SQLite store" in refused.stderr
    assert broken.read_bytes() == b"this is not sqlite" * 100  # left untouched
