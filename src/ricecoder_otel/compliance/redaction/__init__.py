"""One redaction policy for everything that leaves the process.

The pipeline applies it to spans, metrics and log records (see ``capability``). Other code
that sends data out (an error reporter's ``before_send``, notification payloads, reports)
calls the same policy through two plain functions:

>>> from ricecoder_otel.compliance.redaction import redact_mapping, redact_value
>>> redact_value("mail ana@example.com")
'mail [REDACTED:email]'
>>> redact_mapping({"password": "hunter2", "plan": "pro"})
{'password': '[REDACTED:sensitive_key]', 'plan': 'pro'}

They use the running pipeline's live policy; with no pipeline, the built-in default policy;
with redaction switched off in the running pipeline, values pass unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ricecoder_otel.compliance.redaction.engine import DROP, Redactor, Tally, build_policy

__all__ = ["active_redactor", "redact_mapping", "redact_value"]

_UNSET: Any = object()
_active: Redactor | None = _UNSET
_default: Redactor | None = None
_lock = threading.Lock()


def set_active(redactor: Redactor | None) -> None:
    """Publish the pipeline's redactor (None: redaction is switched off)."""
    global _active
    _active = redactor


def reset_active() -> None:
    """Back to the built-in default policy (no pipeline)."""
    global _active
    _active = _UNSET


def active_redactor() -> Redactor | None:
    """The live redactor, the default one without a pipeline, or None when redaction is off."""
    global _default
    active = _active
    if active is not _UNSET:
        return active
    if _default is None:
        with _lock:
            if _default is None:
                _default = Redactor(build_policy())
    return _default


def redact_value(value: Any, *, key: str | None = None) -> Any:
    """``value`` with sensitive parts replaced; ``key`` applies the key-name and safe-key rules.

    An action that would drop the attribute or the record returns the mask marker instead (a
    single value cannot be dropped); use :func:`redact_mapping` to honour those actions.
    """
    redactor = active_redactor()
    if redactor is None:
        return value
    tally = Tally()
    new = redactor.redact_entry(key, value, tally) if key is not None else redactor.redact_whole(value, tally)
    if new is DROP or tally.drop_record:
        return redactor.marker(sorted(tally.counts)[0] if tally.counts else "value")
    return new


def redact_mapping(mapping: Mapping[str, Any]) -> dict[str, Any] | None:
    """A redacted copy of ``mapping`` (nested mappings and lists included), or None when an action
    says the whole record must be dropped (``drop_record``)."""
    redactor = active_redactor()
    if redactor is None:
        return dict(mapping)
    tally = Tally()
    redacted = redactor.redact_attributes(mapping, tally)
    if tally.drop_record:
        return None
    return dict(mapping) if redacted is None else redacted
