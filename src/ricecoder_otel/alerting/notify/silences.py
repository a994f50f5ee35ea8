"""Silences: matchers plus a time window, with author and comment (Alertmanager's model).

A silence is *pending* before ``starts_at``, *active* until ``ends_at``, then *expired*.
Expiring one sets its end to now; nothing is deleted, so ``silence list`` still shows it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from ricecoder_otel.alerting.notify.matchers import Matcher, MatcherError, all_match, parse_matcher

SilenceState = Literal["pending", "active", "expired"]


class SilenceError(ValueError):
    """A malformed silence; the message names the field."""


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    updated_at: float = 0.0

    def state(self, now: float) -> SilenceState:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def mutes(self, labels: Mapping[str, str], now: float) -> bool:
        return self.state(now) == "active" and all_match(self.matchers, labels)

    def expired(self, now: float) -> Silence:
        return replace(self, ends_at=min(self.ends_at, now), starts_at=min(self.starts_at, now), updated_at=now)

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "matchers": [m.to_api() for m in self.matchers], "startsAt": self.starts_at,
            "endsAt": self.ends_at, "createdBy": self.created_by, "comment": self.comment,
            "updatedAt": self.updated_at,
        }  # fmt: skip
        if now is not None:
            data["status"] = {"state": self.state(now)}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Silence:
        return cls(
            id=str(data["id"]), matchers=tuple(Matcher.from_api(m) for m in data["matchers"]),
            starts_at=float(data["startsAt"]), ends_at=float(data["endsAt"]), created_by=str(data["createdBy"]),
            comment=str(data["comment"]), updated_at=float(data.get("updatedAt") or 0.0),
        )  # fmt: skip


def new_silence(
    matchers: Sequence[str | Matcher], starts_at: float, ends_at: float, created_by: str, comment: str, now: float
) -> Silence:
    """A validated silence: at least one matcher, an end after the start and after now, author and comment."""
    if not matchers:
        raise SilenceError("matchers: a silence needs at least one matcher")
    parsed: list[Matcher] = []
    for i, m in enumerate(matchers):
        try:
            parsed.append(parse_matcher(m) if isinstance(m, str) else m)
        except MatcherError as exc:
            raise SilenceError(f"matchers[{i}]: {exc}") from None
    if all(m.matches({}) for m in parsed):
        raise SilenceError("matchers: every matcher also matches an empty label set, so it would silence everything")
    if ends_at <= starts_at:
        raise SilenceError("endsAt: must be after startsAt")
    if ends_at <= now:
        raise SilenceError("endsAt: is in the past")
    if not created_by.strip():
        raise SilenceError("createdBy: required")
    if not comment.strip():
        raise SilenceError("comment: required")
    return Silence("sil_" + secrets.token_hex(8), tuple(parsed), starts_at, ends_at, created_by, comment, now)


def silenced_by(silences: Iterable[Silence], labels: Mapping[str, str], now: float) -> list[str]:
    """Ids of the active silences that mute ``labels``."""
    return [s.id for s in silences if s.mutes(labels, now)]
