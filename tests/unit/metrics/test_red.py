import pytest

from ricecoder_otel.metrics.red import red_sample, status_class


@pytest.mark.parametrize(
    ("code", "expected"), [(200, "2xx"), (404, "4xx"), (503, "5xx"), (None, "unknown"), (42, "unknown")]
)
def test_status_class(code: int | None, expected: str) -> None:
    assert status_class(code) == expected


def test_stable_semantic_conventions_are_read() -> None:
    sample = red_sample(
        "GET /products/<int:product_id>",
        {"http.route": "/products/<int:product_id>", "http.request.method": "GET", "http.response.status_code": 404},
        start_ns=1_000_000_000,
        end_ns=1_250_000_000,
        status_is_error=False,
    )
    assert sample.duration_s == pytest.approx(0.25)
    assert sample.attributes == {
        "http.route": "/products/<int:product_id>",
        "http.request.method": "GET",
        "http.response.status_class": "4xx",
        "http.response.status_code": 404,
    }
    assert not sample.is_error


def test_old_names_and_5xx_count_as_errors() -> None:
    sample = red_sample("checkout", {"http.method": "post", "http.status_code": "502"}, 0, 10, False)
    assert sample.attributes["http.request.method"] == "POST"
    assert sample.attributes["http.route"] == "checkout"
    assert sample.attributes["error.type"] == "502"
    assert sample.is_error


def test_unknown_method_and_garbage_status_never_raise() -> None:
    sample = red_sample("x", {"http.request.method": "BREW", "http.response.status_code": object()}, 5, 1, True)
    assert sample.attributes["http.request.method"] == "_OTHER"
    assert sample.attributes["http.response.status_class"] == "unknown"
    assert sample.duration_s == 0
    assert sample.is_error and sample.attributes["error.type"] == "_OTHER"
