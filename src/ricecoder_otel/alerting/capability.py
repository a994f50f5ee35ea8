"""Alerting as a capability: rules of kind ``anomaly`` evaluated on each anomaly feed.

The rule engine subscribes to :class:`~ricecoder_otel.kernel.events.AnomalyScores` on the hub
and publishes each transition as an :class:`~ricecoder_otel.kernel.events.AlertTransition`.
Switched off, scores are ignored and pending alerts are forgotten; rule changes apply live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ricecoder_otel.alerting.rules import RuleEngine
from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.events import AnomalyScores, EventHub, Subscription

if TYPE_CHECKING:
    from ricecoder_otel.config import AlertRule, MonitoringConfig


class AlertingCapability(Capability):
    name = "alerting"
    section = "alerting"

    def __init__(self) -> None:
        self.engine: RuleEngine | None = None
        self._hub: EventHub | None = None
        self._subscription: Subscription[AnomalyScores] | None = None
        self._rules: list[AlertRule] = []

    def install(self, context: InstallContext) -> None:
        self._hub = context.hub
        self._rules = list(context.config.alerting.rules)
        self.engine = RuleEngine((), clock=context.clock)

    def start(self) -> None:
        if self.engine is not None:
            self.engine.set_rules(self._rules)
        if self._hub is not None and self._subscription is None:
            self._subscription = self._hub.subscribe(AnomalyScores, self._evaluate, name="alerting.anomaly-rules")

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        if self.engine is not None:
            self.engine.set_rules([])  # pending and firing state is dropped with the rules

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        self._rules = list(new.alerting.rules)
        if self.engine is not None:
            self.engine.set_rules(self._rules)

    def _evaluate(self, event: AnomalyScores) -> None:
        if self.engine is None or self._hub is None:
            return
        for transition in self.engine.evaluate("anomaly", event.scores):
            self._hub.publish(transition)
