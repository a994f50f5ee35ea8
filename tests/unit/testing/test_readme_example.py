"""The README's ``ricecoder_capture`` example runs as written in a user's test suite (pytester)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[3] / "README.md"

CONFTEST = '''
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind


class Client:
    """A stand-in for a web framework's test client: one server span per request, via the global API."""

    def post(self, path):
        tracer = trace.get_tracer("shop")
        with tracer.start_as_current_span(f"POST {path}", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", "POST")
            span.set_attribute("http.route", path)
            span.set_attribute("http.response.status_code", 201)


@pytest.fixture
def client():
    return Client()
'''


def _readme_example() -> str:
    section = README.read_text().split("## Asserting on telemetry in your tests", 1)[1]
    example: str = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    return example


def test_the_readme_example_passes_and_fails_when_the_telemetry_is_not_there(pytester: pytest.Pytester) -> None:
    example = _readme_example()
    assert "def test_" in example and "ricecoder_capture" in example
    pytester.makeconftest(CONFTEST)
    broken = example.replace('client.post("/checkout")', 'client.post("/cart")')
    assert broken != example
    pytester.makepyfile(test_readme=example, test_readme_broken=broken)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_readme_broken.py*"])
