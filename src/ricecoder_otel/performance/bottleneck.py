"""Where a request's time goes: self time per kind of work, from the spans of its trace (pure).

Each instant of a request is attributed to the spans running their own code at that instant
(open, with no open child), split equally when several run concurrently, so the categories add
up to the request's duration and concurrent calls are not counted twice. Categories:
``database`` (spans with ``db.system``/``db.system.name``), ``http_client``
(CLIENT spans of an HTTP call), ``template`` (template rendering: jinja2/django/mako spans, or a
``PerformanceTimer`` labelled ``category=template``) and ``own_code`` (the server span itself and
every other span).

Per route the breakdowns of its requests add up (:class:`Breakdown`), and :func:`compare` says
which category grew when the route's mean latency grew between a baseline and a recent period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

DATABASE = "database"
HTTP_CLIENT = "http_client"
TEMPLATE = "template"
OWN_CODE = "own_code"
CATEGORIES: tuple[str, ...] = (DATABASE, HTTP_CLIENT, TEMPLATE, OWN_CODE)
GROWTH_THRESHOLD = 0.10
"""A route's latency "grew" when its mean rose by more than this share of the baseline mean."""

_TEMPLATE_PREFIXES = ("jinja2.", "django.template", "mako.", "render_template", "template.")


def categorize(kind: str, name: str, attributes: Mapping[str, object], scope: str = "") -> str:
    """The category of a span from its kind (``SERVER``, ``CLIENT``, ...), name, attributes and scope."""
    if "db.system" in attributes or "db.system.name" in attributes:
        return DATABASE
    if attributes.get("ricecoder.perf.category") == TEMPLATE or attributes.get("category") == TEMPLATE:
        return TEMPLATE
    if "jinja2" in scope or "template" in scope or name.startswith(_TEMPLATE_PREFIXES):
        return TEMPLATE
    if kind == "CLIENT" and ("http.request.method" in attributes or "http.method" in attributes):
        return HTTP_CLIENT
    return OWN_CODE


class SpanFacts(NamedTuple):
    """The few facts about one span that attribution needs (a named tuple: one is built per span)."""

    span_id: int
    parent_id: int | None
    category: str
    start_ns: int
    end_ns: int


def self_times(root: SpanFacts, spans: Iterable[SpanFacts]) -> dict[str, int]:
    """Nanoseconds of ``root``'s duration per category (``spans`` may include spans of other subtrees).

    Each instant of the request belongs to the spans running their own code then (open, with no
    open child); when several run at once (concurrent calls) the instant is split equally among
    them. So the categories add up to the root's duration, and overlapping calls are not counted
    twice. Children are clipped to their parent. One sweep: O(n log n) in the subtree's spans.
    """
    children: dict[int, list[SpanFacts]] = {}
    for span in spans:
        if span.parent_id is not None and span.span_id != root.span_id:
            children.setdefault(span.parent_id, []).append(span)
    if root.span_id not in children:  # a request with no child spans: all its own
        alone = dict.fromkeys(CATEGORIES, 0)
        alone[root.category if root.category in alone else OWN_CODE] = max(0, root.end_ns - root.start_ns)
        return alone
    # (start, end, category, parent index) per span of the subtree, clipped to its parent.
    nodes: list[tuple[int, int, str, int]] = [(root.start_ns, root.end_ns, root.category, -1)]
    depth = [0]
    seen = {root.span_id}
    stack = [(root, 0)]
    while stack:
        span, index = stack.pop()
        low, high = nodes[index][0], nodes[index][1]
        for kid in children.get(span.span_id, ()):
            if kid.span_id in seen:
                continue
            seen.add(kid.span_id)
            start, end = max(low, kid.start_ns), min(high, kid.end_ns)
            if end <= start:
                continue
            nodes.append((start, end, kid.category, index))
            depth.append(depth[index] + 1)
            stack.append((kid, len(nodes) - 1))
    # Ends before starts at one instant; parents start before and end after their children.
    events = sorted(
        [(n[0], 1, depth[i], i) for i, n in enumerate(nodes) if n[1] > n[0]]
        + [(n[1], 0, -depth[i], i) for i, n in enumerate(nodes) if n[1] > n[0]]
    )
    totals = dict.fromkeys(CATEGORIES, 0.0)
    open_children = [0] * len(nodes)
    running: set[int] = set()
    is_open = [False] * len(nodes)
    previous = events[0][0] if events else 0
    for time_ns, starting, _, i in events:
        if running and time_ns > previous:
            share = (time_ns - previous) / len(running)
            for r in running:
                category = nodes[r][2]
                totals[category if category in totals else OWN_CODE] += share
        previous = time_ns
        parent = nodes[i][3]
        if starting:
            is_open[i] = True
            running.add(i)
            if parent >= 0 and is_open[parent]:
                open_children[parent] += 1
                running.discard(parent)
        else:
            is_open[i] = False
            running.discard(i)
            if parent >= 0 and is_open[parent]:
                open_children[parent] -= 1
                if open_children[parent] == 0:
                    running.add(parent)
    return {category: round(ns) for category, ns in totals.items()}


@dataclass
class Breakdown:
    """Requests of one route: how many, their total latency and total self time per category (seconds)."""

    count: int = 0
    total_s: float = 0.0
    by_category: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0.0))

    def add(self, duration_s: float, self_ns: Mapping[str, int]) -> None:
        self.count += 1
        self.total_s += duration_s
        for category, ns in self_ns.items():
            self.by_category[category] = self.by_category.get(category, 0.0) + ns / 1e9

    def merge(self, other: Breakdown) -> None:
        self.count += other.count
        self.total_s += other.total_s
        for category, seconds in other.by_category.items():
            self.by_category[category] = self.by_category.get(category, 0.0) + seconds

    @property
    def mean_s(self) -> float:
        return self.total_s / self.count if self.count else 0.0

    def shares(self) -> dict[str, float]:
        """Each category's share of the attributed time (0..1, adding up to 1 when anything was attributed)."""
        attributed = sum(self.by_category.values())
        return {c: (self.by_category.get(c, 0.0) / attributed if attributed > 0 else 0.0) for c in CATEGORIES}

    def mean_by_category(self) -> dict[str, float]:
        return {c: (self.by_category.get(c, 0.0) / self.count if self.count else 0.0) for c in CATEGORIES}

    def top(self) -> str | None:
        """The category taking the most time (None when nothing was attributed)."""
        shares = self.shares()
        best = max(CATEGORIES, key=lambda c: shares[c])
        return best if shares[best] > 0 else None


@dataclass(frozen=True)
class Growth:
    """The route got slower: by how much (seconds of mean latency) and which category grew most."""

    baseline_mean_s: float
    recent_mean_s: float
    category: str
    category_delta_s: float

    @property
    def ratio(self) -> float:
        return self.recent_mean_s / self.baseline_mean_s if self.baseline_mean_s > 0 else float("inf")


def compare(baseline: Breakdown, recent: Breakdown, threshold: float = GROWTH_THRESHOLD) -> Growth | None:
    """Which category's mean self time grew most, when the mean latency grew by more than ``threshold``."""
    if baseline.count == 0 or recent.count == 0:
        return None
    if recent.mean_s <= baseline.mean_s * (1.0 + threshold):
        return None
    before, after = baseline.mean_by_category(), recent.mean_by_category()
    category = max(CATEGORIES, key=lambda c: after[c] - before[c])
    return Growth(baseline.mean_s, recent.mean_s, category, after[category] - before[category])
