"""HTTP status classes at their edges, as the RED aggregator records them."""

from __future__ import annotations

import pytest

from ricecoder_otel.metrics.cardinality import CardinalityLimiter
from ricecoder_otel.metrics.red_aggregator import RedAggregator


def _recorded(status: object) -> dict[str, object]:
    aggregator = RedAggregator(CardinalityLimiter(10))
    attributes = {"http.route": "/a", "http.request.method": "GET", "http.response.status_code": status}
    aggregator.record("GET /a", attributes, start_ns=0, end_ns=1_000_000, failed=False)
    [series] = aggregator.snapshot()
    return {**series.attributes, "errors": series.errors}


@pytest.mark.parametrize(
    ("status", "status_class"),
    [
        (99, "unknown"),
        (100, "1xx"),
        (101, "1xx"),
        (199, "1xx"),
        (200, "2xx"),
        (399, "3xx"),
        (499, "4xx"),
        (500, "5xx"),
        (599, "5xx"),
        (600, "unknown"),
        (0, "unknown"),
        (-200, "unknown"),
    ],
)
def test_status_class_edges(status: int, status_class: str) -> None:
    assert _recorded(status)["http.response.status_class"] == status_class


@pytest.mark.parametrize(("status", "errors"), [(100, 0), (499, 0), (500, 1), (599, 1)])
def test_5xx_edges_count_as_errors_and_below_does_not(status: int, errors: int) -> None:
    recorded = _recorded(status)
    assert recorded["errors"] == errors
    assert ("error.type" in recorded) is bool(errors)
    if errors:
        assert recorded["error.type"] == str(status)


def test_a_status_that_is_not_a_number_is_unknown_and_kept_out_of_the_attributes() -> None:
    recorded = _recorded("teapot")
    assert recorded["http.response.status_class"] == "unknown"
    assert "http.response.status_code" not in recorded
    assert recorded["errors"] == 0
