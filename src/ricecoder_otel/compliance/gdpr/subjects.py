"""The spellings under which a data subject's id can sit in the store.

An id is stored raw (span attributes, error samples, incident actors), JSON-escaped (SQLite
keeps JSON with ``\\uXXXX`` escapes), as the analytics pseudonym (a keyed HMAC of the id) or as
the redaction policy's keyed hash. Erasure and access look for every form the live
configuration can produce. Only ``subject_ref`` (a plain SHA-256 under a fixed prefix) is ever
recorded about a request, so the request log and the audit trail never hold the id itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ricecoder_otel.compliance.audit.subject_keys import subject_ref

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig

MIN_SUBJECT_CHARS = 4
"""Shorter ids would match unrelated rows by substring ("42" is in every timestamp)."""

ANALYTICS_PSEUDONYM_CHARS = 32
"""Hex characters of the analytics pseudonym (HMAC-SHA-256 of ``user\\0<id>``), as analytics keeps them."""


class SubjectError(ValueError):
    """The subject id cannot be matched safely."""


@dataclass(frozen=True)
class Subject:
    """A data subject: the id given, every stored form of it, and the reference requests keep."""

    forms: tuple[str, ...]
    ref: str


def analytics_pseudonym(subject_id: str, key: str) -> str:
    return hmac.new(key.encode(), f"user\x00{subject_id}".encode(), hashlib.sha256).hexdigest()[
        :ANALYTICS_PSEUDONYM_CHARS
    ]


def redaction_hash(subject_id: str, key: bytes) -> str:
    return hmac.new(key, subject_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def subject(subject_id: str, config: MonitoringConfig | None = None, extra_forms: tuple[str, ...] = ()) -> Subject:
    """The subject ``subject_id`` under ``config`` (its pseudonym keys), plus ``extra_forms`` given by the caller."""
    text = subject_id.strip()
    if len(text) < MIN_SUBJECT_CHARS:
        raise SubjectError(
            f"subject id {len(text)} characters long: at least {MIN_SUBJECT_CHARS} are needed to match it safely"
        )
    forms = [text, json.dumps(text)[1:-1]]
    if config is not None:
        analytics_key = config.analytics.pseudonym_key
        if analytics_key is not None:
            forms.append(analytics_pseudonym(text, analytics_key.get_secret_value()))
        hash_key = config.compliance.redaction.hash_key
        if hash_key is not None:
            forms.append(redaction_hash(text, hash_key.get_secret_value().encode()))
    for form in extra_forms:
        if len(form) < MIN_SUBJECT_CHARS:
            raise SubjectError(f"pseudonym {form!r} is too short to match safely")
        forms.append(form)
    return Subject(tuple(dict.fromkeys(forms)), subject_ref(text))
