from ricecoder_otel.metrics.cardinality import OVERFLOW_ATTRIBUTES, CardinalityLimiter


def test_series_under_the_limit_keep_their_attributes() -> None:
    limiter = CardinalityLimiter(2)
    assert limiter.admit("m", {"route": "/a"}) == {"route": "/a"}
    assert limiter.admit("m", {"route": "/b"}) == {"route": "/b"}
    assert limiter.admit("m", {"route": "/a"}) == {"route": "/a"}
    assert limiter.series_count("m") == 2


def test_new_series_past_the_limit_fold_into_one_overflow_series_and_warn_once() -> None:
    warnings: list[tuple[str, int]] = []
    limiter = CardinalityLimiter(2, on_first_overflow=lambda metric, limit: warnings.append((metric, limit)))
    limiter.admit("m", {"user": "1"})
    limiter.admit("m", {"user": "2"})
    assert limiter.admit("m", {"user": "3"}) == OVERFLOW_ATTRIBUTES
    assert limiter.admit("m", {"user": "4"}) == OVERFLOW_ATTRIBUTES
    assert warnings == [("m", 2)]
    assert limiter.overflow_count == 2
    # Limits are per metric.
    assert limiter.admit("other", {"user": "3"}) == {"user": "3"}


def test_no_attributes_is_a_series_of_its_own() -> None:
    limiter = CardinalityLimiter(1)
    assert limiter.admit("m", None) == {}
    assert limiter.admit("m", {"a": "b"}) == OVERFLOW_ATTRIBUTES


def test_raising_the_limit_at_runtime_admits_more_series() -> None:
    limiter = CardinalityLimiter(1)
    limiter.admit("m", {"a": "1"})
    assert limiter.admit("m", {"a": "2"}) == OVERFLOW_ATTRIBUTES
    limiter.set_limit(3)
    assert limiter.admit("m", {"a": "2"}) == {"a": "2"}
