"""Dashboards: evaluation and first render of 7 days, exported HTML size, point-to-drawn latency, CPU per viewer.

    PYTHONPATH=. python -m benchmarks.dashboards.render [--days 7] [--rounds 20] [--backend both]

A SQLite store and a PostgreSQL store (a throw-away server from tests/harness/postgres.py) each
get 7 days of 10 s RED points (3 routes; histogram and error counter) through the store API; a
20-panel service overview is evaluated (reading only each step's edges; baseline in the same
run: reading every point) and served by the live server to headless Debian Chromium over
``range=7d`` (time to first render: page requested to every panel drawn). On SQLite it is also
exported and opened from the file. Baselines in the same run: the size of uPlot alone, the first
render of the same file with no data, and the server's store poll interval. Writes
benchmarks/results/dashboards.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from ricecoder_otel.dashboards import Panel, Query, queries
from ricecoder_otel.dashboards.builtin import service_overview
from ricecoder_otel.dashboards.model import Dashboard, GridPos
from ricecoder_otel.dashboards.render_html import export_html, static_text
from ricecoder_otel.dashboards.server import POLL_INTERVAL_S, DashboardServer
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.store import open_store
from ricecoder_otel.store.records import MetricPoint
from ricecoder_otel.store.sql import SqlStore
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.harness.postgres import start_postgres, stop_postgres

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
ROUTES = ("/orders", "/pay", "/products")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
RESULTS = Path(__file__).resolve().parents[1] / "results" / "dashboards.json"


def twenty_panels() -> Dashboard:
    """The service overview (12 panels) plus 8 per-route graphs: 20 panels."""
    base = service_overview()
    extra = [
        Panel(id=f"route_{i}", type="graph", title=f"{route} {agg}", grid=GridPos(x=(i % 4) * 6, y=36 + (i // 4) * 8,
              w=6, h=8), unit="s" if agg.startswith("p") else "{request}/s",
              queries=[Query(metric="http.server.request.duration", aggregation=agg, where={"http.route": route})])
        for i, (route, agg) in enumerate((r, a) for r in ROUTES[:2] for a in ("p50", "p95", "p99", "rate"))
    ]  # fmt: skip
    return base.model_copy(update={"panels": [*base.panels, *extra]})


def fill(store: SqlStore, days: float, end_s: float) -> int:
    """Cumulative points every 10 s for ``days`` before ``end_s``."""
    steps = int(days * 86_400 / 10)
    counts = {r: [0] * (len(BOUNDS) + 1) for r in ROUTES}
    errors = dict.fromkeys(ROUTES, 0.0)
    batch: list[MetricPoint] = []
    written = 0
    for i in range(steps):
        t = int((end_s - (steps - i) * 10) * 1e9)
        for j, route in enumerate(ROUTES):
            counts[route][2 + (i + j) % 6] += 3 + j
            errors[route] += (i % 7 == 0) * (j + 1)
            attrs = {"http.route": route, "http.request.method": "GET"}
            batch.append(
                MetricPoint(
                    time_ns=t,
                    name="http.server.request.duration",
                    kind="histogram",
                    unit="s",
                    attributes=attrs,
                    count=sum(counts[route]),
                    sum=0.05 * sum(counts[route]),
                    bucket_bounds=BOUNDS,
                    bucket_counts=list(counts[route]),
                    service_name="shop",
                )
            )
            batch.append(MetricPoint(time_ns=t, name="ricecoder.http.server.errors", kind="counter", unit="{error}",
                                     attributes=attrs, value=errors[route], service_name="shop"))  # fmt: skip
        if len(batch) >= 20_000:
            written += store.write_metric_points(batch)
            batch.clear()
    return written + store.write_metric_points(batch)


def first_render_ms(page: Any, path: Path) -> float:
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    return float(page.evaluate("ricecoderDashboard.firstRenderMs"))


def evaluate_s(store: SqlStore, dashboard: Dashboard, days: float, end_s: float, every_point: bool = False) -> float:
    """Seconds to evaluate every panel over ``days`` (``every_point``: step edges as wide as the steps)."""
    edge = queries.MIN_EDGE_NS
    queries.MIN_EDGE_NS = int(days * 86_400e9) if every_point else edge
    try:
        started = time.perf_counter()
        take_snapshot(store, dashboard, range_ns=int(days * 86_400e9), end_ns=int(end_s * 1e9))
        return time.perf_counter() - started
    finally:
        queries.MIN_EDGE_NS = edge


def served_first_render_s(page: Any, store: SqlStore, dashboard: Dashboard, days: float) -> list[float]:
    """Seconds from requesting the live page over ``days`` to every panel drawn (3 page loads)."""
    server = DashboardServer(store, {dashboard.uid: dashboard}).start()
    try:
        times = []
        for hours in range(int(days * 24), int(days * 24) - 3, -1):  # another range each time: not cached
            started = time.perf_counter()
            page.goto(server.url + f"d/{dashboard.uid}?range={hours}h")
            page.wait_for_selector("body[data-ready='1']")
            times.append(time.perf_counter() - started)
        return times
    finally:
        server.stop()


def backend_timings(page: Any, store: SqlStore, days: float, end_s: float) -> dict[str, float]:
    dashboard = twenty_panels()
    edges = [evaluate_s(store, dashboard, days, end_s) for _ in range(3)]
    every = evaluate_s(store, dashboard, days, end_s, every_point=True)
    served = served_first_render_s(page, store, dashboard, days)
    return {
        "evaluate_s_median": round(statistics.median(edges), 3),
        "evaluate_every_point_s": round(every, 3),
        "evaluate_speedup_vs_every_point": round(every / statistics.median(edges), 2),
        "served_first_render_s_median": round(statistics.median(served), 3),
    }


def live_latency(page: Any, store: SqlStore, server: DashboardServer, rounds: int) -> list[float]:
    """Seconds from a point stored (write returned) to the page having drawn the snapshot that holds it."""
    page.goto(server.url + "d/service-overview?range=15m")
    page.wait_for_selector("#rc-live.on")
    latencies = []
    counts = [0] * (len(BOUNDS) + 1)
    for i in range(rounds):
        before = page.evaluate("ricecoderDashboard.updates")
        counts[3] += 1
        point = MetricPoint(time_ns=time.time_ns(), name="http.server.request.duration", kind="histogram", unit="s",
                            attributes={"http.route": "/live"}, count=i + 1, sum=0.03 * (i + 1),
                            bucket_bounds=BOUNDS, bucket_counts=list(counts), service_name="shop")  # fmt: skip
        store.write_metric_points([point])
        stored = time.monotonic()
        while page.evaluate("ricecoderDashboard.updates") == before:
            page.wait_for_timeout(2)
        latencies.append(time.monotonic() - stored)
        page.wait_for_timeout(150)
    return latencies


def cpu_per_viewer(store: SqlStore, server: DashboardServer, viewers: int, seconds: float = 5.0) -> float:
    """Process CPU seconds per second of wall time while ``viewers`` streams follow one write per second."""
    sockets = []
    for _ in range(viewers):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /api/stream/service-overview HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.setblocking(False)
        sockets.append(sock)
    time.sleep(0.5)
    start_cpu, start = time.process_time(), time.monotonic()
    while time.monotonic() - start < seconds:
        store.write_metric_points([MetricPoint(time_ns=time.time_ns(), name="ricecoder.self.queue.depth",
                                               kind="gauge", value=1.0, service_name="shop")])  # fmt: skip
        for sock in sockets:
            try:
                while sock.recv(1 << 20):
                    pass
            except BlockingIOError:
                pass
        time.sleep(1.0)
    used = (time.process_time() - start_cpu) / (time.monotonic() - start)
    for sock in sockets:
        sock.close()
    return used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "command": "PYTHONPATH=. python -m benchmarks.dashboards.render "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "range_days": args.days,
        "panels": len(twenty_panels().panels),
    }
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        if args.backend in ("sqlite", "both"):
            store = SQLiteStore(Path(tmp) / "telemetry.db", retention=None)
            result["sqlite"] = sqlite_measures(page, store, args.days, args.rounds, Path(tmp))
            store.close()
        if args.backend in ("postgres", "both"):
            server = start_postgres()
            try:
                pg = open_store(server.create_database("dashboards"), retention=None)
                assert isinstance(pg, SqlStore)
                end_s = time.time()
                result["postgres"] = {"store_points": filled(pg, args.days, end_s),
                                      **backend_timings(page, pg, args.days, end_s)}  # fmt: skip
                pg.close()
            finally:
                stop_postgres(server)
        browser.close()
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


def filled(store: SqlStore, days: float, end_s: float) -> int:
    started = time.monotonic()
    rows = fill(store, days, end_s)
    print(f"{store.backend}: stored {rows} points in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return rows


def sqlite_measures(page: Any, store: SQLiteStore, days: float, rounds: int, tmp: Path) -> dict[str, Any]:
    """Evaluation and served first render, then export size and render, live latency and CPU per viewer."""
    end_s = time.time()
    rows = filled(store, days, end_s)
    timings = backend_timings(page, store, days, end_s)
    dashboard = twenty_panels()
    page_html = export_html(take_snapshot(store, dashboard, range_ns=int(days * 86_400e9), end_ns=int(end_s * 1e9)))
    empty_html = export_html(take_snapshot(store, dashboard, range_ns=60_000_000_000, end_ns=1_000_000_000))
    full, empty = tmp / "full.html", tmp / "empty.html"
    full.write_text(page_html, encoding="utf-8")
    empty.write_text(empty_html, encoding="utf-8")
    code = sum(
        len(static_text(name)) for name in ("uplot.iife.min.js", "dashboard.js", "uplot.min.css", "dashboard.css")
    )
    renders = [(first_render_ms(page, full), first_render_ms(page, empty)) for _ in range(5)]
    server = DashboardServer(store, {"service-overview": service_overview()}).start()
    try:
        latencies = live_latency(page, store, server, rounds)
        idle_cpu = cpu_per_viewer(store, server, 0)
        ten_cpu = cpu_per_viewer(store, server, 10)
    finally:
        server.stop()
    full_ms = statistics.median(r[0] for r in renders)
    empty_ms = statistics.median(r[1] for r in renders)
    return {
        "store_points": rows,
        **timings,
        "html_bytes": len(page_html.encode("utf-8")),
        "html_code_bytes": code,
        "uplot_bytes": len(static_text("uplot.iife.min.js")),
        "html_data_bytes": len(page_html.encode("utf-8")) - code,
        "export_first_render_ms_median": round(full_ms, 1),
        "export_first_render_empty_ms_median": round(empty_ms, 1),
        "export_first_render_ratio_vs_empty": round(full_ms / empty_ms, 2),
        "point_to_drawn_s_p50": round(statistics.median(latencies), 3),
        "point_to_drawn_s_p95": round(statistics.quantiles(latencies, n=20)[18], 3),
        "store_poll_interval_s": POLL_INTERVAL_S,
        "server_cpu_s_per_s_idle": round(idle_cpu, 4),
        "server_cpu_s_per_s_10_viewers": round(ten_cpu, 4),
        "server_cpu_s_per_s_per_viewer": round((ten_cpu - idle_cpu) / 10, 4),
    }


if __name__ == "__main__":
    sys.exit(main())
