"""Seeded series shaped like public, labelled real monitoring data (the ``realistic`` split).

The families copy the traits that make real series hard, not any one data set's values:

* ``cloud_cpu``: low utilisation with spiky noise, quantised readings and long flat stretches;
* ``machine_temp``: a sensor with slow drift, a daily cycle, coarse resolution;
* ``taxi``: half-hourly trip counts with two daily peaks, a weekly pattern and busier evenings;
* ``tweets``: bursty 5-minute event counts with heavy-tailed bursts and low nights;
* ``request_latency``: mean request latency with rare large outliers;
* ``network``: bytes in with multiplicative noise and short transfer bursts.

Every series is sampled every 5 minutes (taxi every 30) with jitter and gaps. Labels follow
NAB: one window per anomaly, centred on its onset, the windows together about 10% of the
series, so an early detection earns more than a late one. The first quarter of each series is
anomaly free (a real monitor also starts on an unlabelled history).
"""

from __future__ import annotations

import math
import random

from benchmarks.anomaly.generators import DAY, START, Series, _poisson

# family -> anomaly kinds that real series of that family show
FAMILY_KINDS: dict[str, tuple[str, ...]] = {
    "cloud_cpu": ("spike", "level_shift", "variance_change"),
    "machine_temp": ("dip", "trend", "stuck", "spike"),
    "taxi": ("dip", "spike", "level_shift"),
    "tweets": ("spike", "level_shift", "dip"),
    "request_latency": ("spike", "level_shift", "variance_change"),
    "network": ("spike", "dip", "level_shift"),
}
SEEDS = (0, 1, 2)


def _day_shape(t: float, peak_hour: float) -> float:
    return math.cos(2 * math.pi * ((t % DAY) / DAY - peak_hour / 24.0))


def _taxi_shape(t: float) -> float:
    """Two daily peaks (morning, evening), a night trough and quieter weekend mornings."""
    h = (t % DAY) / 3600.0
    dow = int(t // DAY + 3) % 7  # 5, 6 = Saturday, Sunday
    night = math.exp(-(((h - 4.5) / 2.5) ** 2))
    morning = math.exp(-(((h - 8.5) / 1.5) ** 2))
    evening = math.exp(-(((h - 19.0) / 2.5) ** 2))
    weekend = dow in (5, 6)
    return 1.0 - 0.75 * night + (0.1 if weekend else 0.35) * morning + (0.45 if dow in (4, 5) else 0.3) * evening


class _Real:
    """Normal behaviour of one family: ``next(t)`` gives the clean value and its noise scale."""

    def __init__(self, family: str, rng: random.Random) -> None:
        self.f = family
        self.rng = rng
        self.ar = 0.0
        self.drift = 0.0
        self.flat_left = 0
        self.flat_value = 0.0
        self.burst = 0.0
        self.daily = rng.random() < 0.6
        self.base = {
            "cloud_cpu": rng.uniform(2.0, 40.0),
            "machine_temp": rng.uniform(40.0, 90.0),
            "taxi": rng.uniform(5000.0, 25000.0),
            "tweets": rng.uniform(4.0, 80.0),
            "request_latency": rng.uniform(20.0, 300.0),
            "network": rng.uniform(1e5, 1e7),
        }[family]

    def next(self, t: float) -> tuple[float, float]:
        rng, b, f = self.rng, self.base, self.f
        if f == "cloud_cpu":
            sd = 0.06 * b + 0.3
            self.ar = 0.8 * self.ar + rng.gauss(0.0, 0.6 * sd)
            level = b * (1.0 + (0.25 * _day_shape(t, 13.0) if self.daily else 0.0))
            v = level + self.ar
            if rng.random() < 0.01:  # normal spiky noise: a cron job, a deploy, a GC
                v += b * rng.uniform(0.3, 1.5)
            if self.flat_left == 0 and rng.random() < 0.002:
                self.flat_left, self.flat_value = rng.randint(12, 96), round(v, 1)
            if self.flat_left:  # an idle instance reports the same value for hours
                self.flat_left -= 1
                return max(0.0, self.flat_value), sd
            return round(min(100.0, max(0.0, v)), 3), sd
        if f == "machine_temp":
            self.drift = 0.998 * self.drift + rng.gauss(0.0, 0.08)
            sd = 0.6
            v = b + self.drift * 4.0 + (1.5 * _day_shape(t, 15.0) if self.daily else 0.0) + rng.gauss(0.0, sd)
            return round(v, 1), sd
        if f == "taxi":
            mean = b * _taxi_shape(t)
            sd = 0.04 * mean + math.sqrt(mean)
            self.ar = 0.7 * self.ar + rng.gauss(0.0, sd)
            return max(0.0, round(mean + self.ar)), sd
        if f == "tweets":
            lam = b * (1.0 + 0.5 * _day_shape(t, 16.0))
            self.burst *= 0.6
            if rng.random() < 0.02:  # ordinary bursts: a retweet wave, heavy tailed
                self.burst += lam * min(8.0, rng.paretovariate(1.8) - 1.0)
            return float(_poisson(rng, lam + self.burst)), math.sqrt(lam) + 0.1 * lam
        if f == "request_latency":
            med = b * (1.0 + (0.1 * _day_shape(t, 14.0) if self.daily else 0.0))
            v = med * math.exp(rng.gauss(0.0, 0.15))
            if rng.random() < 0.006:  # a slow request dominates the 5-minute mean
                v *= 1.0 + min(15.0, rng.paretovariate(1.5))
            return v, 0.15 * med
        # network
        mean = b * (1.0 + 0.4 * _day_shape(t, 20.0))
        self.burst *= 0.5
        if rng.random() < 0.015:  # backups, deploys, cache fills
            self.burst += mean * rng.uniform(0.5, 3.0)
        return mean * math.exp(rng.gauss(0.0, 0.35)) + self.burst, 0.35 * mean


def _apply(rng: random.Random, kind: str, family: str, v: float, sd: float, mag: float, frac: float,
           stuck: float) -> float:
    """The value during an anomaly; ``frac`` is how far into it (0..1), ``mag`` its size in
    noise scales (signed for shifts)."""
    if kind == "stuck":
        return stuck
    if kind == "spike":  # an incident stands out from the series' ordinary outliers
        if family == "taxi":
            return v * (1.0 + 0.25 * mag)
        if family in ("tweets", "network", "request_latency"):
            return v * (1.0 + mag)
        return v + mag * sd * (4.0 if family == "cloud_cpu" else 1.0)
    if kind == "dip":
        if family == "machine_temp":
            return v - mag * sd * 2.0  # a shutdown: falls towards ambient
        return v * (0.5 if family == "taxi" else 0.08)  # a holiday, an outage, a dead link
    if kind == "level_shift":
        if family in ("cloud_cpu", "machine_temp"):
            return v + mag * sd * 0.8
        return v * math.exp(0.08 * mag)
    if kind == "variance_change":
        if family == "request_latency":
            return v * math.exp(rng.gauss(0.0, 0.15 * mag * 0.4))  # erratic: some requests stall
        return v + rng.gauss(0.0, sd * mag * 0.4)  # a thrashing instance
    # trend: an overheating ramp
    return v + abs(mag) * sd * 1.5 * frac


def make_real(family: str, kind: str, seed: int, days: float = 14.0) -> Series:
    """One series of ``family`` with 1 to 3 anomalies of ``kind`` after its first quarter."""
    rng = random.Random(f"real/{family}/{kind}/{seed}")
    step = 1800.0 if family == "taxi" else 300.0
    if family == "taxi":
        days *= 3  # half-hourly: six weeks is about as many points as two weeks at 5 minutes
    base = _Real(family, rng)
    n = int(days * DAY / step)
    count = rng.randint(1, 3)
    first = n // 4
    slot = (n - first) // count
    half = int(0.1 * n / count) // 2
    spec: list[tuple[int, int, float]] = []  # onset, duration, signed size in noise scales
    for i in range(count):
        onset = first + i * slot + rng.randrange(slot // 4, slot // 2)
        if kind == "spike":
            dur = rng.randint(1, 3) if family in ("machine_temp", "taxi") else rng.randint(2, 12)
        elif kind == "dip":
            dur = rng.randint(6, 48) if family != "taxi" else rng.randint(12, 48)
        elif kind == "level_shift":
            dur = n - onset
        elif kind == "stuck":
            dur = rng.randint(36, 200)
        elif kind == "variance_change":
            dur = rng.randint(24, 144)
        else:
            dur = rng.randint(60, 200)
        sign = 1 if rng.random() < 0.5 else -1
        if kind == "level_shift" and spec:
            sign = -1 if spec[-1][2] > 0 else 1  # shifts alternate so they never saturate
        spec.append((onset, dur, rng.uniform(5.0, 10.0) * sign))
    timestamps: list[float] = []
    values: list[float | None] = []
    t = START + rng.randrange(0, 7) * DAY
    stuck = 0.0
    for i in range(n):
        v, sd = base.next(t)
        shift_mag = sum(mag for onset, _, mag in spec if kind == "level_shift" and onset <= i)
        if shift_mag:
            v = _apply(rng, "level_shift", family, v, sd, shift_mag, 0.0, 0.0)
        for onset, dur, mag in spec:
            if kind != "level_shift" and onset <= i < onset + dur:
                if i == onset:
                    stuck = values[-1] if values and values[-1] is not None else v
                v = _apply(rng, kind, family, v, sd, abs(mag), (i - onset) / dur, stuck)
        if family in ("tweets", "taxi"):
            v = float(max(0, round(v)))
        elif family == "cloud_cpu":
            v = min(100.0, max(0.0, v))
        elif family != "machine_temp":
            v = max(0.0, v)
        timestamps.append(t)
        values.append(v)
        t += step + rng.uniform(-0.03, 0.03) * step
        if rng.random() < 0.003:
            t += step * rng.randint(2, 30)  # collection gaps
    windows = [(max(0, onset - half), min(n - 1, onset + half)) for onset, _, _ in spec]
    return Series(f"{family}-{kind}-{seed}", family, kind, timestamps, values, windows)


def realistic() -> list[Series]:
    """The ``realistic`` split: every family with each of its kinds, three seeds."""
    return [make_real(f, k, s) for f, kinds in FAMILY_KINDS.items() for k in kinds for s in SEEDS]
