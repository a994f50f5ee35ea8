"""A few regex scans that tell whether a value can hold anything a detector finds.

Most telemetry values are clean, and running every detector's patterns on each of them costs a
dozen regex calls per value. Each built-in detector lists anchors (see ``detectors``): regexes,
written for lowercased text, such that every match of the detector's patterns contains a match
of one of them. A gate is the union of a set of anchors: a value in which it finds nothing
cannot match any of their detectors, so skipping those detectors changes no result.

Speed: Python's ``re`` skips quickly over characters that cannot start a match only when every
alternative starts with a literal, or the whole pattern with one character class. So anchors are
grouped by their first character: those starting with a digit become ``\\d(?:rest1|(?<=0)rest2|...)``,
those starting with punctuation ``[@+(...](?:(?<=@)rest1|...)`` (the look-behind re-checks the
first character where the group's class is wider than the anchor's, so each group matches exactly
where one of its anchors does), and the rest (literal keywords) are grouped by first letter
(``t(?:el...|oken...)``). Anchors of a number start at a separator after a digit where they can
(``[\\-. ](?<=\\d.)...``: a value has few separators and many digits), and a look-behind every
anchor of a family starts with is checked once for the family (``\\d(?<!\\d\\d)``: a digit inside
a number fails one check). Keyword anchors that end in a required character (``password...[=:]``)
form a regex of their own, searched only in values that contain one of those characters.

Case: an ASCII value is lowercased once and searched case-sensitively (lowercasing maps exactly
what a case-insensitive ASCII match folds, and widens a case-sensitive match to its lowercase
form). Any other value is searched as it is with ``re.IGNORECASE``, which folds at least as much
as the patterns do. Plain Python, no OpenTelemetry imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\\.|\[(?:\\.|[^\]\\])+\]|[^\\\[(){}|?*+.^$]")
_QUANTIFIER = ("*", "+", "?", "{")
_PUNCTUATION = frozenset("@+(:?&;-#/=\"'")
_MIN_GROUP = 4
"""Keyword anchors that share a required character get a regex of their own when at least this many."""
_SEPARATORS = frozenset(" .-")
"""Between the digit groups of a number: anchors starting with one (and a look-behind for the
digits before it) are tried at the few separators of a value, not at each of its many digits."""


@dataclass(frozen=True)
class Gate:
    """A union of anchors, compiled for ASCII values (searched lowercased) and for all others."""

    lowered: tuple[re.Pattern[str], ...]
    folded: tuple[re.Pattern[str], ...]
    members: tuple[frozenset[str], ...]
    """Per regex (same order), the anchors it is the union of."""
    requires: tuple[str, ...] = ()
    """Per regex (same order), characters one of which every match contains ("": none known);
    a regex is not searched in a value without any of them (``in`` is far cheaper than a search)."""

    def matches(self, subject: str, lowered: bool) -> bool:
        """Whether ``subject`` may hold a match (False: it certainly holds none).

        ``subject`` is an ASCII value lowercased (``lowered``), or any other value as it is.
        """
        requires = self.requires
        for index, pattern in enumerate(self.lowered if lowered else self.folded):
            if requires and requires[index] and not _present(requires[index], subject):
                continue
            if pattern.search(subject) is not None:
                return True
        return False

    def first(self, subject: str, lowered: bool) -> int:
        """Where the leftmost anchor match in ``subject`` starts; -1 when there is none."""
        first = -1
        requires = self.requires
        for index, pattern in enumerate(self.lowered if lowered else self.folded):
            if requires and requires[index] and not _present(requires[index], subject):
                continue
            match = pattern.search(subject)  # never with an end position: it would cut a match short
            if match is not None and (first < 0 or match.start() < first):
                first = match.start()
        return first

    def matching(self, subject: str, lowered: bool) -> int:
        """A bit mask of the regexes that match ``subject`` (bit i: regex i); 0 when none does."""
        mask = 0
        requires = self.requires
        for index, pattern in enumerate(self.lowered if lowered else self.folded):
            if requires and requires[index] and not _present(requires[index], subject):
                continue
            if pattern.search(subject) is not None:
                mask |= 1 << index
        return mask


def _present(chars: str, subject: str) -> bool:
    """Whether ``subject`` contains one of ``chars`` (always, for no chars)."""
    if not chars:
        return True
    for char in chars:  # noqa: SIM110 (no generator per value)
        if char in subject:
            return True
    return False


def required_characters(anchor: str) -> str:
    """Characters one of which every match of ``anchor`` contains, read from its last token: a
    punctuation character or a class of them, with no quantifier and no top-level ``|``
    (``password["']?\\s{0,3}[=:]`` gives ``=:``); "" when the anchor does not end so."""
    if _has_top_level_branch(anchor):
        return ""
    position, last = 0, ""
    while position < len(anchor):
        token = _TOKEN.match(anchor, position)
        if token is None:  # a special character: a group, a quantifier or ``.``
            position, last = position + 1, ""
            continue
        position, last = token.end(), token.group()
    chars = last[1:-1] if last.startswith("[") and len(last) > 2 else last
    if not chars or any(char.isalnum() or char in "\\^-[]" or not char.isascii() for char in chars):
        return ""
    return chars


def _has_top_level_branch(anchor: str) -> bool:
    depth = 0
    index = 0
    while index < len(anchor):
        char = anchor[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            match = _TOKEN.match(anchor, index)
            index = match.end() if match else index + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def _family(anchor: str) -> tuple[str, str, str] | None:
    """``(family, first character's class content, rest)`` for an anchor that can be factored."""
    match = _TOKEN.match(anchor)
    if match is None or _has_top_level_branch(anchor):
        return None
    token, rest = match.group(), anchor[match.end():]
    if rest[:1] in _QUANTIFIER:
        return None
    if token.startswith("["):
        content = token[1:-1]
        if content.startswith("^"):
            return None
        members = re.sub(r"\\.|.-.", lambda m: m.group()[-1], content)  # a range by its last member
    else:
        content = token if token.startswith("\\") else re.escape(token)
        members = token[-1]
    if token == "\\d" or all(char.isdigit() for char in members):
        return "digit", content, rest
    if (token.startswith("[") or token == "\\.") and all(char in _SEPARATORS for char in members):
        return "separator", content, rest
    if all(char in _PUNCTUATION for char in members):
        return "punctuation", content, rest
    return None


def _leading_lookbehind(rest: str) -> str:
    """The look-behind group ``rest`` starts with (``(?<!\\d\\d)``), or ""."""
    if not rest.startswith(("(?<=", "(?<!")):
        return ""
    depth, position = 0, 0
    while position < len(rest):
        token = _TOKEN.match(rest, position)
        if token is not None and token.group() not in "()":
            position = token.end()
            continue
        depth += {"(": 1, ")": -1}.get(rest[position], 0)
        position += 1
        if depth == 0:
            return rest[:position]
    return ""


def _compile(anchors: list[str]) -> list[tuple[str, frozenset[str]]]:
    """The gate's regexes (one per first-character family, then the rest), each with its anchors."""
    families: dict[str, list[tuple[str, str, str]]] = {"digit": [], "separator": [], "punctuation": []}
    plain: list[str] = []
    for anchor in dict.fromkeys(anchors):
        family = _family(anchor)
        if family is None:
            plain.append(anchor)
        else:
            families[family[0]].append((anchor, family[1], family[2]))
    sources: list[tuple[str, frozenset[str]]] = []
    for kind, members in families.items():
        if not members:
            continue
        # Every digit is a \d, so a digit anchor's first character needs no re-check when it is \d.
        union = r"\d" if kind == "digit" else "".join(dict.fromkeys(content for _anchor, content, _rest in members))
        # A look-behind every anchor of the family starts with (a number's first digit, a separator
        # after a digit) is checked once: most candidate characters then fail a single check.
        hoist = _leading_lookbehind(members[0][2])
        if not all(rest.startswith(hoist) for _anchor, _content, rest in members):
            hoist = ""
        branches = "|".join(
            f"(?:{rest[len(hoist):]})" if content == union else f"(?<=[{content}])(?:{rest[len(hoist):]})"
            for _anchor, content, rest in members
        )
        sources.append((f"[{union}]{hoist}(?:{branches})", frozenset(anchor for anchor, _content, _rest in members)))
    by_requirement: dict[str, list[str]] = {}
    for anchor in plain:
        by_requirement.setdefault(required_characters(anchor), []).append(anchor)
    unconditional = by_requirement.pop("", [])
    for chars, group in list(by_requirement.items()):
        if len(group) < _MIN_GROUP:  # too few to pay for a search of their own
            unconditional += by_requirement.pop(chars)
    for group in (unconditional, *by_requirement.values()):
        if group:
            sources.append(("|".join(_by_first_letter(group)), frozenset(group)))
    return sources


def _by_first_letter(anchors: list[str]) -> list[str]:
    """``tel...|token...`` as ``t(?:el...|oken...)``: one first-character check per letter, not per anchor."""
    groups: dict[str, list[str]] = {}
    for anchor in anchors:
        factorable = anchor[:1].isalpha() and anchor[1:2] not in _QUANTIFIER and not _has_top_level_branch(anchor)
        groups.setdefault(anchor[0] if factorable else anchor, []).append(anchor)
    branches: list[str] = []
    for first, members in groups.items():
        if len(members) == 1:
            branches.append(members[0])
        else:
            branches.append(first + "(?:" + "|".join(member[1:] for member in members) + ")")
    return branches


def build_gate(anchors: Iterable[str]) -> Gate | None:
    """The gate over ``anchors``; None when there are none (nothing can be ruled out)."""
    sources = _compile(list(anchors))
    if not sources:
        return None
    requires = tuple(_common_requirement(members) for _source, members in sources)
    return Gate(
        tuple(re.compile(source) for source, _members in sources),
        tuple(re.compile(source, re.IGNORECASE) for source, _members in sources),
        tuple(members for _source, members in sources),
        requires if any(requires) else (),
    )


def _common_requirement(anchors: frozenset[str]) -> str:
    """The characters every anchor of a regex requires one of, when they all require the same ones."""
    found = {required_characters(anchor) for anchor in anchors}
    return found.pop() if len(found) == 1 else ""
