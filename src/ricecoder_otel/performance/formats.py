"""Profile formats: collapsed stacks (stored), speedscope JSON and a flame graph SVG (pure).

Collapsed stacks are Brendan Gregg's text form (``root;...;leaf count`` per line), what
flamegraph.pl, speedscope and inferno read. Speedscope's file format is its documented
``https://www.speedscope.app/file-format-schema.json`` (one ``sampled`` profile, weights in
samples). The SVG is self-contained: one rectangle per frame, widths proportional to samples,
root at the bottom, a ``<title>`` per frame with its samples and share.
"""

from __future__ import annotations

import html
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"


class ProfileFormatError(ValueError):
    """A collapsed-stack line that cannot be read; the message names the line."""


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """``(frames root to leaf, count)`` per line; blank lines are skipped."""
    stacks: list[tuple[list[str], int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        stack, _, count = line.rstrip().rpartition(" ")
        try:
            samples = int(count)
        except ValueError:
            raise ProfileFormatError(f"line {number}: expected 'frame;frame;... COUNT', got {line[:80]!r}") from None
        if samples < 0 or not stack:
            raise ProfileFormatError(f"line {number}: expected 'frame;frame;... COUNT', got {line[:80]!r}")
        stacks.append((stack.split(";"), samples))
    return stacks


def self_samples(stacks: Iterable[tuple[list[str], int]]) -> dict[str, int]:
    """Samples per leaf frame (where the time was spent), hottest first."""
    totals: dict[str, int] = {}
    for frames, n in stacks:
        totals[frames[-1]] = totals.get(frames[-1], 0) + n
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def speedscope(stacks: list[tuple[list[str], int]], name: str, rate_hz: float) -> dict[str, Any]:
    """A speedscope file with one sampled profile (unit: seconds at ``rate_hz``)."""
    index: dict[str, int] = {}
    frames: list[dict[str, str]] = []
    samples: list[list[int]] = []
    weights: list[float] = []
    for stack, n in stacks:
        ids = []
        for label in stack:
            if label not in index:
                index[label] = len(frames)
                where, _, function = label.rpartition(":")
                frames.append({"name": function or label, "file": where} if where else {"name": label})
            ids.append(index[label])
        samples.append(ids)
        weights.append(n / rate_hz)
    total = sum(weights)
    return {
        "$schema": SPEEDSCOPE_SCHEMA,
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "seconds",
                "startValue": 0,
                "endValue": total,
                "samples": samples,
                "weights": weights,
            }
        ],
        "name": name,
        "exporter": "ricecoder-otel",
        "activeProfileIndex": 0,
    }


@dataclass
class _Node:
    name: str
    value: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


ROW_HEIGHT = 17
WIDTH = 1200


def flame_graph_svg(stacks: list[tuple[list[str], int]], title: str) -> str:
    """A self-contained flame graph; frames narrower than a pixel are left out."""
    root = _Node("all")
    for frames, n in stacks:
        root.value += n
        node = root
        for label in frames:
            node = node.children.setdefault(label, _Node(label))
            node.value += n
    depth = _depth(root)
    height = (depth + 2) * ROW_HEIGHT + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="11">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="6" y="14">{html.escape(title)} ({root.value} samples)</text>',
    ]
    total = max(root.value, 1)
    _draw(root, 0.0, 0, depth, total, parts)
    parts.append("</svg>")
    return "\n".join(parts)


def _depth(node: _Node) -> int:
    return 1 + max((_depth(c) for c in node.children.values()), default=0)


def _draw(node: _Node, x: float, level: int, depth: int, total: int, out: list[str]) -> None:
    width = WIDTH * node.value / total
    if width < 1.0:
        return
    y = 20 + (depth - level) * ROW_HEIGHT
    share = 100.0 * node.value / total
    hue = 20 + zlib.crc32(node.name.encode()) % 40  # stable colours across runs
    name = html.escape(node.name)
    out.append(
        f"<g><title>{name} ({node.value} samples, {share:.1f}%)</title>"
        f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW_HEIGHT - 1}" '
        f'fill="hsl({hue},85%,60%)" data-frame="{name}" data-samples="{node.value}"/>'
    )
    if width > 40:
        shown = html.escape(node.name[: int(width / 7)])
        out.append(f'<text x="{x + 3:.1f}" y="{y + 12}">{shown}</text></g>')
    else:
        out.append("</g>")
    child_x = x
    for child in sorted(node.children.values(), key=lambda c: c.name):
        _draw(child, child_x, level + 1, depth, total, out)
        child_x += WIDTH * child.value / total
