"""Read dashboard documents from YAML or JSON files, with the file line of every problem."""

from __future__ import annotations

from pathlib import Path

from ricecoder_otel.config.paths import format_path
from ricecoder_otel.config.yaml_source import parse_yaml
from ricecoder_otel.dashboards.model import Dashboard, DashboardError, Problem, check_document

MAX_FILE_BYTES = 4 * 1024 * 1024
SUFFIXES = (".yaml", ".yml", ".json")


def check_file(path: Path) -> tuple[Dashboard | None, list[Problem]]:
    """Parse and check ``path`` (JSON is read as the YAML subset it is): the dashboard and its problems."""
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        return None, [Problem(path="", message=f"cannot read {path}: {exc.strerror or type(exc).__name__}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(path="", message=f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; not a dashboard")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(path="", message=f"not UTF-8 text (invalid byte at offset {exc.start})")]
    doc = parse_yaml(text, str(path))
    if doc.problems:
        return None, [Problem(path=p.path, message=f"{p.source}: {p.message}" if p.source else p.message)
                      for p in doc.problems]  # fmt: skip
    dashboard, problems = check_document(doc.data)
    lines = {format_path(loc): line for loc, line in doc.lines.items()}
    return dashboard, [p.model_copy(update={"line": _line_of(p.path, lines)}) for p in problems]


def load_file(path: Path) -> Dashboard:
    """The dashboard in ``path``; raises :class:`DashboardError` listing every error (warnings pass)."""
    dashboard, problems = check_file(path)
    errors = [p for p in problems if p.severity == "error"]
    if dashboard is None or errors:
        raise DashboardError(str(path), errors or problems)
    return dashboard


def _line_of(path: str, lines: dict[str, int]) -> int | None:
    """The line of ``path`` or of its nearest parent that has one."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
