"""The performance worker's modules run compiled (mypyc, built by setup.py) where the environment asks
for it, and the compiled histogram and self-time attribution compute exactly what their pure-Python
sources do. (Every other test of this package runs against the installed build.)"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import sys
from pathlib import Path
from types import ModuleType

from hypothesis import given, settings
from hypothesis import strategies as st

import ricecoder_otel.performance as performance
from ricecoder_otel.performance import bottleneck, histogram

REBUILD = "rebuild it with `pip install -e .` (setup.py compiles the performance worker's modules with mypyc)"
COMPILED_MODULES = ("worker", "engine", "histogram", "bottleneck", "spans")


def _source(module: ModuleType) -> ModuleType:
    """``module``'s .py file loaded as its own module, whatever the installed build is."""
    name = f"{module.__name__}_source"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _source_path(module))
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def _source_path(module: ModuleType) -> Path:
    return Path(module.__file__ or "").parent / f"{module.__name__.rsplit('.', 1)[1]}.py"


def test_the_installed_worker_is_the_build_the_environment_asks_for() -> None:
    modules = [importlib.import_module(f"ricecoder_otel.performance.{name}") for name in COMPILED_MODULES]
    files = {module.__name__: module.__file__ or "" for module in modules}
    if os.environ.get("RICECODER_OTEL_PURE_PYTHON", "") not in ("", "0"):
        assert not performance.COMPILED and all(f.endswith(".py") for f in files.values()), files
        return
    assert performance.COMPILED, f"the performance worker runs as pure Python: {REBUILD}"
    assert all(f.endswith(".so") for f in files.values()), files
    assert all(_source_path(module).is_file() for module in modules)  # the source ships beside each


durations = st.lists(
    st.one_of(
        st.floats(min_value=0.0, max_value=1e4, allow_nan=False),
        st.sampled_from([0.0, 0.5, 1.0, 2.0, 0.25, math.inf, -1.0, math.nan, 1e-300]),
    ),
    max_size=200,
)


def _state(h: object) -> tuple[object, ...]:
    return tuple(getattr(h, field) for field in ("count", "counts", "low", "high", "zero_count", "scale", "min", "max"))


@settings(max_examples=150, deadline=None)
@given(batches=st.lists(durations, max_size=6), max_size=st.sampled_from([2, 8, 160]))
def test_the_compiled_histogram_counts_exactly_as_its_source(batches: list[list[float]], max_size: int) -> None:
    pure = _source(histogram)
    built, source = histogram.ExpHistogram(max_size=max_size), pure.ExpHistogram(max_size=max_size)
    for n, batch in enumerate(batches):
        for h in (built, source):
            if n % 2:
                h.record_many(list(batch))
            else:
                for value in batch:
                    h.record(value)
        assert _state(built) == _state(source) and built.sum == source.sum
        if built.count:
            assert [built.quantile(q) for q in (0.5, 0.9, 0.99)] == [source.quantile(q) for q in (0.5, 0.9, 0.99)]


@settings(max_examples=150, deadline=None)
@given(
    children=st.lists(
        st.tuples(st.integers(0, 1000), st.integers(0, 1000), st.sampled_from(["database", "template", "own_code"])),
        max_size=30,
    ),
)
def test_the_compiled_self_time_attribution_matches_its_source(children: list[tuple[int, int, str]]) -> None:
    pure = _source(bottleneck)
    results = []
    for module in (bottleneck, pure):
        root = module.SpanFacts(1, None, "server", 0, 1000)
        facts = [module.SpanFacts(n + 2, 1, kind, min(a, b), max(a, b)) for n, (a, b, kind) in enumerate(children)]
        results.append(module.self_times(root, facts))
    assert results[0] == results[1]
