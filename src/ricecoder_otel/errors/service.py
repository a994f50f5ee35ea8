"""What the error worker does with each batch: group, persist, and tell the sinks.

For a batch of raw errors: make them occurrences, learn from the store which of their groups
exist already or were resolved (by ``errors resolve`` in another process), count each in the
engine, hand every counted occurrence to the sinks (log record and metric, Sentry) and the
group events (new, regression, spike) to the hub, then write the groups' added counts, users
and a few sample events to the store in one go.

No OpenTelemetry imports: the sinks are handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ricecoder_otel.errors.engine import ErrorEngine, Occurrence, Outcome
from ricecoder_otel.errors.intake import RawError, to_occurrence
from ricecoder_otel.errors.store import ErrorStore, StoredSample
from ricecoder_otel.kernel.guard import report_once
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.store.errors import StoreError

SAMPLES_PER_BATCH = 3
"""Sample events stored per group and batch (the store keeps the latest few per group)."""


class Sink(Protocol):
    def __call__(self, outcome: Outcome) -> None: ...


class ErrorService:
    """Runs on the error worker; every sink and the store are isolated from each other's failures."""

    def __init__(
        self,
        engine: ErrorEngine,
        *,
        store: ErrorStore | None = None,
        sinks: Sequence[Sink] = (),
        on_group_event: Callable[[str, Outcome], None] | None = None,
        service_name: str | None = None,
        scrub: Callable[[Occurrence], Occurrence | None] | None = None,
    ) -> None:
        self.engine = engine
        self.scrub = scrub
        """Applied to every occurrence before it is grouped, stored or sent (the redaction policy)."""
        self.store = store
        self.sinks = list(sinks)
        self.on_group_event = on_group_event
        self.service_name = service_name

    def process(self, batch: list[RawError]) -> None:
        occurrences = [to_occurrence(raw) for raw in batch]
        if self.scrub is not None:
            occurrences = [kept for kept in map(self.scrub, occurrences) if kept is not None]
        pairs = [(occ, self.engine.classify(occ)) for occ in occurrences if not self.engine.ignored(occ)]
        self._sync_from_store({grouping.group_id for _, grouping in pairs})
        samples: list[StoredSample] = []
        per_group: dict[str, int] = {}
        regressions: list[tuple[str, int]] = []
        for occurrence, grouping in pairs:
            outcome = self.engine.record(occurrence, grouping)
            if outcome is None or outcome.duplicate:
                continue
            self._dispatch(outcome)
            if outcome.regression:
                regressions.append((outcome.group.id, int(occurrence.timestamp * 1e9)))
            if per_group.get(outcome.group.id, 0) < SAMPLES_PER_BATCH:
                per_group[outcome.group.id] = per_group.get(outcome.group.id, 0) + 1
                samples.append(StoredSample.of(outcome.group.id, occurrence))
        self._persist(samples, regressions)

    def resolve(self, group_id: str, at: float) -> bool:
        """Resolve a group here and in the store."""
        known = self.engine.resolve(group_id, at)
        if self.store is not None:
            try:
                known = self.store.resolve(group_id, int(at * 1e9)) > 0 or known
            except StoreError as error:
                self._store_failed(error)
        return known

    def _dispatch(self, outcome: Outcome) -> None:
        for sink in self.sinks:
            try:
                sink(outcome)
            except Exception as error:  # one sink's failure must not stop the others
                SELF_TELEMETRY.count_error("errors.sink")
                report_once("errors", "error sink %s failed: %s", type(sink).__name__, type(error).__name__)
        if self.on_group_event is not None:
            for kind, flag in (("new", outcome.new), ("regression", outcome.regression), ("spike", outcome.spike)):
                if flag:
                    self.on_group_event(kind, outcome)

    def _sync_from_store(self, group_ids: set[str]) -> None:
        """Adopt groups the engine has not seen (other processes, earlier runs) and resolutions."""
        if self.store is None or not group_ids:
            return
        try:
            stored = self.store.states(sorted(group_ids))
        except StoreError as error:
            self._store_failed(error)
            return
        for state in stored:
            mine = self.engine.group(state.id)
            if mine is None:
                self.engine.adopt(state)
            elif state.status == "resolved" and mine.status != "resolved":
                self.engine.resolve(state.id, state.resolved_at)

    def _persist(self, samples: list[StoredSample], regressions: list[tuple[str, int]]) -> None:
        pending = self.engine.drain_pending()
        if self.store is None or not pending:
            return
        try:
            self.store.write(pending, samples, regressions, service_name=self.service_name)
        except StoreError as error:
            self._store_failed(error)
            SELF_TELEMETRY.count_drop("errors.store", len(samples))

    @staticmethod
    def _store_failed(error: StoreError) -> None:
        SELF_TELEMETRY.count_error("errors.store")
        report_once("errors", "error groups could not be stored: %s", type(error).__name__)
