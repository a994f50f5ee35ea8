"""The OpenTelemetry base-2 exponential histogram, as a mergeable latency sketch.

Bucket ``i`` at scale ``s`` holds values in ``(base**i, base**(i+1)]`` with ``base = 2**(2**-s)``
(the data model's ``ExponentialHistogram``, which OTLP carries natively). At most ``max_size``
buckets are kept; a value outside that range halves the resolution (the scale drops) until it
fits, so memory is bounded whatever the data. A quantile is answered with the point of its bucket
whose relative error to any value in the bucket is smallest, ``2*L*U/(L+U)``, so the relative
error of every quantile is at most ``(base - 1) / (base + 1)`` (4.3% at scale 3, which 160
buckets reach for four decades of latency), clamped to the exact minimum and maximum.

Plain Python: no OpenTelemetry imports. Not thread-safe: one owner (the performance worker).
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

MAX_SCALE = 20
MIN_SCALE = -10
DEFAULT_MAX_SIZE = 160  # the SDK's default for the base-2 exponential bucket histogram aggregation
_LN2 = math.log(2.0)
_MAX_EXPONENT = 1024.0  # 2.0 ** 1024 overflows a float
_FACTORS = {scale: 2.0**scale / _LN2 for scale in range(1, MAX_SCALE + 1)}
_MANTISSA = operator.itemgetter(0)  # of math.frexp's (mantissa, exponent): 0.5 for a power of two


def bucket_index(value: float, scale: int) -> int:
    """Index of the bucket holding ``value`` (> 0) at ``scale``: exact at powers of two (the spec's mapping)."""
    mantissa, exponent = math.frexp(value)  # value = mantissa * 2**exponent, mantissa in [0.5, 1)
    power_of_two = mantissa == 0.5
    if scale <= 0:
        return (exponent - 2 if power_of_two else exponent - 1) >> -scale
    if power_of_two:
        return ((exponent - 1) << scale) - 1
    return math.ceil(math.log(value) * _FACTORS[scale]) - 1


def lower_boundary(index: int, scale: int) -> float:
    """The exclusive lower bound of bucket ``index`` at ``scale`` (infinity past the float range,
    where the coarsest scales' top buckets end)."""
    exponent = index / 2.0**scale
    return math.pow(2.0, exponent) if exponent < _MAX_EXPONENT else math.inf


def relative_error_bound(scale: int) -> float:
    """The largest relative error of a quantile answered at ``scale``."""
    base = math.pow(2.0, math.pow(2.0, -scale))
    return (base - 1.0) / (base + 1.0)


@dataclass(frozen=True)
class Summary:
    """Percentiles of a histogram (in its unit), with count, sum and the exact extremes."""

    count: int
    sum: float
    min: float
    max: float
    p50: float
    p90: float
    p95: float
    p99: float

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count, "sum": self.sum, "min": self.min, "max": self.max, "mean": self.mean,
            "p50": self.p50, "p90": self.p90, "p95": self.p95, "p99": self.p99,
        }  # fmt: skip


class ExpHistogram:
    """Counts of non-negative values in base-2 exponential buckets; mergeable, bounded memory."""

    __slots__ = ("count", "counts", "high", "low", "max", "max_size", "min", "scale", "sum", "zero_count")

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE, scale: int = MAX_SCALE) -> None:
        if max_size < 2:
            raise ValueError("max_size must be at least 2")
        self.max_size = max_size
        self.scale = scale
        self.counts: dict[int, int] = {}
        self.low = 0
        self.high = -1  # low > high: no buckets yet
        self.zero_count = 0
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    def record(self, value: float, n: int = 1) -> None:
        """Add ``value`` ``n`` times; NaN, infinities and negative values are ignored (not latencies)."""
        if not (value >= 0.0) or value == math.inf or n <= 0:
            return
        self.count += n
        self.sum += value * n
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if value == 0.0:
            self.zero_count += n
            return
        scale = self.scale
        if scale > 0 and math.frexp(value)[0] != 0.5:  # the common case of bucket_index, without the call
            index = math.ceil(math.log(value) * _FACTORS[scale]) - 1
        else:
            index = bucket_index(value, scale)
        if self.low > self.high:
            self.low = self.high = index
        elif index < self.low or index > self.high:
            low, high = min(self.low, index), max(self.high, index)
            shift = _shift_needed(low, high, self.max_size)
            if shift:
                self._downscale(shift)
                index >>= shift
            self.low, self.high = min(self.low, index), max(self.high, index)
        self.counts[index] = self.counts.get(index, 0) + n

    def record_many(self, values: list[float]) -> None:
        """Add each of ``values`` once: the histogram :meth:`record` of each in turn would give (the
        sum up to rounding), with the scale checked once for all of them. The performance worker
        records a pass' durations per operation this way. In the common case (finite, non-negative
        values, none a power of two, a positive scale) each value goes through C functions only
        (``map``, ``Counter``): a loop of Python bytecode per value cost three times as much."""
        if not values:
            return
        total = sum(values)
        if total - total == 0.0 and min(values) >= 0.0:  # finite sum: no NaN or infinity among them
            kept = values
        else:
            kept = [value for value in values if value >= 0.0 and value != math.inf]  # not NaN either
            if not kept:
                return
            total = sum(kept)
        self.count += len(kept)
        self.sum += total
        low_value, high_value = min(kept), max(kept)
        if low_value < self.min:
            self.min = low_value
        if high_value > self.max:
            self.max = high_value
        if low_value == 0.0:
            positive = [value for value in kept if value]
            self.zero_count += len(kept) - len(positive)
            if not positive:
                return
            kept = positive
        scale = self.scale
        # bucket index -> how many of the values it holds (in the order each index first appears)
        tally: Counter[int] | dict[int, int]
        if scale > 0 and 0.5 not in map(_MANTISSA, map(math.frexp, kept)):
            # ceil(log(v) * factor) is the bucket's index plus one (bucket_index's common case).
            plus_one = Counter(map(math.ceil, map(operator.mul, map(math.log, kept), repeat(_FACTORS[scale]))))
            tally = {index - 1: n for index, n in plus_one.items()}
        else:
            tally = Counter(bucket_index(value, scale) for value in kept)
        low, high = min(tally), max(tally)
        if self.low <= self.high:
            low, high = min(self.low, low), max(self.high, high)
        shift = _shift_needed(low, high, self.max_size)
        if shift:
            self._downscale(shift)
            shift = scale - self.scale  # what _downscale applied (it stops at MIN_SCALE)
            low, high = low >> shift, high >> shift
        self.low, self.high = low, high
        counts = self.counts
        get = counts.get
        for index, n in tally.items():
            index >>= shift
            counts[index] = get(index, 0) + n

    def _downscale(self, shift: int) -> None:
        shift = min(shift, self.scale - MIN_SCALE)
        merged: dict[int, int] = {}
        for index, n in self.counts.items():
            merged[index >> shift] = merged.get(index >> shift, 0) + n
        self.counts = merged
        self.scale -= shift
        self.low >>= shift
        self.high >>= shift

    def merge(self, other: ExpHistogram) -> None:
        """Add ``other``'s counts into this one (at the coarser scale of the two)."""
        if other.count == 0:
            return
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.zero_count += other.zero_count
        if not other.counts:
            return
        if other.scale < self.scale:
            self._downscale(self.scale - other.scale)
        delta = other.scale - self.scale
        o_low, o_high = other.low >> delta, other.high >> delta
        low = o_low if self.low > self.high else min(self.low, o_low)
        high = o_high if self.low > self.high else max(self.high, o_high)
        shift = _shift_needed(low, high, self.max_size)
        if shift:
            self._downscale(shift)
        total = delta + shift
        for index, n in other.counts.items():
            key = index >> total
            self.counts[key] = self.counts.get(key, 0) + n
        self.low, self.high = min(self.counts), max(self.counts)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (nearest rank: the value at rank ``ceil(q * count)``); 0.0 when empty."""
        if self.count == 0:
            return 0.0
        if q <= 0.0:
            return self.min
        if q >= 1.0:
            return self.max
        rank = max(1, math.ceil(q * self.count))
        seen = self.zero_count
        if rank <= seen:
            return 0.0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                low = lower_boundary(index, self.scale)
                high = lower_boundary(index + 1, self.scale)
                estimate = 2.0 * low * high / (low + high) if high != math.inf else 2.0 * low
                return min(max(estimate, self.min), self.max)
        return self.max

    def summary(self) -> Summary:
        if self.count == 0:
            return Summary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return Summary(
            self.count, self.sum, self.min, self.max,
            self.quantile(0.5), self.quantile(0.9), self.quantile(0.95), self.quantile(0.99),
        )  # fmt: skip

    @property
    def relative_error(self) -> float:
        return relative_error_bound(self.scale)

    def copy(self) -> ExpHistogram:
        clone = ExpHistogram(self.max_size, self.scale)
        clone.merge(self)
        return clone

    # -- serialisation (stored summaries; the OTLP field layout) ---------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The OTLP ``ExponentialHistogramDataPoint`` fields: scale, zero count, positive offset and counts."""
        offset = min(self.counts) if self.counts else 0
        width = (max(self.counts) - offset + 1) if self.counts else 0
        bucket_counts = [self.counts.get(offset + i, 0) for i in range(width)]
        return {
            "scale": self.scale, "count": self.count, "sum": self.sum, "zero_count": self.zero_count,
            "min": self.min if self.count else 0.0, "max": self.max if self.count else 0.0,
            "offset": offset, "bucket_counts": bucket_counts, "max_size": self.max_size,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpHistogram:
        """Rebuild a histogram from :meth:`to_dict` output; ``ValueError`` on malformed data."""
        try:
            scale = int(data["scale"])
            max_size = int(data.get("max_size", DEFAULT_MAX_SIZE))
            offset = int(data["offset"])
            counts = [int(n) for n in data["bucket_counts"]]
            count, zero = int(data["count"]), int(data["zero_count"])
            total, low, high = float(data["sum"]), float(data["min"]), float(data["max"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a stored latency histogram: {error}") from None
        if not MIN_SCALE <= scale <= MAX_SCALE or max_size < 2 or len(counts) > max_size or min(counts, default=0) < 0:
            raise ValueError("not a stored latency histogram: scale, size or counts out of range")
        if count != zero + sum(counts):
            raise ValueError("not a stored latency histogram: counts do not add up")
        histogram = cls(max_size, scale)
        histogram.counts = {offset + i: n for i, n in enumerate(counts) if n}
        if histogram.counts:
            histogram.low, histogram.high = min(histogram.counts), max(histogram.counts)
        histogram.zero_count, histogram.count, histogram.sum = zero, count, total
        if count:
            histogram.min, histogram.max = low, high
        return histogram


def _shift_needed(low: int, high: int, max_size: int) -> int:
    """How many halvings of resolution make ``[low, high]`` fit in ``max_size`` buckets."""
    shift = 0
    while (high >> shift) - (low >> shift) + 1 > max_size:
        shift += 1
    return shift
