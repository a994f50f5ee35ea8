"""A bounded queue drained in batches by a background thread.

The pattern every hook on the application's thread uses: ``offer`` is an O(1)
deque append that never blocks (a full queue drops the item and counts it), and
the expensive work runs in ``handle(batch)`` on a daemon thread. The thread is
started lazily and restarted in a forked child (gunicorn, Celery prefork), whose
queue starts empty.
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from ricecoder_otel.guard import report_once
from ricecoder_otel.selftelemetry import SELF_TELEMETRY

T = TypeVar("T")

_WORKERS: weakref.WeakSet[BackgroundDrain[object]] = weakref.WeakSet()


class BackgroundDrain(Generic[T]):
    def __init__(
        self,
        name: str,
        handle: Callable[[Sequence[T]], None],
        *,
        max_queue: int = 8192,
        interval_s: float = 0.2,
    ) -> None:
        self.name = name
        self._handle = handle
        self._max_queue = max_queue
        self._interval_s = interval_s
        self._reset()
        SELF_TELEMETRY.register_queue(name, lambda: len(self._queue))
        _WORKERS.add(self)  # type: ignore[arg-type]

    def _reset(self) -> None:
        self._queue: collections.deque[T] = collections.deque()
        self._wake = threading.Event()
        self._drain_lock = threading.Lock()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def offer(self, item: T) -> None:
        """Queue ``item``; O(1), never blocks, never raises."""
        if len(self._queue) >= self._max_queue:
            SELF_TELEMETRY.count_drop(self.name)
            return
        self._queue.append(item)
        if self._thread is None and not self._stopped:
            self._start()

    def _start(self) -> None:
        with self._drain_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"ricecoder-{self.name}", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._interval_s)
            self._wake.clear()
            self.drain()

    def drain(self) -> int:
        """Hand everything queued so far to ``handle``; returns how many items."""
        with self._drain_lock:
            batch: list[T] = []
            queue = self._queue
            while queue:
                batch.append(queue.popleft())
            if not batch:
                return 0
            try:
                self._handle(batch)
            except Exception as error:  # a failing handler loses this batch, never the thread
                SELF_TELEMETRY.count_error(self.name)
                SELF_TELEMETRY.count_drop(self.name, len(batch))
                report_once(self.name, "dropped a batch: %s", type(error).__name__)
            return len(batch)

    def flush(self) -> None:
        self.drain()

    def shutdown(self) -> None:
        self._stopped = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.drain()

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here and its queued items belong to the parent.
        self._reset()


def _reinit_in_child() -> None:
    for worker in list(_WORKERS):
        worker._after_fork_in_child()


os.register_at_fork(after_in_child=_reinit_in_child)
