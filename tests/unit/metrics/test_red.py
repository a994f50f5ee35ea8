import pytest

from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red import red_series, status_class
from ricecoder_otel.metrics.red_aggregator import RedAggregator


@pytest.mark.parametrize(
    ("code", "expected"), [(200, "2xx"), (404, "4xx"), (503, "5xx"), (None, "unknown"), (42, "unknown")]
)
def test_status_class(code: int | None, expected: str) -> None:
    assert status_class(code) == expected


def test_stable_semantic_conventions_are_read() -> None:
    attributes = {"http.route": "/products/<int:product_id>", "http.request.method": "GET",
                  "http.response.status_code": 404}  # fmt: skip
    sample = red_series("GET /products/<int:product_id>", attributes, status_is_error=False)
    assert sample.attributes == {
        "http.route": "/products/<int:product_id>",
        "http.request.method": "GET",
        "http.response.status_class": "4xx",
        "http.response.status_code": 404,
    }
    assert not sample.is_error


def test_old_names_and_5xx_count_as_errors() -> None:
    sample = red_series("checkout", {"http.method": "post", "http.status_code": "502"}, False)
    assert sample.attributes["http.request.method"] == "POST"
    assert sample.attributes["http.route"] == "checkout"
    assert sample.attributes["error.type"] == "502"
    assert sample.is_error


def test_unknown_method_and_garbage_status_never_raise() -> None:
    sample = red_series("x", {"http.request.method": "BREW", "http.response.status_code": object()}, True)
    assert sample.attributes["http.request.method"] == "_OTHER"
    assert sample.attributes["http.response.status_class"] == "unknown"
    assert sample.is_error and sample.attributes["error.type"] == "_OTHER"


def test_the_aggregator_times_requests_in_seconds_and_clamps_clock_skew() -> None:
    aggregator = RedAggregator(CardinalityLimiter(10))
    route = {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": 200}
    aggregator.record("GET /a", route, start_ns=1_000_000_000, end_ns=1_250_000_000, failed=False)
    aggregator.record("GET /a", route, start_ns=5, end_ns=1, failed=False)  # end before start
    [series] = aggregator.snapshot()
    assert series.count == 2
    assert series.sum == pytest.approx(0.25)
    assert series.min == 0 and series.max == pytest.approx(0.25)
    assert series.bucket_counts[0] == 1  # the clamped request
