"""Hot reload: poll the config file and swap in a valid new configuration atomically.

Polling (size, mtime, content hash) works on every filesystem, in containers and on mounted
ConfigMaps, where change notifications are unreliable. An invalid change is rejected with one
warning naming every problem; the running configuration stays. The thread is a daemon and is
restarted in a forked child (gunicorn, Celery prefork), where threads do not survive.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ricecoder_otel.config.errors import ConfigError
from ricecoder_otel.config.loader import build_config, load_config
from ricecoder_otel.config.model import MonitoringConfig
from ricecoder_otel.config.paths import format_path
from ricecoder_otel.config.yaml_source import decode_yaml, read_yaml

_logger = logging.getLogger("ricecoder_otel.config")

OnChange = Callable[[MonitoringConfig, MonitoringConfig], None]
OnError = Callable[[ConfigError], None]
_Stat = tuple[int, int] | None

_WATCHERS: weakref.WeakSet[ConfigWatcher] = weakref.WeakSet()


class ConfigWatcher:
    """Watch ``path``; call ``on_change(old, new)`` after each valid change is swapped in.

    ``initial`` is the configuration already running (loaded from ``path`` when omitted).
    ``env`` is applied over the file on every reload (``os.environ`` when omitted).
    ``sleep`` waits between polls (default: an interruptible wait) and ``clock`` stamps
    ``last_reload``; both are injectable so tests drive :meth:`check` without sleeping.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        on_change: OnChange,
        on_error: OnError | None = None,
        *,
        interval: float = 1.0,
        initial: MonitoringConfig | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.path = Path(path)
        self.interval = interval
        self._on_change = on_change
        self._on_error = on_error
        self._env = env
        self._clock = clock
        self._sleep = sleep
        self._current = initial if initial is not None else load_config(self.path, self._env_now())
        self.last_reload: float | None = None
        self._stat: _Stat = self._stat_file()
        self._digest: str | None = self._digest_of(self._read())
        self._init_runtime()
        _WATCHERS.add(self)

    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> MonitoringConfig:
        """The configuration in force; replaced as a whole, never mutated in place."""
        return self._current

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling on a daemon thread; a no-op when already running."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ricecoder-config-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def check(self) -> bool:
        """Poll once; return True when a new configuration was swapped in."""
        with self._lock:
            stat = self._stat_file()
            if stat == self._stat and stat is not None:
                return False
            self._stat = stat
            raw = self._read()
            digest = self._digest_of(raw)
            if digest == self._digest:
                return False
            self._digest = digest
            doc = decode_yaml(raw, str(self.path)) if raw is not None else read_yaml(self.path)
            try:
                new = build_config(doc, self.path, self._env_now())
            except ConfigError as error:
                self._reject(error)
                return False
            old = self._current
            if new == old:
                return False
            self._current = new
            self.last_reload = self._clock()
        self._notify(old, new)
        return True

    def _run(self) -> None:
        wait = self._sleep or self._stop.wait
        while not self._stop.is_set():
            wait(self.interval)
            if self._stop.is_set():
                break
            try:
                self.check()
            except Exception:  # the watcher must never die or disturb the application
                _logger.exception("ricecoder-otel: config watcher poll failed")

    def _reject(self, error: ConfigError) -> None:
        _logger.warning("ricecoder-otel: config change in %s rejected, the running config stays:\n%s", self.path, error)
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception:
                _logger.exception("ricecoder-otel: config error callback failed")

    def _notify(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        try:
            self._on_change(old, new)
        except Exception:
            _logger.exception("ricecoder-otel: config change callback failed")

    def _env_now(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def _stat_file(self) -> _Stat:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except OSError:
            return None

    @staticmethod
    def _digest_of(raw: bytes | None) -> str | None:
        return None if raw is None else hashlib.sha256(raw).hexdigest()

    def _after_fork_in_child(self) -> None:
        was_running = self._thread is not None and not self._stop.is_set()
        self._init_runtime()
        if was_running:
            self.start()


def _restart_watchers_in_child() -> None:
    for watcher in list(_WATCHERS):
        watcher._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_watchers_in_child)


def diff_configs(old: MonitoringConfig, new: MonitoringConfig) -> list[str]:
    """Dotted paths whose values differ (``alerting.rules[0].threshold``), for the audit trail.

    Secrets compare by value but only their path is reported.
    """
    changes: list[str] = []
    _diff(old.model_dump(by_alias=True), new.model_dump(by_alias=True), (), changes)
    return changes


def _diff(old: Any, new: Any, loc: tuple[str | int, ...], out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in old or key not in new:
                out.append(format_path((*loc, key)))
            else:
                _diff(old[key], new[key], (*loc, key), out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, (*loc, index), out)
    elif old != new:
        out.append(format_path(loc))
