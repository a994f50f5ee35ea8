"""Operations audited automatically: which spans are PHI or admin access, and a writer off the hot path.

``compliance.audit.operations`` tags glob patterns over server routes and span names ``phi`` or
``admin``. :class:`OperationMatcher` compiles them once and caches its decision per route string
and per span name in a bounded dict, so a span that matches nothing costs one dict lookup.

An append is durable before it returns (``fdatasync``), which an application thread must not
wait for: :class:`AuditWriter` takes entries into a bounded queue (O(1), never blocks; a full
queue drops the entry and counts it in ``ricecoder.self.dropped``, component ``audit``) and one
background thread appends what has queued up in one group commit. No OpenTelemetry imports.
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from ricecoder_otel.compliance.audit.api import AuditTrail, Entry
from ricecoder_otel.compliance.audit.engine import AuditError
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

if TYPE_CHECKING:
    from ricecoder_otel.config.model import AuditedOperations

CACHE_LIMIT = 4096
"""Decisions kept per kind (routes, span names); the cache is emptied when full."""
BATCH = 512
"""Most entries appended in one group commit."""


class Operation(NamedTuple):
    """What a span matched: its tag (``phi``, ``admin``), the kind of match and the pattern."""

    tag: str
    match: str
    pattern: str

    @property
    def action(self) -> str:
        return f"access.{self.tag}"


_Patterns = tuple[tuple[re.Pattern[str], Operation], ...]
_MISS = Operation("", "", "")


class OperationMatcher:
    """The configured patterns, compiled; decisions cached per string (thread-safe under the GIL)."""

    def __init__(self, operations: Sequence[AuditedOperations]) -> None:
        self.routes: _Patterns = tuple(
            (re.compile(fnmatch.translate(glob)), Operation(op.tag, "route", glob))
            for op in operations
            for glob in op.routes
        )
        self.names: _Patterns = tuple(
            (re.compile(fnmatch.translate(glob)), Operation(op.tag, "span_name", glob))
            for op in operations
            for glob in op.span_names
        )
        self._route_cache: dict[str, Operation | None] = {}
        self._name_cache: dict[str, Operation | None] = {}

    def __bool__(self) -> bool:
        return bool(self.routes or self.names)

    def route(self, route: str) -> Operation | None:
        found = self._route_cache.get(route, _MISS)
        return _decide(self._route_cache, self.routes, route) if found is _MISS else found

    def name(self, name: str) -> Operation | None:
        found = self._name_cache.get(name, _MISS)
        return _decide(self._name_cache, self.names, name) if found is _MISS else found


def _decide(cache: dict[str, Operation | None], patterns: _Patterns, text: str) -> Operation | None:
    found = next((operation for pattern, operation in patterns if pattern.match(text)), None)
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[text] = found
    return found


class AuditWriter:
    """A bounded queue of audit entries, appended by one background thread in group commits."""

    def __init__(self, trail: Callable[[], AuditTrail | None], capacity: int) -> None:
        self._trail = trail
        self.capacity = capacity
        self._queue: deque[Entry] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._writing = False
        self._halt = False
        self._thread: threading.Thread | None = None

    def offer(self, entry: Entry) -> bool:
        """Queue ``entry``; O(1), never blocks. False (and counted) when the queue is full."""
        with self._lock:
            if len(self._queue) >= self.capacity:
                SELF_TELEMETRY.count_drop("audit")
                return False
            self._queue.append(entry)
            if len(self._queue) == 1:
                self._wake.notify()
        return True

    def pending(self) -> int:
        """Entries waiting (those being appended not counted): ``ricecoder.self.queue.depth`` of ``audit``."""
        return len(self._queue)

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        with self._lock:
            if self._thread is not None:
                return
            self._halt = False
            self._thread = threading.Thread(target=self._run, name="ricecoder-audit-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Append what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._halt = True
            self._wake.notify()
        if thread is not None:
            thread.join()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is appended; True when that happened within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._writing:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._thread is None:
                    return False
                self._idle.wait(remaining)
        return True

    def after_fork(self) -> None:
        """In a forked child: fresh locks, an empty queue (the parent appends its own), a new thread."""
        running = self._thread is not None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._queue.clear()
        self._writing, self._thread = False, None
        if running:
            self.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._halt:
                    self._wake.wait()
                if not self._queue:
                    self._idle.notify_all()
                    return
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                self._writing = True
            try:
                self._append(batch)
            finally:
                with self._lock:
                    self._writing = False
                    if not self._queue:
                        self._idle.notify_all()

    def _append(self, batch: list[Entry]) -> None:
        trail = self._trail()
        if trail is None:
            SELF_TELEMETRY.count_drop("audit", len(batch))
            return
        try:
            trail.record_many(batch)
        except (AuditError, ValueError, OSError) as error:
            SELF_TELEMETRY.count_drop("audit", len(batch))
            report_once("audit", "%d audited operations not written: %s", len(batch), error)
        except Exception as error:  # the writer thread must survive anything
            SELF_TELEMETRY.count_error("audit.writer")
            SELF_TELEMETRY.count_drop("audit", len(batch))
            report_once("audit.writer", "audit writer error %s", type(error).__name__)
