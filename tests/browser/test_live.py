"""The live dashboard server in headless Chromium: every panel type, live points, variables from the URL,
hostile values as text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.server import DashboardServer
from ricecoder_otel.store.records import LogRow
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.browser.conftest import Watched, poll
from tests.browser.test_export_html import HOSTILE, _fill, _hostile_dashboard
from tests.unit.dashboards.support import StoredPipeline


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[StoredPipeline, DashboardServer]]:
    store = SQLiteStore(tmp_path / "telemetry.db")
    running = StoredPipeline(store)
    running.collect()
    for route in ("/orders", "/pay"):
        running.request(route, 0.02)
    running.collect()
    for route in ("/orders", "/pay"):
        running.request(route, 0.02, status=200 if route == "/orders" else 500)
    running.collect()
    reader = SQLiteStore(tmp_path / "telemetry.db", read_only=True)  # as `dashboard serve` opens it
    server = DashboardServer(reader, builtin_dashboards()).start()
    yield running, server
    server.stop()
    running.close()
    reader.close()
    store.close()


def test_live_page_renders_every_panel_type_without_console_errors(live: tuple[StoredPipeline, DashboardServer],
                                                                   watched: Watched) -> None:  # fmt: skip
    _, server = live
    page = watched.page
    page.goto(server.url + "d/service-overview")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#rc-live.on")
    types = page.eval_on_selector_all("section.panel[data-rendered='1']", "ns => ns.map(n => n.dataset.panelType)")
    assert set(types) == {"graph", "table", "gauge", "stat", "heatmap", "events"}
    assert page.locator("section.panel.has-error").count() == 0
    assert "/orders" in page.inner_text('section[data-panel-id="routes"]')
    for uid in ("system", "anomalies-alerts"):
        page.goto(server.url + f"d/{uid}")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("section.panel.has-error").count() == 0
    assert watched.problems() == []
    assert all(url.startswith(server.url) for url in watched.requests)


def test_a_stored_point_is_on_screen_within_a_second(live: tuple[StoredPipeline, DashboardServer],
                                                     watched: Watched) -> None:  # fmt: skip
    running, server = live
    page = watched.page
    page.goto(server.url + "d/service-overview?var-route=/orders")
    page.wait_for_selector("#rc-live.on")
    p99 = "document.querySelector('section[data-panel-id=\"routes\"] tbody').innerText"
    assert " s" not in page.evaluate(p99).split("\t")[-1]  # milliseconds so far
    for _ in range(5):
        running.request("/orders", 7.0)  # lands in the (5 s, 7.5 s] bucket
    running.collect()  # the point is stored when this returns
    stored = time.monotonic()
    poll(page, f"/[5-7][.0-9]* s$/.test({p99}.trim())", deadline_s=1.0 - (time.monotonic() - stored))
    # An event written to the store reaches the events panel the same way.
    running.store.write_logs([LogRow(time_ns=time.time_ns(), event_name="ricecoder.alert", body="HighLatency firing",
                                     severity_text="WARN", service_name="shop")])  # fmt: skip
    poll(page, "document.querySelector('section[data-panel-id=\"events\"]').innerText.includes('HighLatency firing')",
         deadline_s=1.0)  # fmt: skip
    assert watched.problems() == []


def test_variables_come_from_the_url_and_filter_the_data(live: tuple[StoredPipeline, DashboardServer],
                                                         watched: Watched) -> None:  # fmt: skip
    _, server = live
    page = watched.page
    page.goto(server.url + "d/service-overview?var-route=/pay&range=15m")
    page.wait_for_selector("body[data-ready='1']")
    rows = page.eval_on_selector_all(
        'section[data-panel-id="routes"] tbody tr', "rs => rs.map(r => r.cells[0].innerText)"
    )
    assert rows == ["/pay"]
    assert page.input_value("select[name='var-route']") == "/pay"
    assert page.input_value("select[name='range']") == "15m"
    page.select_option("select[name='var-route']", "/orders")
    page.wait_for_url("**var-route=%2Forders**")
    page.wait_for_selector("body[data-ready='1']")
    rows = page.eval_on_selector_all(
        'section[data-panel-id="routes"] tbody tr', "rs => rs.map(r => r.cells[0].innerText)"
    )
    assert rows == ["/orders"]
    page.select_option("select[name='var-route']", "")
    page.wait_for_url(lambda url: "var-route" not in url)
    page.wait_for_selector("body[data-ready='1']")
    rows = page.eval_on_selector_all(
        'section[data-panel-id="routes"] tbody tr', "rs => rs.map(r => r.cells[0].innerText)"
    )
    assert rows == ["/orders", "/pay"]
    assert watched.problems() == []


def test_hostile_titles_labels_and_events_are_text_on_the_live_page(tmp_path: Path, watched: Watched) -> None:
    _fill(tmp_path).close()
    reader = SQLiteStore(tmp_path / "telemetry.db", read_only=True)
    server = DashboardServer(reader, {"service-overview": _hostile_dashboard()}).start()
    try:
        page = watched.page
        page.goto(server.url + "d/service-overview?range=15m")
        page.wait_for_selector("#rc-live.on")
        assert page.inner_text("#rc-header h1") == HOSTILE[0] + " " + HOSTILE[3]
        assert page.inner_text("#rc-header .description") == HOSTILE[1]
        routes_text = page.inner_text('section[data-panel-id="routes"]')
        assert all(value in routes_text for value in HOSTILE)
        assert HOSTILE[0] in page.inner_text('section[data-panel-id="events"]')
        options = page.eval_on_selector_all("select[name='var-route'] option", "os => os.map(o => o.value)")
        assert set(HOSTILE) <= set(options)
        page.goto(server.url + "d/service-overview?range=15m&var-route=" + quote(HOSTILE[1], safe=""))
        page.wait_for_selector("#rc-live.on")
        rows = page.eval_on_selector_all(
            'section[data-panel-id="routes"] tbody tr', "rs => rs.map(r => r.cells[0].innerText)"
        )
        assert rows == [HOSTILE[1]]
        assert page.evaluate("window.__pwned") is None and page.locator("img").count() == 0
        assert watched.problems() == []
        assert all(url.startswith(server.url) for url in watched.requests)
    finally:
        server.stop()
        reader.close()
