"""Report panels of the errors dashboard exported as HTML, in headless Chromium: offline, hostile text stays text."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from ricecoder_otel.dashboards.builtin import errors
from ricecoder_otel.dashboards.render_html import export_html
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.errors.engine import ErrorEngine, Occurrence
from ricecoder_otel.errors.store import ErrorStore, StoredSample
from ricecoder_otel.store.sqlite import SQLiteStore
from ricecoder_otel.testing import ManualClock
from tests.browser.conftest import Watched
from tests.unit.dashboards.reports_support import fill_errors

HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> 路由 ☃'


def test_report_panels_render_offline_and_hostile_error_text_stays_text(tmp_path: Path, watched: Watched) -> None:
    now = time.time()
    store = SQLiteStore(tmp_path / "telemetry.db")
    fill_errors(store, now - 600)
    engine = ErrorEngine(clock=ManualClock(now))
    outcome = engine.record(Occurrence(str(uuid.uuid4()), "HostileError", HOSTILE, "", now - 60, user_id="eve"))
    assert outcome is not None
    ErrorStore(store).write(engine.drain_pending(), [StoredSample.of(outcome.group.id, outcome.occurrence)], [],
                            service_name=HOSTILE)  # fmt: skip
    snapshot = take_snapshot(store, errors(), range_ns=3600 * 10**9)
    store.close()
    page_file = tmp_path / "errors.html"
    page_file.write_text(export_html(snapshot), encoding="utf-8")

    page = watched.page
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(page_file.as_uri())
    page.wait_for_selector("body[data-ready='1']")

    assert watched.problems() == [] and page.evaluate("window.__pwned") is None
    assert watched.requests == [page_file.as_uri()]
    assert page.locator("section.panel.has-error").count() == 0 and page.locator("img").count() == 0
    assert page.inner_text('section[data-panel-id="groups"] .stat-value') == "3"
    assert page.inner_text('section[data-panel-id="unresolved"] .stat-value') == "3"
    table = page.locator('section[data-panel-id="table"] table')
    assert table.locator("tbody tr").count() == 3
    headers = table.locator("th").all_inner_texts()
    assert headers[:5] == ["group", "title", "culprit", "service", "status"]
    first = table.locator("tbody tr").first.locator("td").all_inner_texts()  # most frequent first: ValueError
    assert first[5] == "3 error" and first[6] == "2 user"
    assert first[7] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(now - 600 + 10)))
    text = page.inner_text('section[data-panel-id="table"]')
    assert f"HostileError: {HOSTILE}" in text and HOSTILE in text  # title and service, shown as text
    assert "counts and users are totals since each group was first seen" in text
    table.locator("th").nth(5).click()  # sort by count, ascending
    assert table.locator("tbody tr").first.locator("td").nth(5).inner_text() == "1 error"
