"""Pseudonyms, consent and the property allow-list: what may leave the caller's hands.

A user id becomes a keyed HMAC-SHA-256 pseudonym before the engine keeps it, so neither the
store, the exported log records nor the reports ever hold the raw id. The same key gives the
same pseudonym in every replica (reports join across them); a new key gives unrelated
pseudonyms (rotation, or erasure by destroying the key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

PSEUDONYM_CHARS = 32
"""Hex characters kept of the HMAC (128 bits): collisions are negligible at any user count."""

MAX_ID_CHARS = 256
"""Longest user, account or session id accepted; longer ids are dropped and counted."""

MAX_VALUE_CHARS = 1024
"""Longest property or trait string kept; longer values are cut."""

ANALYTICS_PURPOSE = "analytics"

PropertyValue = str | bool | int | float


class Pseudonymiser:
    """Keyed hashing of identifiers; ``kind`` separates users, accounts and sessions."""

    def __init__(self, key: str | None) -> None:
        self.ephemeral = key is None
        self._key = (key if key is not None else secrets.token_hex(32)).encode()

    def __call__(self, value: str, kind: str = "user") -> str:
        digest = hmac.new(self._key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return digest[:PSEUDONYM_CHARS]


def valid_id(value: object) -> str | None:
    """The id as text, or None when it is missing, empty, too long or not a string/integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if not text or len(text) > MAX_ID_CHARS:
        return None
    return text


def has_consent(baggage_value: str | None) -> bool:
    """True when a comma-separated purpose list (``analytics,ads``) includes ``analytics``."""
    if not baggage_value:
        return False
    return any(part.strip().lower() == ANALYTICS_PURPOSE for part in baggage_value.split(","))


def allowed(values: Mapping[str, Any] | None, names: Iterable[str]) -> tuple[dict[str, PropertyValue], int]:
    """The allow-listed entries as flat values; returns them and how many were dropped.

    A value that is not a finite primitive becomes compact JSON when it serialises, else it
    is dropped (counted). Strings are cut at :data:`MAX_VALUE_CHARS`.
    """
    if not values:
        return {}, 0
    wanted = set(names)
    kept: dict[str, PropertyValue] = {}
    dropped = 0
    for key, value in values.items():
        if key not in wanted:
            dropped += 1
            continue
        flat = _flat(value)
        if flat is None:
            dropped += 1
        else:
            kept[key] = flat
    return kept, dropped


def _flat(value: Any) -> PropertyValue | None:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return text[:MAX_VALUE_CHARS]
