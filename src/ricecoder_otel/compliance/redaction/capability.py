"""Redaction as a capability: one policy on every signal, swapped live on a config change.

It joins the pipeline through the kernel's export transforms: spans, log records and metric
collections, on every exporter (the embedded store's included; hub events become log records,
so they pass it too). It is on when ``compliance.enabled`` and ``compliance.redaction.enabled``
are both true; switched off, the transforms pass everything through untouched.

The compiled policy is also published process-wide (:func:`set_active`) for the plain
functions :func:`~ricecoder_otel.compliance.redaction.redact_value` and ``redact_mapping``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ricecoder_otel.compliance.redaction import reset_active, set_active
from ricecoder_otel.compliance.redaction.engine import Callback, Policy, Redactor, Tally, build_policy
from ricecoder_otel.compliance.redaction.otel import LogRedactor, MetricsRedactor, SpanRedactor
from ricecoder_otel.kernel import names
from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.guard import report_once

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter

    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import RedactionConfig


def load_callback(path: str | None) -> Callback | None:
    """Import ``module:function``; a clear error names the path when it cannot be found."""
    if not path:
        return None
    module_name, _, attribute = path.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"compliance.redaction.callback: cannot load {path!r}: {error}") from None
    if not callable(function):
        raise ValueError(f"compliance.redaction.callback: {path!r} is not callable")
    result: Callback = function
    return result


def policy_from_config(config: RedactionConfig) -> Policy:
    """Compile the configured policy (the config model has already validated every pattern)."""
    hash_key = config.hash_key.get_secret_value().encode() if config.hash_key is not None else None
    return build_policy(
        builtin=config.builtin,
        patterns=config.patterns,
        actions=config.actions,
        default_action=config.default_action,
        sensitive_keys=config.sensitive_keys,
        safe_keys=config.safe_keys,
        hash_key=hash_key,
        callback=load_callback(config.callback),
        max_scan_chars=config.max_scan_chars,
        scan_json=config.scan_json,
    )


class RedactionCapability(Capability):
    name = "redaction"
    section = "compliance"

    def __init__(self) -> None:
        self.redactor: Redactor | None = None
        self.on = True
        self._counter: Counter | None = None

    def enabled_in(self, config: MonitoringConfig) -> bool:
        """On when compliance and its redaction are on. The pipeline asks with every new config
        before it starts or stops us, so the answer is also remembered: only a config that switches
        redaction off lets values through; a plain ``stop()`` (shutdown) keeps the policy in force,
        so the last exports at shutdown are redacted too (fail closed)."""
        wanted = super().enabled_in(config) and config.compliance.redaction.enabled
        self.on = wanted
        return wanted

    def install(self, context: InstallContext) -> None:
        self._use(context.config)
        meter = context.meter_provider.get_meter("ricecoder_otel.redaction")
        self._counter = meter.create_counter(
            names.REDACTED_VALUES, **names.unit_and_description(names.REDACTED_VALUES),
        )
        context.span_transforms.append(SpanRedactor(self._live, self._record))
        context.metric_transforms.append(MetricsRedactor(self._live, self._record))
        context.log_transforms.append(LogRedactor(self._live, self._record))
        context.payload_filters.append(self._filter_payload)

    def _filter_payload(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """The policy over a payload another capability sends out (Sentry events, notifications)."""
        redactor = self._live()
        if redactor is None:
            return dict(payload)
        tally = Tally()
        redacted = redactor.redact_attributes(payload, tally)
        self._record(tally, "payload")
        if tally.drop_record:
            return None
        return dict(payload) if redacted is None else redacted

    def _live(self) -> Redactor | None:
        return self.redactor if self.on else None

    def _record(self, tally: Tally, signal: str) -> None:
        counter = self._counter
        if counter is None:
            return
        for detector, count in tally.counts.items():
            counter.add(count, {"detector": detector, "signal": signal})

    def _use(self, config: MonitoringConfig) -> None:
        """Compile and swap in the policy of ``config``; on failure the running policy stays."""
        try:
            policy = policy_from_config(config.compliance.redaction)
        except ValueError as error:
            report_once("redaction", "redaction policy not changed: %s", str(error))
            if self.redactor is None:  # nothing runs yet: fall back to the built-in policy, never to none
                self.redactor = Redactor(build_policy())
            return
        if "hash" in (*policy.actions.values(), policy.default_action) and not policy.hash_key_configured:
            report_once("redaction", "the hash action has no compliance.redaction.hash_key: hashes join only "
                        "within this process, not across restarts or replicas")
        self.redactor = Redactor(policy)
        if self.on:
            set_active(self.redactor)

    def start(self) -> None:
        self.on = True
        set_active(self.redactor)

    def stop(self) -> None:
        if not self.on:  # switched off by the config (see enabled_in); at shutdown the policy stays
            set_active(None)

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        if old.compliance.redaction != new.compliance.redaction or self.redactor is None:
            self._use(new)

    def shutdown(self) -> None:
        reset_active()

