"""The redaction policy: find sensitive values and replace, hash or drop them.

A :class:`Policy` is compiled once from the configuration (detectors, actions, safe keys, key,
callback) and is immutable; a live policy change builds a new one and swaps the reference. A
:class:`Redactor` applies a policy to values, attribute mappings and log bodies and keeps a
:class:`Tally` per record: how many values each detector redacted (never what), and whether an
action asked to drop the attribute or the whole record.

Bounded work: a string longer than ``max_scan_chars`` is cut and its unscanned tail replaced by
a marker (counted as ``oversize``); every pattern is linear or bounded (see ``patterns``);
JSON inside a string is parsed only up to ``max_json_chars`` and ``max_depth``. Bytes are
scanned as Latin-1 (one character per byte, never fails), so binary and non-UTF-8 values lose
nothing but what is redacted. Plain Python, no OpenTelemetry imports.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ricecoder_otel.compliance.redaction.detectors import (
    BUILTIN,
    DEFAULT_SAFE_KEYS,
    OVERSIZE,
    SENSITIVE_KEY,
    SENSITIVE_KEY_PATTERN,
    Detector,
)
from ricecoder_otel.compliance.redaction.gate import Gate, build_gate
from ricecoder_otel.compliance.redaction.patterns import PatternError, check_pattern

Action = Literal["mask", "hash", "drop_attribute", "drop_record"]
ACTIONS: tuple[str, ...] = ("mask", "hash", "drop_attribute", "drop_record")

_PROCESS_KEY = secrets.token_bytes(32)
"""Used when no ``hash_key`` is configured: hashes join within this process only, not across
restarts or replicas. Configure a key for joins across records over time."""


@dataclass(frozen=True)
class RedactionMatch:
    """What a callback sees: the detector, the key (if any) and the matched text."""

    detector: str
    key: str | None
    text: str


Callback = Callable[[RedactionMatch], str | None]
"""Returns the replacement (return ``match.text`` to keep the value), or None to apply the action."""


class Tally:
    """What was redacted in one record: counts per detector, and the drop decisions.

    A plain slotted class, not a dataclass: one is made per span, log record and metric point.
    ``drop_value`` is set while redacting one attribute whose action is ``drop_attribute``; the
    caller resets it.
    """

    __slots__ = ("counts", "drop_record", "drop_value")

    def __init__(self, counts: dict[str, int] | None = None, drop_record: bool = False,
                 drop_value: bool = False) -> None:
        self.counts: dict[str, int] = {} if counts is None else counts
        self.drop_record = drop_record
        self.drop_value = drop_value

    def __repr__(self) -> str:
        return f"Tally(counts={self.counts!r}, drop_record={self.drop_record}, drop_value={self.drop_value})"

    def add(self, detector: str) -> None:
        self.counts[detector] = self.counts.get(detector, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def merge(self, other: Tally) -> None:
        for name, count in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + count
        self.drop_record = self.drop_record or other.drop_record


@dataclass(frozen=True)
class Policy:
    """A compiled, immutable redaction policy."""

    detectors: tuple[Detector, ...]
    actions: Mapping[str, Action] = field(default_factory=dict)
    default_action: Action = "mask"
    key_patterns: tuple[Any, ...] = (SENSITIVE_KEY_PATTERN,)
    """Compiled key patterns; an empty tuple switches key-name redaction off."""
    safe_keys: frozenset[str] = frozenset()
    safe_prefixes: tuple[str, ...] = ()
    hash_key: bytes = _PROCESS_KEY
    hash_key_configured: bool = False
    callback: Callback | None = None
    max_scan_chars: int = 65_536
    scan_json: bool = True
    max_json_chars: int = 65_536
    max_depth: int = 16

    def action(self, detector: str) -> Action:
        return self.actions.get(detector, self.default_action)

    @property
    def detector_names(self) -> tuple[str, ...]:
        names = [d.name for d in self.detectors]
        return (*names, SENSITIVE_KEY) if self.key_patterns else tuple(names)


def split_safe_keys(keys: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Exact keys and ``prefix*`` prefixes."""
    exact = {k for k in keys if not k.endswith("*")}
    prefixes = tuple(k[:-1] for k in keys if k.endswith("*"))
    return frozenset(exact), prefixes


def build_policy(
    *,
    builtin: Iterable[str] | None = None,
    patterns: Mapping[str, str] | None = None,
    actions: Mapping[str, Action] | None = None,
    default_action: Action = "mask",
    sensitive_keys: Iterable[str] = (),
    safe_keys: Iterable[str] = DEFAULT_SAFE_KEYS,
    hash_key: bytes | None = None,
    callback: Callback | None = None,
    max_scan_chars: int = 65_536,
    scan_json: bool = True,
) -> Policy:
    """Compile a policy; a custom pattern named like a built-in replaces it.

    Raises :class:`~ricecoder_otel.compliance.redaction.patterns.PatternError` (with the
    position) for a pattern that does not compile or may backtrack catastrophically, and
    ``ValueError`` for an unknown detector name or action.
    """
    chosen = [*list(BUILTIN), SENSITIVE_KEY] if builtin is None else list(builtin)
    unknown = [name for name in chosen if name not in BUILTIN and name != SENSITIVE_KEY]
    if unknown:
        raise ValueError(f"unknown built-in detector(s): {', '.join(unknown)}")
    custom = dict(patterns or {})
    detectors: list[Detector] = []
    for name in BUILTIN:  # the built-in order, whatever the configured order: ties go to the specific one
        if name in chosen and name not in custom:
            detectors.append(BUILTIN[name])
    for name, pattern in custom.items():
        try:
            compiled = check_pattern(pattern)
        except PatternError as error:
            raise PatternError(f"pattern {name!r}: {error}", error.position) from None
        detectors.append(Detector(name, (compiled,)))
    known = {d.name for d in detectors} | {SENSITIVE_KEY, OVERSIZE}
    for name, action in (actions or {}).items():
        if name not in known:
            raise ValueError(f"action for unknown detector {name!r}; known: {', '.join(sorted(known))}")
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r} for {name!r}; expected one of {', '.join(ACTIONS)}")
    key_patterns: list[Any] = [SENSITIVE_KEY_PATTERN] if SENSITIVE_KEY in chosen else []
    for pattern in sensitive_keys:
        key_patterns.append(check_pattern(f"(?i){pattern}" if not pattern.startswith("(?") else pattern))
    exact, prefixes = split_safe_keys(safe_keys)
    return Policy(
        detectors=tuple(detectors),
        actions=dict(actions or {}),
        default_action=default_action,
        key_patterns=tuple(key_patterns),
        safe_keys=exact,
        safe_prefixes=prefixes,
        hash_key=hash_key if hash_key else _PROCESS_KEY,
        hash_key_configured=bool(hash_key),
        callback=callback,
        max_scan_chars=max_scan_chars,
        scan_json=scan_json,
    )


_SAFE, _SCAN, _SENSITIVE = 0, 1, 2
_CACHE_LIMIT = 4096
_CACHEABLE = 256
"""Longer values are not cached: a long value rarely repeats, and the cache must stay small."""

_Outcome = tuple[str, tuple[tuple[str, int], ...], bool, bool]
"""A cached redaction: the redacted text, counts per detector, drop_value, drop_record."""

_HASH_KEYED = os.environ.get("PYTHONHASHSEED", "random") == "random"
"""Whether ``hash(str)`` is keyed with a secret drawn at start-up (SipHash, the default): then a
redacted value's cache key is its ``hash``, which the string computes once and keeps. With a
fixed ``PYTHONHASHSEED`` anyone can compute it, so a keyed BLAKE2b digest is used instead."""


def _replay(outcome: _Outcome, tally: Tally) -> str:
    result, counts, drop_value, drop_record = outcome
    for name, count in counts:
        tally.counts[name] = tally.counts.get(name, 0) + count
    tally.drop_value = tally.drop_value or drop_value
    tally.drop_record = tally.drop_record or drop_record
    return result
_JSON_OPEN = ("{", "[")
_INERT = frozenset({bool, float, type(None)})
"""Value types no detector looks at (see ``redact_structure``)."""
_SMALL_INT = 10**11
"""Integers closer to zero have at most 11 digits: too few for a card, IBAN or phone number."""


class Redactor:
    """Applies one :class:`Policy`; thread-safe (a cache entry is written whole and never changed).

    Caches, bounded and emptied when full: the verdict per key name, and per short string value
    its outcome, so a value that repeats (a route, a client address) is scanned once. A clean
    value is remembered as itself; a redacted one only under a keyed digest (its ``hash``, keyed
    per process, see ``_HASH_KEYED``; else BLAKE2b with a key random per redactor), next to its
    redacted text and how many values each detector redacted, so the cache holds no personal
    data. Two values whose digests collide (about one chance in 2**64 per pair) would share the
    first one's redacted text: the second is not exported, only misreported. Outcomes are not
    cached when a callback is configured: it sees every match.

    Before running the detectors on a value it asks the gate (see ``gate``): a value in which
    no detector's anchor occurs is clean without running any pattern or validator; otherwise
    only the detectors with an anchor in a matching part of the gate are considered, and of
    those only the ones whose own anchors occur run (detectors without anchors, custom ones,
    always run). A detector that declares a ``lead`` scans from its leftmost anchor match
    (less that lead), not from the start of the value.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._keys: dict[str, int] = {}
        self._clean: dict[str, None] = {}
        self._redacted: dict[int | bytes, _Outcome] = {}
        self._digest_key = secrets.token_bytes(32)
        self._digest: Callable[[str], int | bytes] = hash if _HASH_KEYED else self._blake2b
        self._replays = policy.callback is None and _HASH_KEYED
        """Whether ``redact_attributes`` may replay a cached outcome inline (found by ``hash``)."""
        self._gate = build_gate(anchor for detector in policy.detectors for anchor in detector.anchors)
        self._plan: tuple[tuple[Detector, Gate | None], ...] = tuple(
            (detector, build_gate(detector.anchors)) for detector in policy.detectors
        )
        """Each detector with its own gate (None: no anchors, it always runs)."""
        groups = self._gate.members if self._gate is not None else ()
        gates: dict[tuple[str, ...], Gate | None] = {}

        def own_gate(detector: Detector, mask: int) -> Gate | None:
            """The detector's anchors in the gate regexes that matched (the others cannot match)."""
            anchors = tuple(a for a in detector.anchors if any(mask >> i & 1 and a in m for i, m in enumerate(groups)))
            if anchors not in gates:
                gates[anchors] = build_gate(anchors)
            return gates[anchors]

        self._plans = tuple(
            tuple(
                (detector, None if own is None else own_gate(detector, mask))
                for detector, own in self._plan
                if own is None or any(mask >> index & 1 and members & set(detector.anchors)
                                      for index, members in enumerate(groups))
            )
            for mask in range(1 << len(groups))
        )
        """Per bit mask of matching gate regexes, the detectors that may match (in policy order),
        each with a gate of only its anchors in the matching regexes."""

    # -- replacements -----------------------------------------------------------------------

    def marker(self, detector: str) -> str:
        return f"[REDACTED:{detector}]"

    def keyed_hash(self, detector: str, text: str) -> str:
        digest = hmac.new(self.policy.hash_key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"[HASHED:{detector}:{digest[:32]}]"

    def _replacement(self, detector: Detector | None, name: str, text: str, key: str | None, tally: Tally) -> str:
        tally.add(name)
        callback = self.policy.callback
        if callback is not None:
            try:
                chosen = callback(RedactionMatch(name, key, text))
            except Exception:  # a failing callback must not leak the value: apply the action
                chosen = None
            if chosen is not None:
                return chosen
        action = self.policy.action(name)
        if action == "drop_record":
            tally.drop_record = True
        elif action == "drop_attribute":
            tally.drop_value = True
        if action == "hash":
            normalized = detector.normalize(text) if detector is not None else text
            return self.keyed_hash(name, normalized)
        return self.marker(name)

    # -- keys -------------------------------------------------------------------------------

    def key_verdict(self, key: str) -> int:
        verdict = self._keys.get(key)
        if verdict is None:
            policy = self.policy
            if key in policy.safe_keys or key.startswith(policy.safe_prefixes):
                verdict = _SAFE
            elif any(pattern.search(key) for pattern in policy.key_patterns):
                verdict = _SENSITIVE
            else:
                verdict = _SCAN
            if len(self._keys) >= _CACHE_LIMIT:
                self._keys.clear()
            self._keys[key] = verdict
        return verdict

    def is_safe_key(self, key: str) -> bool:
        return self.key_verdict(key) == _SAFE

    # -- text -------------------------------------------------------------------------------

    def redact_text(self, text: str, tally: Tally, key: str | None = None) -> str:
        """``text`` with every finding replaced (the same object when nothing was found)."""
        if text in self._clean:
            return text
        if len(text) > _CACHEABLE or self.policy.callback is not None:
            return self._redact_text(text, tally, key)
        digest = self._digest(text)
        known = self._redacted.get(digest)
        if known is not None:
            return _replay(known, tally)
        inner = Tally()
        result = self._redact_text(text, inner, key)
        if result is text:
            if len(self._clean) >= _CACHE_LIMIT:
                self._clean.clear()
            self._clean[text] = None
            return text
        outcome = (result, tuple(inner.counts.items()), inner.drop_value, inner.drop_record)
        if len(self._redacted) >= _CACHE_LIMIT:
            self._redacted.clear()
        self._redacted[digest] = outcome
        return _replay(outcome, tally)

    def _blake2b(self, text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), key=self._digest_key, digest_size=16).digest()

    def _redact_text(self, text: str, tally: Tally, key: str | None) -> str:
        limit = self.policy.max_scan_chars
        tail = ""
        if len(text) > limit:
            # Cut before the word the limit falls in: half a value is still personal data.
            boundary = max(text.rfind(" ", limit - 256, limit), text.rfind("\n", limit - 256, limit))
            cut = boundary + 1 if boundary > 0 else limit
            tail = f"...[REDACTED:{OVERSIZE} {len(text) - cut} chars]"
            tally.add(OVERSIZE)
            text = text[:cut]
        result = text
        if self.policy.scan_json and text[:1] in _JSON_OPEN:
            result = self._redact_json(text, tally)
        if result is text:
            result = self._redact_plain(text, tally, key)
        return result + tail if tail else result

    def _findings(self, text: str) -> list[tuple[int, int, Detector]]:
        found: list[tuple[int, int, Detector]] = []
        lowered = text.isascii()
        subject = text.lower() if lowered else text
        gate = self._gate
        plan = self._plans[gate.matching(subject, lowered)] if gate is not None else self._plan
        for detector, anchors in plan:
            if anchors is None:
                _scan(detector, text, found, 0)
            elif detector.lead is None:
                if anchors.matches(subject, lowered):
                    _scan(detector, text, found, 0)
            else:
                first = anchors.first(subject, lowered)
                if first >= 0:
                    _scan(detector, text, found, max(0, first - detector.lead))
        return found

    def _redact_plain(self, text: str, tally: Tally, key: str | None) -> str:
        found = self._findings(text)
        if not found:
            return text
        found.sort(key=lambda item: (item[0], item[0] - item[1]))
        parts: list[str] = []
        position = 0
        for start, end, detector in found:
            if start < position:
                continue  # overlaps a finding already replaced
            parts.append(text[position:start])
            parts.append(self._replacement(detector, detector.name, text[start:end], key, tally))
            position = end
        parts.append(text[position:])
        return "".join(parts)

    def _redact_json(self, text: str, tally: Tally) -> str:
        stripped = text.rstrip()
        if len(text) > self.policy.max_json_chars or stripped[-1:] not in ("}", "]"):
            return text
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            return text
        if not isinstance(parsed, dict | list):
            return text
        inner = Tally()
        redacted = self.redact_structure(parsed, inner, None, 0)
        if not inner.counts:
            return text
        tally.merge(inner)
        tally.drop_value = tally.drop_value or inner.drop_value
        return json.dumps(redacted, ensure_ascii=False)

    # -- values -----------------------------------------------------------------------------

    def redact_structure(self, value: Any, tally: Tally, key: str | None, depth: int) -> Any:
        """Any attribute value or body: strings, bytes, big integers, sequences and mappings."""
        kind = type(value)
        if kind is str:
            return self.redact_text(value, tally, key)
        if value is None or kind is bool or kind is float:
            return value
        if kind is int:
            if -_SMALL_INT < value < _SMALL_INT:
                return value
            text = str(value)
            result = self.redact_text(text, tally, key)
            return value if result is text else result
        if isinstance(value, bytes | bytearray | memoryview):
            return self._redact_bytes(bytes(value), tally, key)
        if depth >= self.policy.max_depth:
            return value
        if isinstance(value, Mapping):
            return self._redact_mapping_value(value, tally, depth)
        if isinstance(value, list | tuple):
            items = [self.redact_structure(item, tally, key, depth + 1) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            kinds = {type(item) for item in items if item is not None}
            if len(kinds) > 1:  # an attribute array must stay homogeneous
                items = [item if item is None else str(item) for item in items]
            return tuple(items) if isinstance(value, tuple) else items
        return value

    def _redact_bytes(self, value: bytes, tally: Tally, key: str | None) -> bytes:
        text = value.decode("latin-1")
        result = self.redact_text(text, tally, key)
        return value if result is text else result.encode("latin-1", "replace")

    def _redact_mapping_value(self, value: Mapping[Any, Any], tally: Tally, depth: int) -> Any:
        changed = False
        out: dict[Any, Any] = {}
        for item_key, item in value.items():
            new = self.redact_entry(str(item_key), item, tally, depth + 1)
            if new is not item:
                changed = True
            if new is _DROP:
                continue
            out[item_key] = new
        return out if changed else value

    def redact_entry(self, key: str, value: Any, tally: Tally, depth: int = 0) -> Any:
        """One key/value pair: safe keys untouched, sensitive keys redacted whole, else the value scanned.

        Returns :data:`DROP` when the attribute must be removed.
        """
        verdict = self._keys.get(key)
        if verdict is None:
            verdict = self.key_verdict(key)
        if verdict == _SAFE:
            return value
        if verdict == _SCAN and type(value) is str and value in self._clean:  # a clean value seen before
            return value
        saved = tally.drop_value
        tally.drop_value = False
        if verdict == _SENSITIVE and value is not None and type(value) is not bool and value != "":
            new = self._replacement(None, SENSITIVE_KEY, _plain_text(value), key, tally)
        else:
            new = self.redact_structure(value, tally, key, depth)
        dropped = tally.drop_value
        tally.drop_value = saved
        return _DROP if dropped else new

    def known_clean(self, name: str, attributes: Mapping[str, Any]) -> bool:
        """True when ``name`` and every attribute are already known to need nothing: a safe key, a
        text seen clean before, an inert value. The export path's shortcut for the records that
        repeat (most of them); False only means "not known", and the full pass decides."""
        clean = self._clean
        if name not in clean:
            return False
        keys = self._keys
        for key, value in attributes.items():
            verdict = keys.get(key)
            if verdict == _SAFE:
                continue
            if verdict != _SCAN:
                return False
            kind = type(value)
            if kind is str:
                if value not in clean:
                    return False
            elif kind not in _INERT and not (kind is int and -_SMALL_INT < value < _SMALL_INT):
                return False
        return True

    def redact_attributes(self, attributes: Mapping[str, Any], tally: Tally) -> dict[str, Any] | None:
        """A redacted copy of ``attributes``, or None when nothing changed."""
        out: dict[str, Any] | None = None
        keys, clean, redacted, replays = self._keys, self._clean, self._redacted, self._replays
        for key, value in attributes.items():
            # Inline the commonest cases (a safe key, a value seen before, a number): no call.
            verdict = keys.get(key)
            if verdict == _SCAN:
                kind = type(value)
                if kind is str:
                    if value in clean:
                        continue
                    if replays and (known := redacted.get(hash(value))) is not None:
                        new = _DROP if known[2] else known[0]
                        counts = tally.counts
                        for name, count in known[1]:
                            counts[name] = counts.get(name, 0) + count
                        tally.drop_record = tally.drop_record or known[3]
                    else:
                        new = self.redact_entry(key, value, tally)
                elif kind in _INERT or (kind is int and -_SMALL_INT < value < _SMALL_INT):
                    continue
                else:
                    new = self.redact_entry(key, value, tally)
            elif verdict == _SAFE:
                continue
            else:
                new = self.redact_entry(key, value, tally)
            if new is value:
                continue
            if out is None:
                out = dict(attributes)  # the keys keep their order; changed ones are replaced below
            if new is _DROP:
                del out[key]
            else:
                out[key] = new
        return out

    def redact_whole(self, value: Any, tally: Tally) -> Any:
        """A span name, event name or log body: a value whose ``drop_attribute`` replaces it whole."""
        if type(value) is str and value in self._clean:
            return value
        saved = tally.drop_value
        tally.drop_value = False
        new = self.redact_structure(value, tally, None, 0)
        if tally.drop_value:
            new = self.marker(next(reversed(tally.counts)) if tally.counts else "value")
        tally.drop_value = saved
        return new


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


_DROP: Any = _Drop()
DROP = _DROP
"""Returned by :meth:`Redactor.redact_entry` for an attribute that must be removed."""


def _plain_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def _scan(detector: Detector, text: str, found: list[tuple[int, int, Detector]], position: int) -> None:
    """Append every validated match of ``detector``'s patterns in ``text`` starting at or after
    ``position`` to ``found`` (look-behinds and word boundaries still see the text before it)."""
    validate = detector.validate
    needs = detector.needs
    for index, pattern in enumerate(detector.patterns):
        need = needs[index] if needs else None
        if need is not None and need.search(text, position) is None:
            continue
        for match in pattern.finditer(text, position):
            start, end = _span(match)
            if start == end:
                continue
            if validate is not None and not validate(text[start:end], text[max(0, start - 24):start]):
                if not detector.shrink:
                    continue
                shorter = _shrunk(text, start, end, validate)
                if shorter is None:
                    continue
                end = shorter
            found.append((start, end, detector))


def _span(match: Any) -> tuple[int, int]:
    """The part to redact: the first group named ``v...`` that matched, else the whole match."""
    for name, index in match.re.groupindex.items():
        if name.startswith("v") and match.start(index) >= 0:
            return int(match.start(index)), int(match.end(index))
    return int(match.start()), int(match.end())


def _shrunk(text: str, start: int, end: int, validate: Any) -> int | None:
    """The longest valid candidate after dropping up to two trailing space-separated chunks."""
    for _ in range(2):
        cut = text.rfind(" ", start, end)
        if cut <= start:
            return None
        end = cut
        if validate(text[start:end], text[max(0, start - 24):start]):
            return end
    return None
