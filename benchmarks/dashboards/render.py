"""Dashboards: exported HTML size, time to first render, stored-point-to-drawn latency, server CPU per viewer.

    python -m benchmarks.dashboards.render [--days 7] [--rounds 20]

A SQLite store gets 7 days of 10 s RED points (3 routes; histogram and error counter) through the
store API; a 20-panel service overview is evaluated, exported and opened in headless Debian
Chromium. Baselines in the same run: the size of uPlot alone, the first render of the same file
with no data, and the server's store poll interval. Writes benchmarks/results/dashboards.json
and prints it.
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

from ricecoder_otel.dashboards import Panel, Query
from ricecoder_otel.dashboards.builtin import service_overview
from ricecoder_otel.dashboards.model import Dashboard, GridPos
from ricecoder_otel.dashboards.render_html import export_html, static_text
from ricecoder_otel.dashboards.server import POLL_INTERVAL_S, DashboardServer
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.store.records import MetricPoint
from ricecoder_otel.store.sqlite import SQLiteStore

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


def fill(store: SQLiteStore, days: float, end_s: float) -> int:
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


def live_latency(page: Any, store: SQLiteStore, server: DashboardServer, rounds: int) -> list[float]:
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


def cpu_per_viewer(store: SQLiteStore, server: DashboardServer, viewers: int, seconds: float = 5.0) -> float:
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "telemetry.db", retention=None)
        end_s = time.time()
        started = time.monotonic()
        rows = fill(store, args.days, end_s)
        print(f"stored {rows} points in {time.monotonic() - started:.1f} s", file=sys.stderr)
        dashboard = twenty_panels()
        t0 = time.perf_counter()
        snapshot = take_snapshot(store, dashboard, range_ns=int(args.days * 86_400e9), end_ns=int(end_s * 1e9))
        evaluate_s = time.perf_counter() - t0
        page_html = export_html(snapshot)
        empty_html = export_html(take_snapshot(store, dashboard, range_ns=60_000_000_000, end_ns=1_000_000_000))
        full, empty = Path(tmp) / "full.html", Path(tmp) / "empty.html"
        full.write_text(page_html, encoding="utf-8")
        empty.write_text(empty_html, encoding="utf-8")
        code = (
            len(static_text("uplot.iife.min.js")) + len(static_text("dashboard.js")) + len(static_text("uplot.min.css"))
        )
        code += len(static_text("dashboard.css"))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            renders = [(first_render_ms(page, full), first_render_ms(page, empty)) for _ in range(5)]
            server = DashboardServer(store, {"service-overview": service_overview()}).start()
            try:
                latencies = live_latency(page, store, server, args.rounds)
                idle_cpu = cpu_per_viewer(store, server, 0)
                ten_cpu = cpu_per_viewer(store, server, 10)
            finally:
                server.stop()
            browser.close()
        store.close()
    full_ms = statistics.median(r[0] for r in renders)
    empty_ms = statistics.median(r[1] for r in renders)
    q = statistics.quantiles(latencies, n=20)
    result = {
        "command": "python -m benchmarks.dashboards.render " + " ".join(argv if argv is not None else sys.argv[1:]),
        "store_points": rows,
        "panels": len(dashboard.panels),
        "range_days": args.days,
        "evaluate_snapshot_s": round(evaluate_s, 3),
        "html_bytes": len(page_html.encode("utf-8")),
        "html_code_bytes": code,
        "uplot_bytes": len(static_text("uplot.iife.min.js")),
        "html_data_bytes": len(page_html.encode("utf-8")) - code,
        "first_render_ms_median": round(full_ms, 1),
        "first_render_empty_ms_median": round(empty_ms, 1),
        "first_render_ratio_vs_empty": round(full_ms / empty_ms, 2),
        "point_to_drawn_s_p50": round(statistics.median(latencies), 3),
        "point_to_drawn_s_p95": round(q[18], 3),
        "store_poll_interval_s": POLL_INTERVAL_S,
        "server_cpu_s_per_s_idle": round(idle_cpu, 4),
        "server_cpu_s_per_s_10_viewers": round(ten_cpu, 4),
        "server_cpu_s_per_s_per_viewer": round((ten_cpu - idle_cpu) / 10, 4),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
