"""``ricecoder-otel anomaly eval FILE.csv``: run the default detector over a CSV series.

Prints the episodes and scores as a table (or JSON with ``--json``). Rows that cannot be read
are reported with their row number on stderr and skipped; the rest of the file is still scored.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ricecoder_otel.anomaly import Episode, create_detector
from ricecoder_otel.cli._util import print_json, printable

_PROGRESS_EVERY = 100_000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("anomaly", help="streaming anomaly detection tools")
    sub = parser.add_subparsers(dest="anomaly_command", metavar="ACTION")
    sub.required = True
    ev = sub.add_parser("eval", help="run the default detector over a CSV of (timestamp, value)")
    ev.add_argument("file", type=Path, help="CSV file; a header row names the columns")
    ev.add_argument("--column", default="value", help="value column name, or 1-based index (default: value)")
    ev.add_argument(
        "--timestamp-column",
        default="timestamp",
        help="timestamp column name, or 1-based index (default: timestamp); epoch seconds or ISO 8601",
    )
    ev.add_argument("--json", action="store_true", help="machine-readable output")
    ev.add_argument("--scores", action="store_true", help="also list every point's score in the table")
    ev.set_defaults(func=run_eval)


@dataclass
class EvalResult:
    """What one CSV gave: points, empty values, skipped rows, every score, and the episodes."""

    points: int = 0
    missing: int = 0
    bad_rows: list[dict[str, Any]] = field(default_factory=list)
    scores: list[tuple[float, float | None, float]] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)


class InputError(Exception):
    """A problem with the whole input (file or columns), not one row."""


def _column_index(header: list[str] | None, spec: str, what: str, default: int) -> int:
    names = [h.strip() for h in header] if header else []
    if spec.isdigit():
        idx = int(spec) - 1
        width = len(names) if header else None
        if idx < 0 or (width is not None and idx >= width):
            raise InputError(f"{what} column {spec} is out of range (the file has {width} columns)")
        return idx
    if header is None:
        return default
    if spec in names:
        return names.index(spec)
    raise InputError(f"{what} column {spec!r} not found; columns are: {', '.join(names)}")


def _parse_time(raw: str) -> float:
    raw = raw.strip()
    try:
        return float(raw)
    except ValueError:
        pass
    ts = datetime.fromisoformat(raw)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def _looks_like_header(row: list[str]) -> bool:
    for cell in row:
        try:
            _parse_time(cell)
        except ValueError:
            return True
    return False


def evaluate_csv(path: Path, column: str, ts_column: str, progress: TextIO | None = None) -> EvalResult:
    """Score every row; raises InputError for a missing file or column."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    result = EvalResult()
    detector = create_detector()
    opening: Episode | None = None  # the latest opening report, shown if the file ends mid-episode
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if first is None:
            raise InputError(f"{path}: the file is empty")
        header = first if _looks_like_header(first) else None
        t_idx = _column_index(header, ts_column, "timestamp", 0)
        v_idx = _column_index(header, column, "value", 1)
        rows = reader if header else itertools.chain([first], reader)
        for number, row in enumerate(rows, start=2 if header else 1):
            if not row or all(not c.strip() for c in row):
                continue
            if max(t_idx, v_idx) >= len(row):
                result.bad_rows.append(
                    {"row": number, "error": f"expected at least {max(t_idx, v_idx) + 1} columns, got {len(row)}"}
                )
                continue
            try:
                t = _parse_time(row[t_idx])
            except ValueError:
                result.bad_rows.append({"row": number, "error": f"bad timestamp {row[t_idx]!r}"})
                continue
            raw = row[v_idx].strip()
            value: float | None
            if raw == "":
                value = None
                result.missing += 1
            else:
                try:
                    value = float(raw)
                except ValueError:
                    result.bad_rows.append({"row": number, "error": f"bad value {raw!r}"})
                    continue
            score = detector.update(t, value)
            result.points += 1
            result.scores.append((t, value, score))
            if detector.has_reports:
                for ep in detector.drain_episodes():
                    if ep.is_open:
                        opening = ep
                    else:
                        result.episodes.append(ep)
            if progress is not None and result.points % _PROGRESS_EVERY == 0:
                print(f"... {result.points} points", file=progress)
    if detector.in_episode and opening is not None:  # an episode still open at the end of the file
        result.episodes.append(opening)
    return result


def _iso(t: float | None) -> str:
    return "open" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _table(result: EvalResult, with_scores: bool) -> str:
    lines = [
        f"{result.points} points scored, {result.missing} missing values, "
        f"{len(result.bad_rows)} bad rows skipped, {len(result.episodes)} episodes"
    ]
    if result.scores:
        peak = max(result.scores, key=lambda r: r[2])
        high = sum(1 for r in result.scores if r[2] >= 0.5)
        lines.append(f"max score {peak[2]:.3f} at {_iso(peak[0])}; {high} points with score >= 0.5")
    if result.episodes:
        head = ("kind", "onset", "end", "peak", "observed", "expected (low..high)")
        rows = [
            (
                ep.kind,
                _iso(ep.onset),
                _iso(ep.end),
                f"{ep.peak_score:.3f}",
                f"{ep.observed:.6g}",
                f"{ep.expected:.6g} ({ep.expected_low:.6g}..{ep.expected_high:.6g})",
            )
            for ep in result.episodes
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        lines.append("")
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    if with_scores:
        lines += ["", "timestamp            value         score"]
        lines += [f"{_iso(t)}  {'' if v is None else f'{v:.6g}':12s}  {s:.3f}" for t, v, s in result.scores]
    return "\n".join(printable(line) for line in lines)


def run_eval(args: argparse.Namespace) -> int:
    progress = sys.stderr if sys.stderr.isatty() else None
    try:
        result = evaluate_csv(args.file, args.column, args.timestamp_column, progress)
    except InputError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"error: cannot read {printable(str(args.file))}: {printable(str(exc))}", file=sys.stderr)
        return 2
    for bad in result.bad_rows:
        print(f"warning: row {bad['row']}: {printable(bad['error'])} (skipped)", file=sys.stderr)
    if args.json:
        # Compact: one score per row makes long files long. NaN/inf in the CSV become null.
        print_json(
            {
                "file": str(args.file),
                "points": result.points,
                "missing": result.missing,
                "bad_rows": result.bad_rows,
                "episodes": [ep.to_dict() for ep in result.episodes],
                "scores": [{"timestamp": t, "value": v, "score": round(s, 4)} for t, v, s in result.scores],
            },
            compact=True,
        )
    else:
        print(_table(result, args.scores))
    return 0
