"""Shutdown within a budget: a dead OTLP endpoint must not outlast a termination grace period.

The SDK flushes each provider in turn, and each exporter retries with backoff up to its own
timeout, so three signals against a dead endpoint took 23 to 31 s. Here the independent
steps (metrics, events, spans, logs) run in parallel on daemon threads and the caller waits
at most the budget; whatever is still queued then is counted as dropped and reported once on
stderr. The abandoned threads are daemons, so they cannot hold the process open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY


@dataclass(frozen=True)
class ShutdownReport:
    """What a shutdown achieved: seconds taken, steps that did not finish, items not sent."""

    seconds: float = 0.0
    unfinished: tuple[str, ...] = ()
    not_sent: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.unfinished


def shutdown_within(
    budget_s: float,
    steps: Sequence[tuple[str, Callable[[float], object]]],
    processors: Sequence[Any] = (),
    *,
    clock: Callable[[], float] = time.monotonic,
) -> ShutdownReport:
    """Run every ``(name, step(seconds_left))`` in parallel; return after all finish or the budget ends."""
    started = clock()
    deadline = started + max(budget_s, 0.0)
    threads: list[tuple[str, threading.Thread]] = []
    for name, step in steps:
        thread = threading.Thread(
            target=_run_step, args=(name, step, budget_s), name=f"ricecoder-shutdown-{name}", daemon=True
        )
        thread.start()
        threads.append((name, thread))
    for _, thread in threads:
        thread.join(max(deadline - clock(), 0.0))
    unfinished = tuple(name for name, thread in threads if thread.is_alive())
    not_sent: dict[str, int] = {}
    if unfinished:
        for processor in processors:
            component = getattr(getattr(processor, "_drops", None), "component", type(processor).__name__)
            left = _queued(processor)
            if left:
                not_sent[component] = left
                SELF_TELEMETRY.count_drop(f"shutdown.{component}", left)
        report_once(
            "shutdown",
            "shutdown budget of %.1fs exhausted; still running: %s; not sent: %s",
            budget_s,
            ", ".join(unfinished),
            ", ".join(f"{k}={v}" for k, v in sorted(not_sent.items())) or "nothing queued",
        )
    return ShutdownReport(seconds=clock() - started, unfinished=unfinished, not_sent=not_sent)


def _run_step(name: str, step: Callable[[float], object], budget_s: float) -> None:
    try:
        step(budget_s)
    except Exception as error:  # a failing step must not stop the others
        report_once("shutdown", "shutdown of %s failed: %s", name, type(error).__name__)


def _queued(processor: Any) -> int:
    """Items queued or in flight in an export processor (0 when it cannot tell)."""
    drops = getattr(processor, "_drops", None)
    try:
        return int(drops.unfinished()) if drops is not None else 0
    except Exception:
        return 0
