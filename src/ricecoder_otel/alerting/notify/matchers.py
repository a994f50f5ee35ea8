"""Alertmanager label matchers: ``name="v"``, ``name!="v"``, ``name=~"re"``, ``name!~"re"``.

Routes, inhibition rules and silences all select alerts with these. Regular expressions are
anchored (``=~"api|web"`` matches the whole value), and a missing label reads as the empty
string, as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["=", "!=", "=~", "!~"]
_MATCHER = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$", re.S)


class MatcherError(ValueError):
    """A matcher that cannot be parsed; the message says which one and why."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: Op, value: str) -> Matcher:
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(f"(?:{value})")
            except re.error as exc:
                raise MatcherError(f"{name}{op}{value!r}: invalid regular expression: {exc}") from None
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._regex is not None:
            found = self._regex.fullmatch(actual) is not None
            return found if self.op == "=~" else not found
        return (actual == self.value) if self.op == "=" else (actual != self.value)

    @property
    def is_regex(self) -> bool:
        return self.op in ("=~", "!~")

    @property
    def is_equal(self) -> bool:
        return self.op in ("=", "=~")

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'

    def to_api(self) -> dict[str, Any]:
        """The Alertmanager API form ``{name, value, isRegex, isEqual}``."""
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Matcher:
        try:
            name, value = str(data["name"]), str(data["value"])
        except KeyError as exc:
            raise MatcherError(f"matcher {dict(data)!r} lacks {exc.args[0]!r}") from None
        regex, equal = bool(data.get("isRegex", False)), bool(data.get("isEqual", True))
        op: Op = ("=~" if equal else "!~") if regex else ("=" if equal else "!=")
        return cls.make(name, op, value)


def parse_matcher(text: str) -> Matcher:
    """One matcher in Alertmanager's syntax; the value may be quoted (``"..."``) or bare."""
    match = _MATCHER.match(text)
    if match is None:
        raise MatcherError(f"{text!r}: expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX")
    value = match["value"]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    elif '"' in value:
        raise MatcherError(f"{text!r}: unbalanced quotes in the value")
    op: Op = match["op"]  # type: ignore[assignment]
    return Matcher.make(match["name"], op, value)


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(t) for t in texts)


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
