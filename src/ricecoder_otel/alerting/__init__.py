"""Alert rules evaluated in-process: a pending/firing state machine per rule and series."""

from ricecoder_otel.alerting.rules import AlertEvent, RuleEngine

__all__ = ["AlertEvent", "RuleEngine"]
