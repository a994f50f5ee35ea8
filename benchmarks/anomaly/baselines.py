"""Two simple baselines the default detector must beat: rolling z-score and EWMA."""

from __future__ import annotations

import math
from collections import deque


class RollingZScore:
    """|x - mean| / std over the previous `window` points; alarm above `threshold`."""

    def __init__(self, window: int = 60, threshold: float = 4.0) -> None:
        self.buf: deque[float] = deque(maxlen=window)
        self.total = self.total_sq = 0.0
        self.threshold = threshold

    def update(self, _t: float, x: float | None) -> bool:
        if x is None or not math.isfinite(x):
            return False
        buf = self.buf
        alarm = False
        if len(buf) == buf.maxlen:
            n = len(buf)
            mean = self.total / n
            var = max(self.total_sq / n - mean * mean, 1e-12)
            alarm = abs(x - mean) / math.sqrt(var) > self.threshold
            old = buf[0]
            self.total -= old
            self.total_sq -= old * old
        buf.append(x)
        self.total += x
        self.total_sq += x * x
        return alarm


class Ewma:
    """Exponentially weighted mean and variance; alarm when |x - mean| > threshold * std."""

    def __init__(self, alpha: float = 0.05, threshold: float = 4.0, warmup: int = 30) -> None:
        self.alpha, self.threshold, self.warmup = alpha, threshold, warmup
        self.mean = self.var = 0.0
        self.n = 0

    def update(self, _t: float, x: float | None) -> bool:
        if x is None or not math.isfinite(x):
            return False
        self.n += 1
        if self.n == 1:
            self.mean = x
            return False
        diff = x - self.mean
        alarm = self.n > self.warmup and abs(diff) > self.threshold * math.sqrt(max(self.var, 1e-12))
        incr = self.alpha * diff
        self.mean += incr
        self.var = (1 - self.alpha) * (self.var + diff * incr)
        return alarm
