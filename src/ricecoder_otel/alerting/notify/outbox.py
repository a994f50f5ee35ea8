"""Delivery from the durable outbox: retries with backoff and jitter, dead letters, never blocking.

Each message is claimed (``sending``, one more attempt, a lease) before its request goes out and
finished after: ``delivered``; ``pending`` again with the next attempt time; or ``dead`` after
the last attempt or on an answer a retry cannot fix (a 4xx other than 429). A process killed
mid-send leaves a ``sending`` row whose lease expires; it is sent again with the same message id
(``webhook-id``; the same PagerDuty dedup key), so receivers see one notification.

The delay before attempt n+1 is drawn from [d/2, d] with d = min(max_backoff, initial x 2^(n-1))
(jitter keeps replicas and channels from retrying in lockstep), and is at least the receiver's
``Retry-After``. A 429 also pauses the whole channel that long; Slack channels send at most once
per second.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from ricecoder_otel.alerting.notify.channels import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.tables import NotifyTables, OutboxRow
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY, SelfTelemetry

logger = logging.getLogger("ricecoder_otel.alerting.notify")
Outcome = Literal["delivered", "pending", "dead"]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    initial_backoff: float = 1.0
    max_backoff: float = 300.0

    def backoff(self, attempts: int, rng: random.Random) -> float:
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** max(0, attempts - 1))
        return rng.uniform(ceiling / 2, ceiling)

    def decide(self, result: DeliveryResult, attempts: int, now: float,
               rng: random.Random) -> tuple[Outcome, float | None]:  # fmt: skip
        """The row's next state after attempt number ``attempts`` and when to try again."""
        if result.ok:
            return "delivered", None
        if not result.retryable or attempts >= self.max_attempts:
            return "dead", None
        return "pending", now + max(self.backoff(attempts, rng), result.retry_after or 0.0)


Listener = Callable[[OutboxRow, DeliveryResult, Outcome], None]


class DeliveryWorker:
    """Sends due outbox messages on its own thread; :meth:`run_once` is one pass (tests call it)."""

    def __init__(
        self,
        tables: NotifyTables,
        channels: Mapping[str, Channel],
        policy: RetryPolicy,
        clock: Callable[[], float] = time.time,
        *,
        rng: random.Random | None = None,
        poll_interval: float = 0.2,
        batch: int = 20,
        listener: Listener | None = None,
        telemetry: SelfTelemetry = SELF_TELEMETRY,
    ) -> None:
        self.tables = tables
        self.channels = dict(channels)
        self.policy = policy
        self.clock = clock
        self.rng = rng or random.Random()
        self.poll_interval = poll_interval
        self.batch = batch
        self.listener = listener
        self.telemetry = telemetry
        self._paused_until: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass -----------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Send what is due now; returns how many attempts were made."""
        now = self.clock()
        paused = [name for name, until in self._paused_until.items() if until > now]
        rows = self.tables.due(now, self.batch, paused)
        attempts = 0
        seen_throttled: set[str] = set()
        for row in rows:
            channel = self.channels.get(row.channel)
            if channel is not None and channel.min_interval > 0:
                if row.channel in seen_throttled or self._paused_until.get(row.channel, 0.0) > self.clock():
                    continue
                seen_throttled.add(row.channel)
            claimed = self.tables.claim(row, self.clock(), self._lease(channel))
            if claimed is None:
                continue
            attempts += 1
            self._attempt(claimed, channel)
        return attempts

    def _lease(self, channel: Channel | None) -> float:
        return 2 * (channel.timeout if channel is not None else 10.0) + 5.0

    def _attempt(self, row: OutboxRow, channel: Channel | None) -> None:
        if channel is None:
            result = DeliveryResult(False, None, f"no channel named {row.channel!r} is configured", retryable=False)
        elif row.action not in channel.actions:
            result = DeliveryResult(True, None, f"{channel.type} channels do not act on {row.action}")
        else:
            if channel.min_interval > 0:
                self._paused_until[row.channel] = self.clock() + channel.min_interval
            try:
                result = channel.send(row.notification, row.id)
            except Exception as error:  # a channel bug must not stop the worker
                result = DeliveryResult(False, None, channel.scrub(f"{type(error).__name__}: {error}"))
        now = self.clock()
        if result.status == 429 and result.retry_after is not None:
            self._paused_until[row.channel] = max(self._paused_until.get(row.channel, 0.0), now + result.retry_after)
        outcome, next_at = self.policy.decide(result, row.attempts, now, self.rng)
        self.tables.finish(row, outcome, now, result.status, result.detail, next_at)
        if outcome == "dead":
            self.telemetry.count_drop("notifications")
            logger.warning("notification %s to channel %s is a dead letter after %d attempt(s): %s",
                           row.id, row.channel, row.attempts, result.detail)  # fmt: skip
        elif outcome == "pending":
            logger.info("notification %s to channel %s failed (attempt %d), retrying: %s",
                        row.id, row.channel, row.attempts, result.detail)  # fmt: skip
        if self.listener is not None:
            self.listener(row, result, outcome)

    # -- background thread --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ricecoder-notify-delivery", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        """A pass as soon as :meth:`wake` says messages were queued; otherwise every ``poll_interval`` (retries).

        The wake flag is cleared before the pass, so a message queued during it is sent right after.
        """
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = self.run_once() > 0
            except Exception as error:  # the store may be down: keep the worker alive and retry
                self.telemetry.count_error("notify.delivery")
                logger.warning("notification delivery pass failed: %s", error)
                busy = False
            if not busy:
                self._wake.wait(self.poll_interval)
