"""Headless Debian Chromium driven by Playwright (never a downloaded browser: .ci/steps/chromium.sh).

Every page a test opens records console messages, page errors and every request that left
the page, so a test can assert "no console errors" and "no network" exactly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
]  # fmt: skip


@dataclass
class Watched:
    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return self.errors + [m for m in self.console if m.startswith(("error", "warning"))]


def poll(page: Page, expression: str, deadline_s: float) -> float:
    """Evaluate ``expression`` until it is truthy; the seconds it took. Fails at the deadline.

    (``page.wait_for_function`` evaluates strings with eval, which the pages' CSP forbids.)
    """
    started = time.monotonic()
    while True:
        if page.evaluate(expression):
            return time.monotonic() - started
        if time.monotonic() - started > deadline_s:
            raise AssertionError(f"not true within {deadline_s} s: {expression}")
        page.wait_for_timeout(10)


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an event loop running while open,
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:  # which breaks later asyncio.run()
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/steps/chromium.sh (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    seen = Watched(page)

    def on_console(message: Any) -> None:
        seen.console.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.on("request", lambda request: seen.requests.append(request.url))
    yield seen
    context.close()
