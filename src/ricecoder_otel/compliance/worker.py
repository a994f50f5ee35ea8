"""A periodic background worker for the compliance capabilities (retention, scheduled reports).

One daemon thread runs ``work`` after ``delay(first)`` seconds, then again after each new
delay, until stopped. The delay is asked for every time, so a configuration applied live
takes effect from the next wait. Never on a hot path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class PeriodicWorker:
    """``start``/``stop``/``after_fork`` for a capability whose work repeats on an interval."""

    def __init__(self, name: str, work: Callable[[], object], delay: Callable[[bool], float]) -> None:
        self.name = name
        self._work = work
        self._delay = delay
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        first = True
        while not self._halt.wait(self._delay(first)):
            first = False
            self._work()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def after_fork(self) -> None:
        """In a forked child (threads do not survive a fork): a fresh event, and the thread again if it ran."""
        self._halt = threading.Event()
        if self._thread is not None:
            self.start()
