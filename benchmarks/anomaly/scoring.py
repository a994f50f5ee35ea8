"""NAB-style scoring: reward early detection in a window, penalise each false alarm.

Standard NAB profile weights: a true positive earns up to 1 (scaled sigmoid of its position
in the window, so earlier is better), every detection outside all windows costs 0.11, and a
missed window costs 1. Only the first detection in a window counts; later ones are ignored.
The normalised score is 100 for a perfect detector and 0 for one that never fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

A_TP, A_FP, A_FN = 1.0, -0.11, -1.0


def _sigmoid(relative: float) -> float:
    """NAB scaled sigmoid: relative -1 = window start, 0 = window end."""
    return 2.0 / (1.0 + math.exp(5.0 * relative)) - 1.0


@dataclass
class Tally:
    windows: int = 0
    detected: int = 0
    false_alarms: int = 0
    raw: float = 0.0
    delays: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.windows += other.windows
        self.detected += other.detected
        self.false_alarms += other.false_alarms
        self.raw += other.raw
        self.delays.extend(other.delays)
        self.seconds += other.seconds

    def summary(self) -> dict[str, float | int | None]:
        tp, fp = self.detected, self.false_alarms
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / self.windows if self.windows else None
        delays = sorted(self.delays)
        null, perfect = A_FN * self.windows, A_TP * _sigmoid(-1.0) * self.windows
        nab = 100.0 * (self.raw - null) / (perfect - null) if self.windows else None
        days = self.seconds / 86400.0
        return {
            "windows": self.windows,
            "detected": tp,
            "false_alarms": fp,
            "precision": None if precision is None else round(precision, 3),
            "recall": None if recall is None else round(recall, 3),
            "f1": (None if not precision or not recall
                   else round(2 * precision * recall / (precision + recall), 3)),
            "median_delay_points": delays[len(delays) // 2] if delays else None,
            "mean_delay_points": round(sum(delays) / len(delays), 1) if delays else None,
            "false_alarms_per_day": round(fp / days, 3) if days else None,
            "nab_score": None if nab is None else round(nab, 1),
        }


def score(detections: list[int], windows: list[tuple[int, int]], seconds: float) -> Tally:
    """Score detection indices (sorted) against inclusive label windows."""
    tally = Tally(windows=len(windows), seconds=seconds)
    first: dict[int, int] = {}
    for idx in detections:
        hit = next((w for w, (a, b) in enumerate(windows) if a <= idx <= b), None)
        if hit is None:
            tally.false_alarms += 1
            tally.raw += A_FP
        elif hit not in first:
            first[hit] = idx
    for w, (a, b) in enumerate(windows):
        if w in first:
            idx = first[w]
            length = max(b - a, 1)
            relative = -1.0 + (idx - a) / length
            tally.raw += A_TP * _sigmoid(relative)
            tally.detected += 1
            tally.delays.append(idx - a)
        else:
            tally.raw += A_FN
    return tally
