"""HTML pages of a dashboard: a self-contained export file, and the live page the server sends.

Both carry the snapshot as JSON in ``<script type="application/json">`` (``<``, ``>`` and ``&``
escaped, so no stored value can close the tag) and the same renderer (``static/dashboard.js``),
which puts every string on the page with ``textContent``. The export inlines uPlot, its CSS and
the renderer, and its Content-Security-Policy allows exactly those two scripts (by hash) and no
network at all: it renders offline, mailed or attached to a report. The title is the only
document text in the markup itself, HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from importlib import resources
from typing import Any

STATIC_FILES = {
    "uplot.iife.min.js": "text/javascript; charset=utf-8",
    "uplot.min.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
UPLOT_VERSION = "1.6.32"


@cache
def static_text(name: str) -> str:
    """A vendored or own static file shipped in the package."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return resources.files("ricecoder_otel.dashboards").joinpath(f"static/{name}").read_text(encoding="utf-8")


def json_for_script(data: Any) -> str:
    """Strict JSON safe inside a ``<script>`` element: no ``</script>``, ``<!--`` or entity can form."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
    return (
        text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )  # fmt: skip


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{csp}<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ricecoder-otel (uPlot {uplot})">
<title>{title}</title>
{styles}
</head>
<body{body_attrs}>
<header id="rc-header"></header>
<div id="rc-status"><span id="rc-live" class="live">{mode}</span><span id="rc-notes"></span></div>
<main id="rc-grid"></main>
<script type="application/json" id="rc-snapshot">{snapshot}</script>
{scripts}
</body>
</html>
"""


def export_html(snapshot: dict[str, Any]) -> str:
    """One self-contained file: uPlot, the renderer, styles and data inlined; no network needed."""
    uplot, renderer = static_text("uplot.iife.min.js"), static_text("dashboard.js")
    csp = (
        "default-src 'none'; "
        f"script-src {_sha256(uplot)} {_sha256(renderer)}; "
        "style-src 'unsafe-inline'; img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )
    return _PAGE.format(
        csp=f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">\n',
        uplot=UPLOT_VERSION,
        title=html.escape(_title(snapshot)),
        styles=f"<style>{static_text('uplot.min.css')}</style>\n<style>{static_text('dashboard.css')}</style>",
        body_attrs=' class="export"',
        mode=html.escape(f"exported snapshot ({snapshot.get('generator', 'ricecoder-otel')})"),
        snapshot=json_for_script(snapshot),
        scripts=f"<script>{uplot}</script>\n<script>{renderer}</script>",
    )


def live_html(snapshot: dict[str, Any], stream_path: str) -> str:
    """The live page: scripts from ``/static/``, first data inlined, updates from ``stream_path`` (SSE)."""
    return _PAGE.format(
        csp="",  # sent as a header by the server
        uplot=UPLOT_VERSION,
        title=html.escape(_title(snapshot)),
        styles='<link rel="stylesheet" href="/static/uplot.min.css">\n'
        '<link rel="stylesheet" href="/static/dashboard.css">',
        body_attrs=f' class="live" data-stream="{html.escape(stream_path)}"',
        mode="connecting…",
        snapshot=json_for_script(snapshot),
        scripts='<script src="/static/uplot.iife.min.js"></script>\n<script src="/static/dashboard.js"></script>',
    )


LIVE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _title(snapshot: dict[str, Any]) -> str:
    return f"{snapshot['dashboard']['title']} · ricecoder-otel"
