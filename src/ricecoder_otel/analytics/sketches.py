"""Distinct-user counts in bounded memory: Apache DataSketches HyperLogLog (the ``analytics`` extra).

One sketch per day and feature; a week or a month is the union of its days, and replicas
merge by union too, so the fleet's count equals one process's count of all events. Relative
standard error is about ``1.04 / sqrt(2**lg_k)`` (0.8% at the default ``lg_k`` 14). Without
``datasketches`` installed, :func:`available` is False and reports count exactly from the
per-user rows instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

try:
    import datasketches as _ds
except ImportError:  # pragma: no cover - exercised only without the extra
    _ds = None


def available() -> bool:
    return _ds is not None


class DistinctSketch:
    """An HLL_4 sketch of pseudonymous ids (bytes in, a count out)."""

    __slots__ = ("_sketch", "lg_k")

    def __init__(self, lg_k: int, sketch: Any = None) -> None:
        if _ds is None:
            raise RuntimeError(
                "distinct-user sketches need the analytics extra: pip install 'ricecoder-otel[analytics]'"
            )
        self.lg_k = lg_k
        self._sketch = sketch if sketch is not None else _ds.hll_sketch(lg_k, _ds.tgt_hll_type.HLL_4)

    def add(self, item: str) -> None:
        self._sketch.update(item)

    def estimate(self) -> float:
        return float(self._sketch.get_estimate())

    def to_bytes(self) -> bytes:
        return bytes(self._sketch.serialize_compact())

    def size_bytes(self) -> int:
        """Memory the sketch holds (its updatable serialisation)."""
        return int(self._sketch.get_updatable_serialization_bytes())

    @classmethod
    def from_bytes(cls, data: bytes, lg_k: int) -> DistinctSketch:
        assert _ds is not None
        return cls(lg_k, _ds.hll_sketch.deserialize(data))

    @classmethod
    def union(cls, sketches: Iterable[DistinctSketch], lg_k: int) -> DistinctSketch:
        assert _ds is not None
        merged = _ds.hll_union(lg_k)
        for sketch in sketches:
            merged.update(sketch._sketch)
        return cls(lg_k, merged.get_result(_ds.tgt_hll_type.HLL_4))


def relative_error(lg_k: int, std_devs: int = 2) -> float:
    """The documented bound (``std_devs`` standard deviations) of a merged sketch's estimate."""
    if _ds is None:
        return 0.0
    return abs(float(_ds.hll_sketch.get_rel_err(True, True, lg_k, std_devs)))
