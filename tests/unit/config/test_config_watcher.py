"""Hot reload: valid changes swap in atomically, invalid ones are rejected and the old config runs."""

from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path

import pytest

from ricecoder_otel.config import ConfigError, MonitoringConfig, load_config
from ricecoder_otel.config.watcher import ConfigWatcher, diff_configs


class Recorder:
    def __init__(self) -> None:
        self.changes: list[tuple[MonitoringConfig, MonitoringConfig]] = []
        self.errors: list[ConfigError] = []

    def on_change(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        self.changes.append((old, new))

    def on_error(self, error: ConfigError) -> None:
        self.errors.append(error)


_tick = [1_700_000_000_000_000_000]


def rewrite(path: Path, text: str) -> None:
    """Replace the file the way editors and ConfigMaps do, with a distinct mtime."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    _tick[0] += 1_000_000_000
    os.utime(tmp, ns=(_tick[0], _tick[0]))
    os.replace(tmp, path)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "ricecoder.yaml"
    rewrite(path, "metrics:\n  cardinality_limit: 100\n")
    return path


def make(path: Path, rec: Recorder, **kwargs: object) -> ConfigWatcher:
    return ConfigWatcher(path, rec.on_change, rec.on_error, env=kwargs.pop("env", {}), **kwargs)  # type: ignore[arg-type]


def test_valid_change_is_swapped_in_and_reported(config_file: Path) -> None:
    rec = Recorder()
    watcher = make(config_file, rec, clock=lambda: 1234.5)
    assert watcher.current.metrics.cardinality_limit == 100
    assert watcher.check() is False  # nothing changed yet

    rewrite(config_file, "metrics:\n  cardinality_limit: 50\nanalytics:\n  enabled: false\n")
    assert watcher.check() is True
    ((old, new),) = rec.changes
    assert old.metrics.cardinality_limit == 100
    assert new is watcher.current and new.metrics.cardinality_limit == 50
    assert diff_configs(old, new) == ["metrics.cardinality_limit", "analytics.enabled"]
    assert watcher.last_reload == 1234.5
    assert rec.errors == []


def test_invalid_change_keeps_the_running_config(config_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder()
    watcher = make(config_file, rec)
    running = watcher.current
    caplog.set_level(logging.WARNING, logger="ricecoder_otel.config")

    rewrite(config_file, "metrics:\n  cardinality_limit: -1\n  export_interval: soon\n")
    assert watcher.check() is False
    assert watcher.current is running
    assert rec.changes == []
    (error,) = rec.errors
    assert [p.path for p in error.problems] == ["metrics.cardinality_limit", "metrics.export_interval"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "metrics.cardinality_limit: expected a number greater than 0" in warnings[0].getMessage()
    assert "metrics.export_interval: expected a duration like 5m" in warnings[0].getMessage()

    assert watcher.check() is False  # the same broken file is not reported again
    assert len(rec.errors) == 1 and len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1

    rewrite(config_file, "metrics:\n  cardinality_limit: 10\n")
    assert watcher.check() is True
    assert watcher.current.metrics.cardinality_limit == 10


def test_malformed_yaml_and_deleted_file_are_rejected(config_file: Path) -> None:
    rec = Recorder()
    watcher = make(config_file, rec)
    rewrite(config_file, "metrics: [\n")
    assert watcher.check() is False
    config_file.unlink()
    assert watcher.check() is False
    assert watcher.check() is False
    assert [e.problems[0].kind for e in rec.errors] == ["syntax", "unreadable"]
    assert watcher.current.metrics.cardinality_limit == 100
    rewrite(config_file, "metrics:\n  cardinality_limit: 100\n")
    assert watcher.check() is False  # back to the running config: nothing to apply
    assert rec.changes == []


def test_touch_and_comment_only_edits_do_not_notify(config_file: Path) -> None:
    rec = Recorder()
    watcher = make(config_file, rec)
    rewrite(config_file, config_file.read_text())
    assert watcher.check() is False
    rewrite(config_file, "# tuned for production\nmetrics:\n  cardinality_limit: 100\n")
    assert watcher.check() is False
    assert rec.changes == [] and rec.errors == []


def test_variables_still_override_the_reloaded_file(config_file: Path) -> None:
    rec = Recorder()
    watcher = make(config_file, rec, env={"RICECODER_PERFORMANCE__CPU_THRESHOLD_PERCENT": "70"})
    rewrite(config_file, "metrics:\n  cardinality_limit: 5\nperformance:\n  cpu_threshold_percent: 99\n")
    assert watcher.check() is True
    assert watcher.current.metrics.cardinality_limit == 5
    assert watcher.current.performance.cpu_threshold_percent == 70


def test_callback_failures_never_escape(config_file: Path) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("listener bug")

    watcher = ConfigWatcher(config_file, boom, boom, env={})
    rewrite(config_file, "metrics: {cardinality_limit: 7}\n")
    assert watcher.check() is True
    assert watcher.current.metrics.cardinality_limit == 7
    rewrite(config_file, "metrics: {cardinality_limit: x}\n")
    assert watcher.check() is False


def test_initial_config_is_used_as_given(config_file: Path) -> None:
    initial = MonitoringConfig()
    watcher = make(config_file, Recorder(), initial=initial)
    assert watcher.current is initial


def test_readers_always_see_a_whole_config(config_file: Path) -> None:
    """Values that change together are never observed half-applied."""
    watcher = make(config_file, Recorder())
    texts = [f"metrics: {{cardinality_limit: {n}}}\nperformance: {{cpu_threshold_percent: {n}}}\n" for n in (11, 22)]
    rewrite(config_file, texts[0])
    watcher.check()
    torn: list[tuple[int, float]] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            current = watcher.current
            if current.metrics.cardinality_limit != current.performance.cpu_threshold_percent:
                torn.append((current.metrics.cardinality_limit, current.performance.cpu_threshold_percent))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for i in range(1, 101):
        rewrite(config_file, texts[i % 2])
        assert watcher.check() is True
    done.set()
    for thread in threads:
        thread.join()
    assert torn == []


def test_background_thread_polls_with_injected_sleep(config_file: Path) -> None:
    ticks: queue.Queue[None] = queue.Queue()
    applied: queue.Queue[MonitoringConfig] = queue.Queue()

    def sleep(_: float) -> None:
        ticks.get(timeout=30)

    watcher = ConfigWatcher(config_file, lambda old, new: applied.put(new), env={}, sleep=sleep, interval=0.5)
    watcher.start()
    try:
        assert watcher.running
        rewrite(config_file, "metrics:\n  cardinality_limit: 42\n")
        ticks.put(None)
        assert applied.get(timeout=30).metrics.cardinality_limit == 42
    finally:
        watcher.stop(timeout=0)
        ticks.put(None)
    assert not watcher.running


def test_default_sleep_stops_promptly(config_file: Path) -> None:
    watcher = make(config_file, Recorder(), interval=3600)
    watcher.start()
    watcher.stop(timeout=30)
    assert not watcher.running


def test_polling_restarts_in_a_forked_child(config_file: Path) -> None:
    watcher = make(config_file, Recorder(), interval=0.05)
    watcher.start()
    try:
        pid = os.fork()
        if pid == 0:  # child: the parent's thread is gone, a new one must poll
            code = 1
            try:
                rewrite(config_file, "metrics:\n  cardinality_limit: 77\n")
                seen = threading.Event()
                watcher._on_change = lambda old, new: seen.set()
                code = 0 if watcher.running and seen.wait(30) else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        watcher.stop()


def test_construction_fails_on_an_invalid_file_without_initial(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("metrics: {enabled: maybe}\n")
    with pytest.raises(ConfigError):
        make(path, Recorder())
    with pytest.raises(ValueError, match="interval must be positive"):
        make(path, Recorder(), initial=MonitoringConfig(), interval=0)


def test_diff_configs_reports_dotted_paths(tmp_path: Path) -> None:
    rule = "{name: slow, metric: latency, threshold: 1, for: 1m}"
    base = tmp_path / "a.yaml"
    base.write_text(f"alerting: {{rules: [{rule}]}}\nerror_tracking: {{sentry_dsn: 'https://a@s/1'}}\n")
    changed = tmp_path / "b.yaml"
    changed.write_text(
        "alerting: {rules: [{name: slow, metric: latency, threshold: 2, for: 1m}]}\n"
        "error_tracking: {sentry_dsn: 'https://b@s/1'}\n"
        "compliance: {redaction: {patterns: {ticket: 'TCK-[0-9]+'}}}\n"
    )
    old = load_config(base, env={})
    new = load_config(changed, env={})
    assert diff_configs(old, new) == [
        "alerting.rules[0].threshold",
        "error_tracking.dsn",
        "error_tracking.sentry_dsn",
        "compliance.redaction.patterns.ticket",
    ]
    two_rules = tmp_path / "c.yaml"
    two_rules.write_text(f"alerting: {{rules: [{rule}, {{name: b, metric: m, threshold: 1}}]}}\n")
    assert diff_configs(old, load_config(two_rules, env={})) == [
        "alerting.rules", "error_tracking.dsn", "error_tracking.sentry_dsn"  # the DSN is gone from this file
    ]
    assert diff_configs(old, old) == []
