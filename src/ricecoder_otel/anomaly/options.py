"""Detector options: defaults chosen to work on series nobody tuned them for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ricecoder_otel.anomaly.episode import Episode


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    """Every knob of :class:`~ricecoder_otel.anomaly.detector.Detector`.

    Rates are per point. ``threshold`` is the robust z (residual over the mean absolute
    deviation) at which the score reaches 0.5; episodes open at ``open_score`` and close
    after ``cooldown`` points below ``close_score``. A new record high or low reaches the
    threshold when it leaves the range seen so far by ``record_margin`` of that range; records
    count after ``record_after`` points and ``record_days`` of range history.
    """

    threshold: float = 6.0
    open_score: float = 0.5
    close_score: float = 0.3
    cooldown: int = 12
    warmup: int = 24
    adopt_after: int = 8
    level_alpha: float = 0.03
    scale_alpha: float = 0.02
    fast_alpha: float = 0.3
    variance_alpha: float = 0.1
    variance_ratio: float = 3.0
    variance_slow_alpha: float = 0.005
    slope_alpha: float = 0.01
    trend_sigmas: float = 6.0
    cusum_k: float = 1.0
    cusum_h: float = 12.0
    tail_decay: float = 0.9995
    tail_share: float = 1.5
    rel_floor: float = 0.005
    abs_floor: float = 1e-9
    count_floor: float = 0.5
    count_max_median: float = 50.0
    gap_factor: float = 8.0
    record_margin: float = 0.02
    record_after: int = 200
    record_days: float = 3.0
    seasonal: bool = True
    transform: str | None = None
    log_spread: float = 1.5
    history: int = 8
    on_episode: Callable[[Episode], None] | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.record_margin > 0:
            problems.append("record_margin: must be > 0")
        if not self.threshold > 0:
            problems.append("threshold: must be > 0")
        if not 0 < self.close_score <= self.open_score < 1:
            problems.append("close_score/open_score: need 0 < close_score <= open_score < 1")
        rates = ("level_alpha", "scale_alpha", "fast_alpha", "variance_alpha", "variance_slow_alpha", "slope_alpha")
        for name in rates:
            value = getattr(self, name)
            if not 0 < value <= 1:
                problems.append(f"{name}: must be in (0, 1], got {value!r}")
        if not 0 < self.tail_decay < 1:
            problems.append("tail_decay: must be in (0, 1)")
        for name in ("cooldown", "warmup", "adopt_after", "history"):
            if getattr(self, name) < 1:
                problems.append(f"{name}: must be >= 1")
        if self.transform not in (None, "none", "count", "log"):
            problems.append(f"transform: expected none, count or log, got {self.transform!r}")
        if self.variance_ratio <= 1:
            problems.append("variance_ratio: must be > 1")
        if problems:
            raise ValueError("invalid detector options: " + "; ".join(problems))
