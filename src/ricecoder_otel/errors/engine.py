"""Error grouping: fingerprints, group state, and new / regression / spike detection.

Plain Python (no OpenTelemetry imports); the clock is injected. One :class:`ErrorEngine` turns
each :class:`Occurrence` (one observed error, already bounded) into an :class:`Outcome`: the
group it belongs to and whether it opened a new group, reopened a resolved one, or started a
spike.

Grouping follows the way issue trackers group crashes: the exception type plus the frames of
the application's own code (module path and function, not line numbers, which move with
unrelated edits). An error without frames is grouped by its type and its message with the
variable parts (numbers, ids, hex, UUIDs, quoted values) replaced by placeholders. A caller
may give its own fingerprint; ``{{ default }}`` in it stands for the computed one.

The same error reaches us from several sources (every enclosing span records an escaping
exception, and a framework logs it): inside one trace, occurrences with the same type and raise
point are one occurrence, so a group's count is the number of traces it happened in.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Clock = Callable[[], float]

MAX_MESSAGE_CHARS = 8 * 1024
MAX_STACK_CHARS = 64 * 1024
MAX_CONTEXT_ITEMS = 32
MAX_CONTEXT_VALUE_CHARS = 1024
MAX_ID_CHARS = 256
MAX_FINGERPRINT_FRAMES = 50
DEFAULT_TOKEN = "{{ default }}"
TRUNCATED = "\n... [truncated {n} characters] ...\n"

# Paths of code that is not the application's: installed packages, the standard library, frozen modules.
DEFAULT_NOT_IN_APP: tuple[str, ...] = ("site-packages", "dist-packages", "<frozen ", "/lib/python3", "\\lib\\python3")

_FRAME = re.compile(r'^  File "(?P<file>[^"\n]*)", line (?P<line>\d+), in (?P<func>[^\n]*)$', re.MULTILINE)
_CHAIN = re.compile(
    r"^(?:The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:)$",
    re.MULTILINE,
)
VARIABLE = "<*>"
_VARIABLE_PARTS: tuple[re.Pattern[str], ...] = (
    re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""),  # quoted values
    re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),  # UUIDs
    re.compile(r"\b0[xX][0-9a-fA-F]+\b"),  # hex literals
    re.compile(r"\b[0-9a-fA-F]{8,}"),  # hashes and hex ids (no word starts with 8 letters in a-f only)
    re.compile(r"\b[A-Za-z]*\d[A-Za-z0-9_\-]*\b"),  # numbers and words with digits (ids, 2.5s)
)
_RUNS = re.compile(r"\S*<\*>\S*")  # a word holding a variable part is variable: 2.5s, '<*>'s, id=<*>


# -- bounding ---------------------------------------------------------------------------------


def clean_text(text: str, limit: int) -> str:
    """``text`` encodable as UTF-8 (lone surrogates escaped) and at most about ``limit`` characters.

    Long text keeps its head and its tail (a traceback's raise point is at the end).
    """
    if len(text) > limit:
        head = limit // 4
        tail = limit - head
        text = text[:head] + TRUNCATED.format(n=len(text) - limit) + text[-tail:]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def clean_optional(value: object, limit: int = MAX_ID_CHARS) -> str | None:
    if value is None or value == "":
        return None
    return clean_text(value if isinstance(value, str) else repr(value), limit)


def clean_context(context: Mapping[str, object] | None) -> dict[str, str]:
    """At most :data:`MAX_CONTEXT_ITEMS` entries, every key and value a bounded string."""
    if not context:
        return {}
    cleaned: dict[str, str] = {}
    for key, value in list(context.items())[:MAX_CONTEXT_ITEMS]:
        text = value if isinstance(value, str) else _safe_repr(value)
        cleaned[clean_text(str(key), MAX_ID_CHARS)] = clean_text(text, MAX_CONTEXT_VALUE_CHARS)
    return cleaned


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception as error:
        return f"<unrepresentable {type(value).__name__}: repr() raised {type(error).__name__}>"


# -- frames and fingerprints --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    filename: str
    lineno: int
    function: str
    in_app: bool

    @property
    def module_path(self) -> str:
        """The last two path components: stable across checkouts and deployments."""
        parts = self.filename.replace("\\", "/").rsplit("/", 2)
        return "/".join(parts[-2:])


def last_block(stack_trace: str) -> str:
    """The traceback of the exception that was raised (chained causes come before it)."""
    matches = list(_CHAIN.finditer(stack_trace))
    return stack_trace[matches[-1].end() :] if matches else stack_trace


def parse_frames(stack_trace: str, not_in_app: Sequence[str] = DEFAULT_NOT_IN_APP) -> list[Frame]:
    """Frames of the raised exception in a Python traceback text, outermost first."""
    return [
        Frame(m["file"], int(m["line"]), m["func"], not any(marker in m["file"] for marker in not_in_app))
        for m in _FRAME.finditer(last_block(stack_trace))
    ]


def normalise_message(message: str) -> str:
    """``message`` with its variable parts replaced: ``order 42 for 'bob'`` -> ``order <*> for <*>``.

    Every kind of id becomes the same placeholder: one id may be a number in one request and a
    UUID in the next, and that must not split a group.
    """
    text = message[:MAX_MESSAGE_CHARS]
    for pattern in _VARIABLE_PARTS:
        text = pattern.sub(VARIABLE, text)
    return " ".join(_RUNS.sub(VARIABLE, text).split())


def short_type(error_type: str) -> str:
    """``pkg.mod.ValueError`` and ``ValueError`` name the same class for grouping (sources differ)."""
    return error_type.rsplit(".", 1)[-1] or "Error"


def default_fingerprint(error_type: str, frames: Sequence[Frame], message: str) -> tuple[str, ...]:
    """Type plus in-app frames (all frames if none is in-app); type plus normalised message without frames."""
    chosen = [f for f in frames if f.in_app] or list(frames)
    if chosen:
        return (short_type(error_type), *(f"{f.module_path}:{f.function}" for f in chosen[-MAX_FINGERPRINT_FRAMES:]))
    return (short_type(error_type), normalise_message(message))


def expand_fingerprint(override: Sequence[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A caller's fingerprint, with ``{{ default }}`` replaced by the computed parts."""
    if not override:
        return default
    parts: list[str] = []
    for part in override:
        if part == DEFAULT_TOKEN:
            parts.extend(default)
        else:
            parts.append(clean_text(str(part), MAX_ID_CHARS))
    return tuple(parts)


def group_id(fingerprint: Iterable[str]) -> str:
    """A stable 16-hex-digit id of a fingerprint (the same in every process and release)."""
    digest = hashlib.sha256("\x1f".join(fingerprint).encode("utf-8", "backslashreplace"))
    return digest.hexdigest()[:16]


# -- occurrences and groups ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One observed error, its text already bounded (see :func:`clean_text`)."""

    event_id: str
    error_type: str
    message: str
    stack_trace: str
    timestamp: float
    severity: str = "error"
    source: str = "api"
    trace_id: str | None = None
    span_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    fingerprint: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Grouping:
    """Where an occurrence belongs: its group id, fingerprint and parsed frames."""

    group_id: str
    fingerprint: tuple[str, ...]
    frames: tuple[Frame, ...]


@dataclass
class ErrorGroup:
    """The state of one group: counts, times, affected users (bounded), release, environment, status."""

    id: str
    fingerprint: tuple[str, ...]
    error_type: str
    title: str
    culprit: str
    stack_trace: str
    first_seen: float
    last_seen: float
    count: int = 0
    users: set[str] = field(default_factory=set)
    release: str | None = None
    environment: str | None = None
    status: str = "unresolved"
    resolved_at: float | None = None
    # since the last drain (what the store adds to its totals)
    pending_count: int = 0
    pending_users: set[str] = field(default_factory=set)
    # spike detection
    window_index: int = -1
    window_count: int = 0
    windows_closed: int = 0
    baseline: float = 0.0
    spiking: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    group: ErrorGroup
    occurrence: Occurrence
    grouping: Grouping
    new: bool = False
    regression: bool = False
    spike: bool = False
    duplicate: bool = False


@dataclass(frozen=True)
class SpikeRule:
    """A spike: at least ``min_count`` errors in one window and ``factor`` times the usual rate."""

    window_s: float = 60.0
    factor: float = 5.0
    min_count: int = 10
    smoothing: float = 0.3  # weight of the latest closed window in the usual rate


class ErrorEngine:
    """Groups occurrences; bounded in groups, users per group and remembered duplicates."""

    def __init__(
        self,
        *,
        clock: Clock,
        release: str | None = None,
        environment: str | None = None,
        max_groups: int = 10_000,
        max_users: int = 100,
        dedup_size: int = 4096,
        ignore: Sequence[str] = (),
        not_in_app: Sequence[str] = DEFAULT_NOT_IN_APP,
        spike: SpikeRule | None = None,
    ) -> None:
        self.clock = clock
        self.release = release
        self.environment = environment
        self.max_groups = max_groups
        self.max_users = max_users
        self.dedup_size = dedup_size
        self.ignore = frozenset(ignore)
        self.not_in_app = tuple(not_in_app)
        self.spike = spike or SpikeRule()
        self._groups: OrderedDict[str, ErrorGroup] = OrderedDict()
        self._seen: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    # -- grouping -----------------------------------------------------------------------------

    def ignored(self, occurrence: Occurrence) -> bool:
        return occurrence.error_type in self.ignore or short_type(occurrence.error_type) in self.ignore

    def classify(self, occurrence: Occurrence) -> Grouping:
        frames = tuple(parse_frames(occurrence.stack_trace, self.not_in_app))
        default = default_fingerprint(occurrence.error_type, frames, occurrence.message)
        fingerprint = expand_fingerprint(occurrence.fingerprint, default)
        return Grouping(group_id(fingerprint), fingerprint, frames)

    # -- state ----------------------------------------------------------------------------------

    def known(self, gid: str) -> bool:
        return gid in self._groups

    def group(self, gid: str) -> ErrorGroup | None:
        return self._groups.get(gid)

    def groups(self) -> list[ErrorGroup]:
        """Every group held in memory, most recently seen last."""
        return list(self._groups.values())

    def adopt(self, state: ErrorGroup) -> None:
        """Take a group known from elsewhere (the store) so it is not reported as new."""
        if state.id not in self._groups:
            self._groups[state.id] = state
            self._evict()

    def resolve(self, gid: str, at: float | None = None) -> bool:
        """Mark a group resolved; its next occurrence is a regression. False if unknown."""
        group = self._groups.get(gid)
        if group is None:
            return False
        group.status = "resolved"
        group.resolved_at = self.clock() if at is None else at
        return True

    def record(self, occurrence: Occurrence, grouping: Grouping | None = None) -> Outcome | None:
        """Count ``occurrence`` in its group; None when its type is ignored."""
        if self.ignored(occurrence):
            return None
        grouping = grouping or self.classify(occurrence)
        existing = self._groups.get(grouping.group_id)
        if self._duplicate(occurrence, grouping) and existing is not None:
            self._add_user(existing, occurrence.user_id)
            return Outcome(existing, occurrence, grouping, duplicate=True)
        new = existing is None
        group = existing or self._create(occurrence, grouping)
        self._groups.move_to_end(group.id)
        regression = group.status == "resolved"
        if regression:
            group.status, group.resolved_at = "unresolved", None
        group.count += 1
        group.pending_count += 1
        group.first_seen = min(group.first_seen, occurrence.timestamp)
        group.last_seen = max(group.last_seen, occurrence.timestamp)
        self._add_user(group, occurrence.user_id)
        group.release = self.release or group.release
        group.environment = self.environment or group.environment
        spike = self._spike(group, occurrence.timestamp)
        if new:
            self._evict()
        return Outcome(group, occurrence, grouping, new=new, regression=regression, spike=spike)

    def drain_pending(self) -> list[tuple[ErrorGroup, int, set[str]]]:
        """Groups counted since the last drain with their added count and users; resets them."""
        drained: list[tuple[ErrorGroup, int, set[str]]] = []
        for group in self._groups.values():
            if group.pending_count or group.pending_users:
                drained.append((group, group.pending_count, group.pending_users))
                group.pending_count, group.pending_users = 0, set()
        return drained

    def _create(self, occurrence: Occurrence, grouping: Grouping) -> ErrorGroup:
        in_app = [f for f in grouping.frames if f.in_app] or list(grouping.frames)
        culprit = f"{in_app[-1].function} ({in_app[-1].module_path})" if in_app else ""
        first_line = occurrence.message.splitlines()[0] if occurrence.message else ""
        group = ErrorGroup(
            id=grouping.group_id,
            fingerprint=grouping.fingerprint,
            error_type=occurrence.error_type,
            title=clean_text(f"{occurrence.error_type}: {first_line}" if first_line else occurrence.error_type, 200),
            culprit=culprit,
            stack_trace=occurrence.stack_trace,
            first_seen=occurrence.timestamp,
            last_seen=occurrence.timestamp,
        )
        self._groups[group.id] = group
        return group

    def _evict(self) -> None:
        while len(self._groups) > self.max_groups:
            self._groups.popitem(last=False)  # the least recently seen; the store keeps its totals

    def _add_user(self, group: ErrorGroup, user: str | None) -> None:
        if user and user not in group.users and len(group.users) < self.max_users:
            group.users.add(user)
            group.pending_users.add(user)

    def _duplicate(self, occurrence: Occurrence, grouping: Grouping) -> bool:
        """Seen already in this trace (same type and raise point); remembers it otherwise."""
        if not occurrence.trace_id:
            return False
        where = grouping.frames[-1] if grouping.frames else None
        point = f"{where.filename}:{where.lineno}" if where else normalise_message(occurrence.message)
        key = (occurrence.trace_id, short_type(occurrence.error_type), point)
        if key in self._seen:
            return True
        self._seen[key] = grouping.group_id
        if len(self._seen) > self.dedup_size:
            self._seen.popitem(last=False)
        return False

    def _spike(self, group: ErrorGroup, at: float) -> bool:
        """True once when the current window's count first crosses the spike rule."""
        rule = self.spike
        index = math.floor(at / rule.window_s)
        if group.window_index < 0:
            group.window_index = index
        elif index > group.window_index:
            closed = index - group.window_index
            group.baseline = rule.smoothing * group.window_count + (1 - rule.smoothing) * group.baseline
            group.baseline *= (1 - rule.smoothing) ** (closed - 1)  # empty windows in between
            group.windows_closed += closed
            group.window_index, group.window_count, group.spiking = index, 0, False
        group.window_count += 1
        if group.spiking or group.windows_closed == 0:
            return False
        if group.window_count >= max(rule.min_count, rule.factor * group.baseline):
            group.spiking = True
            return True
        return False
