"""The compliance redaction policy over what analytics keeps: action names, account ids, traits.

Log records pass the policy on their way to the exporters, but the engine's rows go to the
store on another path, so the parts of a call that may carry personal data go through the
kernel's payload filters before the engine sees them (the redaction capability adds itself
there; without it they pass unchanged). User and session ids need no filter: the engine keeps
only their keyed pseudonyms. Action names repeat, so their outcome is cached (bounded, emptied
when the config changes, since the policy may have changed with it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ricecoder_otel.kernel.capability import PayloadFilter, filter_payload

ACTION_KEY = "ricecoder.analytics.action"
ACCOUNT_KEY = "ricecoder.analytics.account.id"
CACHE_SIZE = 1024
_REFUSED: Any = object()
"""What a filter returns for a value the policy says must not be kept."""


class Landing:
    """Filters one queued call's arguments; None when the policy says the call must not be kept."""

    def __init__(self, filters: Sequence[PayloadFilter], cache_size: int = CACHE_SIZE) -> None:
        self._filters = filters
        self._cache_size = cache_size
        self._actions: dict[str, object] = {}

    def reset(self) -> None:
        self._actions = {}

    def call(self, kind: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if kind == "track":
            user, action, properties, session, feature = args
            landed = self._action(action)
            return None if landed is _REFUSED else (user, landed, properties, session, feature)
        if kind == "identify":
            user, traits = args
            kept = self._traits(traits)
            return None if kept is _REFUSED else (user, kept)
        if kind == "group":
            user, account, traits = args
            landed = self._value(ACCOUNT_KEY, account)
            kept = self._traits(traits)
            return None if landed is _REFUSED or kept is _REFUSED else (user, landed, kept)
        return args

    def _action(self, action: object) -> object:
        if not isinstance(action, str):
            return action  # the engine drops and counts bad input
        if action in self._actions:
            return self._actions[action]
        landed = self._value(ACTION_KEY, action)
        if len(self._actions) >= self._cache_size:
            self._actions = {}
        self._actions[action] = landed
        return landed

    def _value(self, key: str, value: object) -> object:
        if not isinstance(value, str):
            return value
        filtered = filter_payload(self._filters, {key: value})
        return _REFUSED if filtered is None or key not in filtered else filtered[key]

    def _traits(self, traits: object) -> object:
        if not isinstance(traits, Mapping) or not traits:
            return traits
        kept = filter_payload(self._filters, traits)
        return _REFUSED if kept is None else kept
