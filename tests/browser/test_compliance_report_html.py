"""The HTML compliance report in headless Chromium: renders offline, no console errors, hostile values inert."""

from __future__ import annotations

import time
from pathlib import Path

from ricecoder_otel.compliance.reports import ComplianceEngine, to_html
from ricecoder_otel.config import MonitoringConfig
from tests.browser.conftest import Watched

HOSTILE = [
    "</script><script>window.__pwned = 1</script>",
    '"><img src=x onerror="window.__pwned = 2">',
    "' onmouseover='window.__pwned=3' x='",
    "javascript:window.__pwned=4",
]


def test_the_report_renders_with_no_console_errors_and_hostile_values_do_not_execute(
    tmp_path: Path, watched: Watched
) -> None:
    config = MonitoringConfig.model_validate(
        {"service_name": HOSTILE[0], "compliance": {"waivers": [
            {"control": "SOC2:CC6.7", "justification": " ".join(HOSTILE), "approved_by": HOSTILE[1],
             "expires": "2999-01-01"},
            {"control": "SOC2:CC6.1", "justification": HOSTILE[2], "expires": "2000-01-01"}]}}
    )  # fmt: skip
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": 'http://evil.example.com:4318/"><script>window.__pwned=5</script>'}
    now = time.time()
    report = ComplianceEngine(config, env=env, journal_dir=tmp_path).generate_compliance_report("SOC2", now - 3600, now)
    page_file = tmp_path / "report.html"
    page_file.write_text(to_html(report), encoding="utf-8")

    page = watched.page
    page.goto(page_file.as_uri())
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.hover("body")
    for element in page.query_selector_all("td, p, li"):
        element.hover()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('script, img, iframe, object').length") == 0
    body = page.inner_text("body")
    assert HOSTILE[0] in body and HOSTILE[1] in body  # shown as text
    assert page.inner_text("h1").startswith("SOC2 compliance report")
    assert page.inner_text("#CC6\\.7") == "CC6.7: Transmission of information is restricted and protected waived"
    assert watched.problems() == []
    assert [url for url in watched.requests if not url.startswith("file://")] == []
