"""Small helpers shared by CLI commands."""

from __future__ import annotations

import json
import math
import re
import socket
import sys
from collections.abc import Mapping
from typing import Any


def free_port() -> int:
    """A TCP port free on loopback right now (another process may still take it before use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def progress(message: str) -> None:
    """Progress goes to stderr so ``--json`` output on stdout stays parseable."""
    print(f"[ricecoder-otel] {message}", file=sys.stderr, flush=True)


def print_json(data: Any, *, compact: bool = False) -> None:
    """Print ``data`` as strict JSON (RFC 8259), the one way every command writes ``--json``.

    Python's default writes ``NaN`` and ``Infinity``, which jq, browsers and most parsers reject:
    non-finite floats become ``null``, anywhere in the tree. Unknown objects become strings.
    ``compact`` drops the indentation for long outputs (one score per CSV row).
    """
    text = json.dumps(
        json_safe(data),
        indent=None if compact else 2,
        separators=(",", ":") if compact else None,
        sort_keys=True,
        default=str,
        allow_nan=False,
    )
    print(text)


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats replaced by ``None`` and keys made strings, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {_json_key(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return value


def _json_key(key: Any) -> str:
    """The key json.dumps would write (``true``, ``1.5``), so mixed keys still sort."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(json_safe(key))
    return str(key)


# C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides: anything that
# moves the cursor, rewrites the screen or reorders what a reader sees.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters shown as escapes (``\\x1b``, ``\\n``).

    Stored telemetry comes from any client, so a span name with ``ESC[2J`` must show as text,
    not clear the screen of the person reading it.
    """
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return match[0].encode("unicode_escape").decode("ascii")
