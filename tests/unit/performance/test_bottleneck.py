"""Attribution of a request's time to kinds of work (pure, hand-built span facts)."""

from __future__ import annotations

from ricecoder_otel.performance.bottleneck import Breakdown, SpanFacts, categorize, compare, self_times

MS = 1_000_000


def span(span_id: int, parent: int | None, category: str, start_ms: float, end_ms: float) -> SpanFacts:
    return SpanFacts(span_id, parent, category, int(start_ms * MS), int(end_ms * MS))


def test_sequential_children_add_up_to_the_request() -> None:
    root = span(1, None, "own_code", 0, 100)
    spans = [span(2, 1, "database", 10, 40), span(3, 1, "http_client", 40, 60), span(4, 1, "template", 60, 90)]
    assert self_times(root, spans) == {"database": 30 * MS, "http_client": 20 * MS, "template": 30 * MS,
                                       "own_code": 20 * MS}  # fmt: skip


def test_concurrent_calls_share_the_instants_they_overlap() -> None:
    root = span(1, None, "own_code", 0, 100)
    spans = [span(2, 1, "database", 0, 60), span(3, 1, "http_client", 30, 90)]
    # 0-30 db alone, 30-60 both (15 each), 60-90 http alone, 90-100 own code.
    assert self_times(root, spans) == {"database": 45 * MS, "http_client": 45 * MS, "template": 0, "own_code": 10 * MS}


def test_nested_spans_attribute_to_the_innermost_and_children_are_clipped() -> None:
    root = span(1, None, "own_code", 0, 100)
    spans = [
        span(2, 1, "own_code", 10, 90),  # a PerformanceTimer block
        span(3, 2, "database", 20, 50),
        span(4, 2, "database", 80, 130),  # outlives its parent: counted up to 90
        span(5, 99, "database", 0, 100),  # another subtree of the trace: not this request's
    ]
    assert self_times(root, spans) == {"database": 40 * MS, "http_client": 0, "template": 0, "own_code": 60 * MS}


def test_categories_from_semantic_conventions() -> None:
    assert categorize("CLIENT", "SELECT", {"db.system": "sqlite"}) == "database"
    assert categorize("CLIENT", "query", {"db.system.name": "postgresql"}) == "database"
    assert categorize("CLIENT", "GET", {"http.request.method": "GET"}) == "http_client"
    assert categorize("INTERNAL", "jinja2.render", {}) == "template"
    assert categorize("INTERNAL", "page", {"category": "template"}) == "template"
    assert categorize("INTERNAL", "x", {}, scope="opentelemetry.instrumentation.jinja2") == "template"
    assert categorize("SERVER", "GET /", {"http.request.method": "GET"}) == "own_code"


def test_growth_names_the_category_that_grew_most() -> None:
    baseline, recent = Breakdown(), Breakdown()
    baseline.add(0.100, {"database": 20 * MS, "own_code": 80 * MS})
    recent.add(0.200, {"database": 110 * MS, "own_code": 90 * MS})
    growth = compare(baseline, recent)
    assert growth is not None and growth.category == "database" and abs(growth.category_delta_s - 0.09) < 1e-9
    assert growth.ratio == 2.0
    steady = Breakdown()
    steady.add(0.105, {"database": 25 * MS, "own_code": 80 * MS})
    assert compare(baseline, steady) is None  # under 10% slower
    assert compare(Breakdown(), recent) is None
