"""Reports as JSON, CSV, Markdown or self-contained HTML.

JSON is ``{"kind", "since", "until", "columns": [{"name", "type", "description"}], "rows": [...],
"notes"}``: ``pandas.DataFrame(doc["rows"])`` or DuckDB's ``read_json`` load the rows directly.
CSV has a header of the column names and one line per row; an empty cell is a missing number.
Every value written to HTML is escaped.
"""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any

from ricecoder_otel.analytics.reports import Report

FORMATS = ("json", "csv", "md", "html")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        return to_csv(report)
    if fmt == "md":
        return to_markdown(report)
    if fmt == "html":
        return to_html(report)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [c.name for c in report.columns]
    writer.writerow(names)
    for row in report.rows:
        writer.writerow([_cell(row.get(name)) for name in names])
    return out.getvalue()


def to_markdown(report: Report) -> str:
    names = [c.name for c in report.columns]
    lines = [f"## {report.kind} ({report.as_dict()['since']} to {report.as_dict()['until']})", ""]
    lines.append("| " + " | ".join(names) + " |")
    lines.append("|" + "|".join(" ---: " if c.type in ("integer", "number") else " --- " for c in report.columns) + "|")
    for row in report.rows:
        lines.append("| " + " | ".join(_cell(row.get(n)).replace("|", "\\|") for n in names) + " |")
    lines += [f"\n_{note}_" for note in report.notes]
    return "\n".join(lines) + "\n"


def to_html(report: Report) -> str:
    head = "".join(f'<th title="{html.escape(c.description)}">{html.escape(c.name)}</th>' for c in report.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c.name)))}</td>" for c in report.columns) + "</tr>"
        for row in report.rows
    )
    meta = report.as_dict()
    title = html.escape(f"{report.kind} report, {meta['since']} to {meta['until']}")
    notes = "".join(f"<p>{html.escape(note)}</p>" for note in report.notes)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;"
        f"padding:2px 6px}}</style></head><body><h1>{title}</h1>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}</body></html>\n"
    )
