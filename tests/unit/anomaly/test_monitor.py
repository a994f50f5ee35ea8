"""The keyed monitor: bounded series, injected clock, exemplar trace ids, listeners."""

from __future__ import annotations

from dataclasses import replace

from ricecoder_otel.anomaly import AnomalyMonitor, Detector, DetectorOptions, Episode, Exemplar

from .conftest import START, gaussian


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_episodes_carry_key_and_exemplar_trace() -> None:
    clock = Clock()
    monitor = AnomalyMonitor(clock=clock)
    seen: list[Episode] = []
    monitor.add_listener(seen.append)
    values = gaussian(400)
    values[300] = 250.0
    for i, v in enumerate(values):
        clock.now = START + i * 60
        monitor.observe("latency:GET /orders", v, exemplar=Exemplar(f"{i:032x}"))
    reports = monitor.drain_episodes()
    assert [ep.is_open for ep in reports] == [True, False]
    assert seen == reports
    assert all(ep.key == "latency:GET /orders" for ep in reports)
    assert reports[0].trace_id == f"{300:032x}"  # the point that opened it
    assert reports[1].trace_id == f"{300:032x}"  # the peak, not the last point
    assert monitor.drain_episodes() == []


def test_series_are_independent() -> None:
    monitor = AnomalyMonitor(clock=Clock())
    a, b = gaussian(300, seed=1), gaussian(300, mean=5000.0, sd=100.0, seed=2)
    for i in range(300):
        monitor.observe("a", a[i], timestamp=START + i * 60)
        monitor.observe("b", b[i], timestamp=START + i * 60)
    assert monitor.drain_episodes() == []
    assert monitor.observe("a", 5000.0, timestamp=START + 300 * 60) > 0.5
    assert monitor.observe("b", 5000.0, timestamp=START + 300 * 60) < 0.5
    scores = monitor.scores()
    assert set(scores) == {"a", "b"} and scores["a"] > 0.5
    expected = monitor.expected("b")
    assert expected is not None and expected[1] < 5000.0 < expected[2]
    assert monitor.expected("missing") is None


def test_series_bound_refuses_new_keys_while_old_ones_are_live() -> None:
    clock = Clock()
    monitor = AnomalyMonitor(max_series=2, idle_seconds=600.0, clock=clock)
    monitor.observe("a", 1.0)
    monitor.observe("b", 1.0)
    assert monitor.observe("c", 1.0) == 0.0
    assert "c" not in monitor and len(monitor) == 2
    assert monitor.series_rejected == 1
    clock.now += 601.0
    monitor.observe("b", 2.0)  # b is live again, a is idle
    monitor.observe("c", 1.0)
    assert "c" in monitor and "a" not in monitor and "b" in monitor
    assert monitor.series_evicted == 1


def test_per_key_options_and_failing_listener() -> None:
    monitor = AnomalyMonitor(overrides={"strict": DetectorOptions(threshold=3.0)}, clock=Clock())

    def broken(_ep: Episode) -> None:
        raise RuntimeError("consumer bug")

    monitor.add_listener(broken)
    values = gaussian(300)
    values[250] = 140.0  # about 8 robust z: only the strict series should fire
    for i, v in enumerate(values):
        monitor.observe("strict", v, timestamp=START + i * 60)
        monitor.observe("default", v, timestamp=START + i * 60)
    keys = {ep.key for ep in monitor.drain_episodes()}
    assert "strict" in keys
    assert monitor.listener_errors >= 1


def test_pending_reports_are_bounded() -> None:
    monitor = AnomalyMonitor(history=3, clock=Clock())
    values = gaussian(3000)
    for i in range(500, 3000, 300):
        values[i] = 1000.0 + i
    for i, v in enumerate(values):
        monitor.observe("x", v, timestamp=START + i * 60)
    assert len(monitor.drain_episodes()) == 3
    assert monitor.episodes_dropped > 0


def test_an_override_applies_to_its_own_series_only() -> None:
    strict = DetectorOptions(threshold=3.0, warmup=30)
    monitor = AnomalyMonitor(overrides={"strict": strict}, clock=Clock())
    values = gaussian(300)
    values[250] = 140.0
    scores: dict[str, list[float]] = {"strict": [], "default": []}
    for i, v in enumerate(values):
        for key, series in scores.items():
            series.append(monitor.observe(key, v, timestamp=START + i * 60))
    reports = monitor.drain_episodes()
    # Each series scores exactly as a lone detector with its own options would.
    for key, options in (("strict", strict), ("default", DetectorOptions())):
        alone = Detector(options)
        assert scores[key] == [alone.update(START + i * 60, v) for i, v in enumerate(values)]
        assert [replace(ep, key="", trace_id=None) for ep in reports if ep.key == key] == alone.drain_episodes()
    # The strict threshold catches noise the defaults ignore; the warm-up length is per series too.
    onsets = {key: {ep.onset for ep in reports if ep.key == key} for key in scores}
    strict_spans = [(ep.onset, ep.end) for ep in reports if ep.key == "strict" and ep.end is not None]
    assert len(onsets["strict"]) > len(onsets["default"])
    assert all(any(a <= t <= b for a, b in strict_spans) for t in onsets["default"])  # strict saw them too
    assert scores["strict"][24:29] == [0.0] * 5 and all(s > 0.0 for s in scores["default"][24:29])
