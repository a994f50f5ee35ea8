"""Inhibition: a firing source alert mutes target alerts that share its ``equal`` labels.

Alertmanager semantics: a missing label counts as the empty string in ``equal``, and an alert
that matches both the source and the target side of a rule cannot inhibit itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ricecoder_otel.alerting.notify.alert import Alert
from ricecoder_otel.alerting.notify.matchers import Matcher, all_match, parse_matchers
from ricecoder_otel.config.model import InhibitRule


@dataclass(frozen=True)
class _Rule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


class Inhibitor:
    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self._rules = [
            _Rule(parse_matchers(r.source_matchers), parse_matchers(r.target_matchers), tuple(r.equal)) for r in rules
        ]

    def inhibited(self, alert: Alert, firing: Iterable[Alert]) -> bool:
        """True when some other firing alert inhibits ``alert``."""
        candidates = [a for a in firing if a.status == "firing"]
        for rule in self._rules:
            if not all_match(rule.target, alert.labels):
                continue
            for source in candidates:
                if source.fingerprint == alert.fingerprint:
                    continue
                if all_match(rule.source, source.labels) and all(
                    source.labels.get(n, "") == alert.labels.get(n, "") for n in rule.equal
                ):
                    return True
        return False
