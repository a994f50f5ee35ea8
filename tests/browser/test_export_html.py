"""The self-contained HTML export in headless Chromium: renders offline, every panel type, hostile values as text."""

from __future__ import annotations

import math
from pathlib import Path

from ricecoder_otel.dashboards import Dashboard, GridPos, Panel, Query, Threshold
from ricecoder_otel.dashboards.builtin import service_overview
from ricecoder_otel.dashboards.render_html import export_html
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.store.records import LogRow
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.browser.conftest import Watched
from tests.unit.dashboards.support import StoredPipeline

MS = 1_000_000
HOSTILE = [
    "</script><script>window.__pwned = 1</script>",
    '"><img src=x onerror="window.__pwned = 2">',
    "' onmouseover='window.__pwned=3' x='",
    "路由 ☃ \u202eevil\u202c 🚀",
    "/very-long/" + "x" * 2000,
]


def _fill(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "telemetry.db")
    running = StoredPipeline(store, service="shop")
    try:
        running.collect()
        for _ in range(2):
            for route in ["/orders", *HOSTILE]:
                running.request(route, 0.03)
            running.request("/orders", 0.4, status=500)
            running.collect()
    finally:
        running.close()
    store.write_logs([LogRow(time_ns=store.clock(), event_name="ricecoder.alert", body=HOSTILE[0], severity_text="WARN",
                             service_name="shop", attributes={"alertname": HOSTILE[1]})])  # fmt: skip
    return store


def _hostile_dashboard() -> Dashboard:
    overview = service_overview()
    return overview.model_copy(update={"title": HOSTILE[0] + " " + HOSTILE[3], "description": HOSTILE[1]})


def test_export_renders_offline_every_panel_type_and_hostile_values_stay_text(tmp_path: Path, watched: Watched) -> None:
    store = _fill(tmp_path)
    extra = Panel(id="table_hostile", type="table", title=HOSTILE[2], grid=GridPos(x=12, y=36, w=12, h=6),
                  queries=[Query(metric="http.server.request.duration", aggregation="p95", group_by=["http.route"])],
                  thresholds=[Threshold(value=1)])  # fmt: skip
    dashboard = _hostile_dashboard()
    dashboard = dashboard.model_copy(update={"panels": [*dashboard.panels, extra]})
    snapshot = take_snapshot(store, dashboard, range_ns=120_000 * MS, min_step_ns=MS)
    page_file = tmp_path / "export.html"
    page_file.write_text(export_html(snapshot), encoding="utf-8")

    page = watched.page
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(page_file.as_uri())
    page.wait_for_selector("body[data-ready='1']")

    assert watched.problems() == []
    assert page.evaluate("window.__pwned") is None
    assert watched.requests == [page_file.as_uri()]  # uPlot, styles and data are inlined: nothing else is fetched
    panels = page.eval_on_selector_all("section.panel", "ns => ns.map(n => [n.dataset.panelType, n.dataset.rendered])")
    assert {t for t, _ in panels} == {"graph", "table", "gauge", "stat", "heatmap", "events"}
    assert all(rendered == "1" for _, rendered in panels)
    assert page.locator("section.panel.has-error").count() == 0
    assert page.title() == f"{HOSTILE[0]} {HOSTILE[3]} · ricecoder-otel"
    assert page.inner_text("#rc-header h1") == HOSTILE[0] + " " + HOSTILE[3]
    assert page.inner_text("#rc-header .description") == HOSTILE[1]
    routes_text = page.inner_text('section[data-panel-id="routes"]')
    for value in HOSTILE:
        assert value in routes_text
    assert HOSTILE[0] in page.inner_text('section[data-panel-id="events"]')
    assert page.locator("img").count() == 0 and page.locator("script").count() == 3
    # The charts hold the exported numbers.
    series = snapshot["panels"]["rate_by_route"]["series"]
    index = next(i for i, s in enumerate(series) if s["label"] == "/orders")
    chart = page.evaluate(f"Array.from(ricecoderDashboard.charts.rate_by_route.data[{index + 1}])")
    assert chart == series[index]["values"]
    assert page.inner_text('section[data-panel-id="p95"] .stat-value') == _ms(snapshot["panels"]["p95"]["value"])


def _ms(seconds: float) -> str:
    """What the page shows for a duration under a second: JavaScript's toPrecision(3) of milliseconds."""
    value = seconds * 1e3
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f} ms"
