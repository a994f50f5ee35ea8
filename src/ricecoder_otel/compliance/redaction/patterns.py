"""Checks on user-supplied patterns: they compile, and they cannot backtrack catastrophically.

Python's ``re`` backtracks: a repeat nested in an unbounded repeat (``(a+)+``, ``(\\w*,)*``)
can take exponential time on a short hostile value. Such patterns are rejected when the policy
loads, with the position of the offending quantifier, instead of freezing an exporter later.
The rule is conservative (star height one): an unbounded repeat may not contain another repeat
that can match more than once, nor a backreference. Plain Python.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_UNBOUNDED = sre_constants.MAXREPEAT


class PatternError(ValueError):
    """A pattern that does not compile or may backtrack catastrophically; names the position."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.position = position


def _contains_repeat(items: Any) -> bool:
    for op, arg in items:
        if op in _REPEATS:
            _low, high, sub = arg
            if high > 1 or _contains_repeat(sub):
                return True
        elif op is sre_constants.SUBPATTERN:
            if _contains_repeat(arg[-1]):
                return True
        elif op is sre_constants.BRANCH:
            if any(_contains_repeat(branch) for branch in arg[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and _contains_repeat(arg[1]):
            return True
    return False


def _dangerous(items: Any, inside_unbounded: bool = False) -> bool:
    for op, arg in items:
        if op in _REPEATS:
            _low, high, sub = arg
            unbounded = high is _UNBOUNDED or high > 64
            if (unbounded or inside_unbounded) and _contains_repeat(sub):
                return True
            if _dangerous(sub, inside_unbounded or unbounded):
                return True
        elif op is sre_constants.SUBPATTERN:
            if _dangerous(arg[-1], inside_unbounded):
                return True
        elif op is sre_constants.BRANCH:
            if any(_dangerous(branch, inside_unbounded) for branch in arg[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            if _dangerous(arg[1], inside_unbounded):
                return True
        elif op is sre_constants.GROUPREF and inside_unbounded:
            return True
    return False


def _is_dangerous(pattern: str) -> bool | None:
    """True/False, or None when ``pattern`` does not parse (a prefix of a valid pattern may not)."""
    try:
        return _dangerous(sre_parse.parse(pattern))
    except (re.error, OverflowError, RecursionError):
        return None


def check_pattern(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern``; raise :class:`PatternError` naming the position of the problem."""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise PatternError(f"invalid regular expression: {error}", error.pos) from None
    if _is_dangerous(pattern):
        # The shortest dangerous prefix ends at the quantifier that makes it so.
        position = next(
            (end - 1 for end in range(1, len(pattern) + 1) if _is_dangerous(pattern[:end])), len(pattern) - 1
        )
        raise PatternError(
            f"the repeat at position {position} contains another repeat and can backtrack catastrophically "
            f"(like '(a+)+'); bound the inner repeat or rewrite it without nesting",
            position,
        )
    return compiled
