"""A wall-clock sampling profiler of the threads serving a span, attributed to that span.

A span processor keeps, per thread, the spans open on it (:class:`ActiveSpans`: ``on_start``
pushes, ``on_end`` pops, O(1)). A daemon thread wakes ``rate`` times a second, reads
``sys._current_frames()`` and, for each thread with an open span, walks its stack once and counts
it (root to leaf, collapsed as ``file:function`` frames) in the profile of that span's trace,
also counting the sample against the innermost open span. Threads without an open span are never
walked, so an idle process costs one dictionary read per tick. Sleeping and blocked threads are
sampled too (wall clock): a request waiting on a slow call shows that call.

Bounded: at most ``max_profiles`` traces are profiled at once (the oldest is dropped and
counted), ``max_stacks`` distinct stacks per profile (others count as ``[truncated]``), stacks
cut at ``max_depth`` frames. The time the sampler spends is measured (:attr:`StackSampler.busy_s`).

Plain Python: no OpenTelemetry imports (the adapter feeds :class:`ActiveSpans`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from types import CodeType, FrameType

TRUNCATED = "[truncated]"
MAX_LABELS = 20_000


@dataclass
class Profile:
    """Stack samples of one trace: collapsed stack -> count, and samples per span id."""

    trace_id: int
    stacks: Counter[str] = field(default_factory=Counter)
    by_span: Counter[int] = field(default_factory=Counter)
    samples: int = 0

    def collapsed(self) -> str:
        """Brendan Gregg's collapsed-stack text: ``root;...;leaf count`` per line, hottest first."""
        return "".join(f"{stack} {n}\n" for stack, n in self.stacks.most_common())


class ActiveSpans:
    """Thread id -> the (trace id, span id) pairs open on it, innermost last (ids as the SDK's ints)."""

    def __init__(self) -> None:
        self._open: dict[int, list[tuple[int, int]]] = {}

    def push(self, thread_id: int, trace_id: int, span_id: int) -> None:
        stack = self._open.get(thread_id)
        if stack is None:
            self._open[thread_id] = [(trace_id, span_id)]
        else:
            stack.append((trace_id, span_id))

    def pop(self, thread_id: int, span_id: int) -> None:
        stack = self._open.get(thread_id)
        if not stack:
            return
        if stack[-1][1] == span_id:
            stack.pop()
        else:  # ended out of order (or on another thread than it started): remove it wherever it is
            self._open[thread_id] = [entry for entry in stack if entry[1] != span_id]
        if not self._open.get(thread_id):
            self._open.pop(thread_id, None)

    def innermost(self) -> list[tuple[int, int, int]]:
        """(thread id, trace id, span id) of the innermost open span of every thread with one.

        Runs on the sampler thread while request threads push and pop (no lock on their path): a
        stack emptied between the check and the read is skipped."""
        found: list[tuple[int, int, int]] = []
        for tid, stack in list(self._open.items()):
            try:
                trace_id, span_id = stack[-1]
            except IndexError:
                continue
            found.append((tid, trace_id, span_id))
        return found

    def clear(self) -> None:
        self._open.clear()


class StackSampler:
    """Samples the stacks of threads with an open span; profiles are taken with :meth:`finish`."""

    def __init__(
        self,
        spans: ActiveSpans,
        *,
        rate_hz: float = 100.0,
        max_profiles: int = 1000,
        max_stacks: int = 1000,
        max_depth: int = 128,
    ) -> None:
        self.spans = spans
        self.rate_hz = rate_hz
        self.max_profiles = max_profiles
        self.max_stacks = max_stacks
        self.max_depth = max_depth
        self._profiles: dict[int, Profile] = {}
        self._labels: dict[CodeType, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.busy_s = 0.0
        """Thread CPU seconds the sampler used (``time.thread_time``)."""
        self.ticks = 0
        self.dropped_profiles = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name="ricecoder-profiler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)
        with self._lock:
            self._profiles.clear()

    def after_fork(self) -> None:
        self._lock = threading.Lock()
        running = self._thread is not None
        self._thread = None
        self.spans.clear()
        self._profiles.clear()
        if running:
            self.start()

    def _run(self, stop: threading.Event) -> None:
        interval = 1.0 / self.rate_hz
        next_at = time.monotonic()
        while not stop.is_set():
            started = time.thread_time()
            self.sample_once()
            self.busy_s += time.thread_time() - started
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (a long GIL hold): skip the missed ticks, never burst
                next_at = time.monotonic()
                delay = 0.0
            stop.wait(delay)

    # -- sampling -------------------------------------------------------------------------------

    def sample_once(self) -> int:
        """Take one sample of every thread with an open span; returns how many threads were sampled."""
        self.ticks += 1
        active = self.spans.innermost()
        if not active:
            return 0
        frames = sys._current_frames()
        me = threading.get_ident()
        sampled = 0
        for thread_id, trace_id, span_id in active:
            frame = frames.get(thread_id)
            if frame is None or thread_id == me:
                continue
            stack = self._collapse(frame)
            with self._lock:
                profile = self._profile(trace_id)
                key = stack if stack in profile.stacks or len(profile.stacks) < self.max_stacks else TRUNCATED
                profile.stacks[key] += 1
                profile.by_span[span_id] += 1
                profile.samples += 1
            sampled += 1
        return sampled

    def _profile(self, trace_id: int) -> Profile:
        profile = self._profiles.get(trace_id)
        if profile is None:
            if len(self._profiles) >= self.max_profiles:
                del self._profiles[next(iter(self._profiles))]
                self.dropped_profiles += 1
            profile = self._profiles[trace_id] = Profile(trace_id)
        return profile

    def _collapse(self, frame: FrameType | None) -> str:
        labels: list[str] = []
        while frame is not None and len(labels) < self.max_depth:
            labels.append(self._label(frame.f_code))
            frame = frame.f_back
        labels.reverse()
        return ";".join(labels)

    def _label(self, code: CodeType) -> str:
        label = self._labels.get(code)
        if label is None:
            if len(self._labels) >= MAX_LABELS:
                self._labels.clear()
            label = self._labels[code] = frame_label(code)
        return label

    def has_profiles(self) -> bool:
        """Whether any trace has samples waiting (no lock: a stale answer only delays a check by one pass)."""
        return bool(self._profiles)

    def finish(self, trace_id: int) -> Profile | None:
        """The profile of ``trace_id`` (None without samples); it is forgotten here."""
        with self._lock:
            return self._profiles.pop(trace_id, None)

    def discard(self, trace_id: int) -> None:
        with self._lock:
            self._profiles.pop(trace_id, None)


def frame_label(code: CodeType) -> str:
    """``dir/file.py:qualname`` (the last two path parts), with no ``;`` (the collapsed separator)."""
    parts = code.co_filename.replace("\\", "/").rsplit("/", 2)
    where = "/".join(parts[-2:]) if len(parts) > 1 else parts[0]
    name = getattr(code, "co_qualname", code.co_name)
    return f"{where}:{name}".replace(";", ",").replace(os.linesep, " ")
